import { z } from "zod";
import type { Backoff } from "../backoff.ts";
import type { Env } from "../env.ts";
import { NAME_PATTERN } from "../../contract/names.ts";
import { DEFAULT_ALLOWED_PORTS } from "../http/ssrf-guard.ts";
import { describeIssue } from "../http/validate.ts";
import { list, positiveNumber } from "../settings.ts";

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

const ALLOWED_PORTS = list("SCHEDULE_ALLOWED_PORTS", DEFAULT_ALLOWED_PORTS, "ports", (text) => {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
});
const MAX_ATTEMPTS = positiveNumber("SCHEDULE_MAX_ATTEMPTS", 5);
const RETRY_BASE_MS = positiveNumber("SCHEDULE_RETRY_BASE_MS", 2_000);
const RETRY_MAX_MS = positiveNumber("SCHEDULE_RETRY_MAX_MS", 300_000);
const MIN_INTERVAL_SECONDS = positiveNumber("SCHEDULE_MIN_INTERVAL_SECONDS", 60);
const TIMEOUT_MS = positiveNumber("SCHEDULE_TIMEOUT_MS", 10_000);
const RETENTION_DAYS = positiveNumber("SCHEDULE_RETENTION_DAYS", 7);
const MAX_PER_IP = positiveNumber("SCHEDULE_MAX_PER_IP", 20);
const MAX_PER_TARGET = positiveNumber("SCHEDULE_MAX_PER_TARGET", 1000);
const MAX_RUNS = positiveNumber("SCHEDULE_MAX_RUNS", 100);
const PLAIN_SETTINGS = [ALLOWED_PORTS, MAX_ATTEMPTS, RETRY_BASE_MS, RETRY_MAX_MS, MIN_INTERVAL_SECONDS, TIMEOUT_MS, RETENTION_DAYS, MAX_PER_IP, MAX_PER_TARGET, MAX_RUNS];

const cache = new Map<string, SchedulerSettings>();

export function schedulerSettings(env: Env): SchedulerSettings {
  const key = JSON.stringify([env.SCHEDULE_TARGETS, ...PLAIN_SETTINGS.map((setting) => env[setting.name])]);
  let settings = cache.get(key);
  if (!settings) {
    settings = {
      targets: parseTargets(env.SCHEDULE_TARGETS ?? DEFAULT_TARGETS),
      ports: new Set(ALLOWED_PORTS.read(env)),
      maxAttempts: MAX_ATTEMPTS.read(env),
      retry: { baseMs: RETRY_BASE_MS.read(env), maxMs: RETRY_MAX_MS.read(env), jitter: [0.5, 1] },
      minIntervalSeconds: MIN_INTERVAL_SECONDS.read(env),
      timeoutMs: TIMEOUT_MS.read(env),
      retentionMs: RETENTION_DAYS.read(env) * DAY_MS,
      maxPerIp: Math.floor(MAX_PER_IP.read(env)),
      maxPerTarget: Math.floor(MAX_PER_TARGET.read(env)),
      maxRuns: Math.floor(MAX_RUNS.read(env)),
    };
    cache.set(key, settings);
  }
  return settings;
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
