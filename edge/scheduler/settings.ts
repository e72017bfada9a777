import { z } from "zod";
import type { Backoff } from "../backoff.ts";
import type { Env } from "../env.ts";
import { NAME_PATTERN } from "../http/names.ts";
import { allowedPorts } from "../http/ssrf-guard.ts";
import { describeIssue } from "../http/validate.ts";

/**
 * Where a named target delivers: an owner-trusted URL (with extra headers), or a stream. A
 * stream target with `expiresAfter` creates its stream to expire that many seconds later; the
 * next delivery after that starts a fresh one, so the stream never holds more than that span.
 */
export type Target =
  | { kind: "url"; url: string; headers: Record<string, string> }
  | { kind: "stream"; stream: string; expiresAfter?: number };

const TargetSpec = z.union([
  z.url({ protocol: /^https?$/ }),
  z.object({ url: z.url({ protocol: /^https?$/ }), headers: z.record(z.string(), z.string()).optional() }).strict(),
  z.object({ stream: z.string().regex(NAME_PATTERN), expiresAfter: z.number().int().positive().optional() }).strict(),
]);
const TargetsSpec = z.record(z.string().regex(NAME_PATTERN), TargetSpec);

/**
 * The demo target: reminders appended to the `reminders` stream, which `<stream-feed>` can
 * show. Anyone may schedule to it, so its stream starts afresh every day instead of growing.
 */
export const DEFAULT_TARGETS = '{"reminders":{"stream":"reminders","expiresAfter":86400}}';

export interface SchedulerSettings {
  targets: Map<string, Target>;
  /** Ports a caller-given URL may use. */
  ports: Set<number>;
  /** Delivery attempts per occurrence, the first one included. */
  maxAttempts: number;
  /** The wait before each retry: doubling from SCHEDULE_RETRY_BASE_MS up to SCHEDULE_RETRY_MAX_MS, at least half of it fixed. */
  retry: Backoff;
  /** Shortest `every` a schedule may use. */
  minIntervalSeconds: number;
  /** Time allowed for one delivery attempt, redirects included. */
  timeoutMs: number;
  /** How long a finished schedule (and its runs) stays readable before it is deleted. */
  retentionMs: number;
  /** Live schedules one client IP may have (the admin's are not counted). */
  maxPerIp: number;
  /** Live schedules one target may have, from every IP together (the admin's are not counted). */
  maxPerTarget: number;
  /** Most runs of a repeating schedule made without the admin token, and its run count when it gives none. */
  maxRuns: number;
}

const DAY_MS = 24 * 3600 * 1000;
const cache = new Map<string, SchedulerSettings>();

export function schedulerSettings(env: Env): SchedulerSettings {
  const key = JSON.stringify([
    env.SCHEDULE_TARGETS,
    env.SCHEDULE_ALLOWED_PORTS,
    env.SCHEDULE_MAX_ATTEMPTS,
    env.SCHEDULE_RETRY_BASE_MS,
    env.SCHEDULE_RETRY_MAX_MS,
    env.SCHEDULE_MIN_INTERVAL_SECONDS,
    env.SCHEDULE_TIMEOUT_MS,
    env.SCHEDULE_RETENTION_DAYS,
    env.SCHEDULE_MAX_PER_IP,
    env.SCHEDULE_MAX_PER_TARGET,
    env.SCHEDULE_MAX_RUNS,
  ]);
  let settings = cache.get(key);
  if (!settings) {
    settings = {
      targets: parseTargets(env.SCHEDULE_TARGETS ?? DEFAULT_TARGETS),
      ports: allowedPorts(env.SCHEDULE_ALLOWED_PORTS),
      maxAttempts: positive(env.SCHEDULE_MAX_ATTEMPTS, 5),
      retry: { baseMs: positive(env.SCHEDULE_RETRY_BASE_MS, 2_000), maxMs: positive(env.SCHEDULE_RETRY_MAX_MS, 300_000), jitter: [0.5, 1] },
      minIntervalSeconds: positive(env.SCHEDULE_MIN_INTERVAL_SECONDS, 60),
      timeoutMs: positive(env.SCHEDULE_TIMEOUT_MS, 10_000),
      retentionMs: positive(env.SCHEDULE_RETENTION_DAYS, 7) * DAY_MS,
      maxPerIp: Math.floor(positive(env.SCHEDULE_MAX_PER_IP, 20)),
      maxPerTarget: Math.floor(positive(env.SCHEDULE_MAX_PER_TARGET, 1000)),
      maxRuns: Math.floor(positive(env.SCHEDULE_MAX_RUNS, 100)),
    };
    cache.set(key, settings);
  }
  return settings;
}

function positive(raw: string | undefined, fallback: number): number {
  const value = Number(raw);
  return raw !== undefined && raw.trim() !== "" && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** What is wrong with `SCHEDULE_TARGETS`, if anything: the Worker refuses to serve until it is fixed. */
export function targetsProblem(raw: string | undefined): string | undefined {
  const read = readTargets(raw ?? DEFAULT_TARGETS);
  return read.ok ? undefined : `SCHEDULE_TARGETS ${read.problem}`;
}

function readTargets(raw: string): { ok: true; data: z.infer<typeof TargetsSpec> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, problem: "is not valid JSON" };
  }
  const parsed = TargetsSpec.safeParse(json);
  return parsed.success ? { ok: true, data: parsed.data } : { ok: false, problem: `is not valid: ${describeIssue(parsed.error)}` };
}

function parseTargets(raw: string): Map<string, Target> {
  const parsed = readTargets(raw);
  if (!parsed.ok) return new Map();
  const targets = new Map<string, Target>();
  for (const [name, spec] of Object.entries(parsed.data)) {
    if (typeof spec === "string") targets.set(name, { kind: "url", url: spec, headers: {} });
    else if ("stream" in spec) targets.set(name, { kind: "stream", stream: spec.stream, ...(spec.expiresAfter !== undefined && { expiresAfter: spec.expiresAfter }) });
    else targets.set(name, { kind: "url", url: spec.url, headers: spec.headers ?? {} });
  }
  return targets;
}

/** The longest an occurrence can take from its due time to its last attempt's end. */
export const retryWindowMs = (settings: SchedulerSettings) => settings.maxAttempts * (settings.timeoutMs + settings.retry.maxMs);
