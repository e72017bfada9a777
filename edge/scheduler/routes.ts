import { base64url } from "jose";
import { z } from "zod";
import type { Env } from "../env.ts";
import { admin, bearerToken, isAdminGuess, isAdminRequest, isAdminToken } from "../http/admin.ts";
import { Refusal, badRequest, isCarried, notFound, unwrap } from "../http/refusal.ts";
import { NAME_PATTERN } from "../../contract/names.ts";
import { readJson } from "../http/validate.ts";
import { limitRate } from "../rate-limiter/rate-limiter.ts";
import type { Handler, Routes } from "../router.ts";
import { SCHEDULE_STATES, type Caller, type CreateResult, type ListFilter, type NewSchedule, type RunView, type ScheduleState, type ScheduleView } from "./scheduler.ts";
import { checkUrl } from "../http/ssrf-guard.ts";
import { clientIp } from "../http/client-ip.ts";
import { holdPlaces, releasePlaces, type Holder } from "./quotas.ts";
import { retryWindowMs, schedulerSettings } from "./settings.ts";
import { checkCron, cronRunsCloserThan, firstOccurrence, isTimeZone, lastOccurrenceBy, type End, type Timing } from "./timing.ts";

/**
 * Schedules are spread over a fixed number of Scheduler objects (shards). Each shard keeps its
 * schedules in SQLite and one alarm at its earliest due time, and delivers everything due at
 * once. Why shards and not one object per schedule (the request-scheduler example's way):
 * - 1,000 schedules due in the same second wake 64 objects, each starting ~16 deliveries
 *   concurrently from one alarm, instead of 1,000 objects each waking, loading and fetching;
 * - listing needs no separate index object (which would be one writer behind every create):
 *   the admin list pages through the shards in id order;
 * - creation spreads over 64 single-threaded objects, so it is not serialised on one.
 * Why 64 and not 16: an invocation (an alarm included) keeps at most 6 outgoing connections
 * open at a time on Cloudflare, so ~16 deliveries per shard go out in about three rounds,
 * where ~60 would need ten. Idle shards cost nothing.
 * The shard is part of the id (its first two hex digits, so up to 256), so the count can be
 * raised later for new schedules without moving old ones; with an idempotency key the shard
 * comes from the key, so a replay reaches the object that remembers it.
 */
export const SHARDS = 64;

const ID_PATTERN = /^[0-9a-f]{2}[A-Za-z0-9_-]{22}$/;
const MAX_BODY_BYTES = 32 * 1024;
const MAX_PAYLOAD_BYTES = 16 * 1024;
const MAX_AHEAD_MS = 366 * 24 * 3600 * 1000;
const ISO = z.iso.datetime({ offset: true, message: "must be an ISO 8601 time with a zone, e.g. 2030-01-31T09:00:00Z" });

const CreateBody = z
  .object({
    target: z.string().regex(NAME_PATTERN, "must be the name of a configured target").optional(),
    url: z.string().max(2048, "must be at most 2048 characters").optional(),
    at: ISO.optional(),
    every: z.number({ message: "must be a number of seconds" }).int("must be a whole number of seconds").optional(),
    start: ISO.optional(),
    cron: z.string().max(128, "must be at most 128 characters").optional(),
    tz: z.string().max(64).optional(),
    times: z.number({ message: "must be a number of runs" }).int("must be a whole number of runs").min(1, "must be at least 1").optional(),
    until: ISO.optional(),
    payload: z.unknown().optional(),
    idempotencyKey: z.string().min(1).max(128, "must be at most 128 characters").optional(),
  })
  .strict();
type CreateBody = z.infer<typeof CreateBody>;

const createSchedule: Handler = async ({ request, env }) => {
  const settings = schedulerSettings(env);
  const body = await readJson(request, CreateBody, MAX_BODY_BYTES);
  const byAdmin = await isAdmin(env, request);
  const now = Date.now();

  if ((body.target === undefined) === (body.url === undefined)) throw badRequest("Give exactly one of target or url.");
  if (body.url !== undefined) {
    if (!byAdmin) throw new Refusal("admin_required", "Only the admin may schedule a delivery to any URL; use a target.");
    const verdict = checkUrl(body.url, settings.ports);
    if (!verdict.ok) throw badRequest(`url: the URL ${verdict.reason}.`, "unsafe_url");
  }
  if (body.target !== undefined && !settings.targets.has(body.target)) {
    const known = [...settings.targets.keys()].join(", ") || "none";
    throw badRequest(`target: there is no target named "${body.target}" (configured: ${known}).`, "unknown_target");
  }
  const timing = parseTiming(body, now, settings.minIntervalSeconds);
  const end = parseEnd(body, timing, now, byAdmin, settings.maxRuns);
  const payload = JSON.stringify(body.payload ?? {});
  if (new TextEncoder().encode(payload).byteLength > MAX_PAYLOAD_BYTES) {
    throw new Refusal("payload_too_large", `payload: must be at most ${MAX_PAYLOAD_BYTES} bytes of JSON.`, { status: 400 });
  }

  await limitRate(env, request, "schedule", "schedules created");

  const key = body.idempotencyKey ?? null;
  const shard = key === null ? Math.floor(Math.random() * SHARDS) : (await digest(`idempotency:${key}`))[0]! % SHARDS;
  const manageToken = `mt_${base64url.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
  const meaning = [body.target, body.url, body.at, body.every, body.start, body.cron, body.tz, payload];
  // Ends joined the request later: only a request that gives one hashes it, so keys used before still replay.
  if (body.times !== undefined || body.until !== undefined) meaning.push(body.times, body.until);
  const holder: Holder | null = byAdmin ? null : { ip: clientIp(env, request), target: body.target ?? null };
  const input: NewSchedule = {
    id: shard.toString(16).padStart(2, "0") + base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
    manageToken,
    tokenHash: await tokenHash(manageToken),
    target: body.target ?? null,
    url: body.url ?? null,
    timing,
    end,
    ownerIp: holder?.ip ?? null,
    payload,
    idempotencyKey: key,
    requestHash: hex(await digest(JSON.stringify(meaning))),
  };
  if (holder) {
    // Every schedule a visitor makes has an end, so its places lapse even if nobody gives them back.
    const lastRunBy = lastOccurrenceBy(timing, end, now)! + retryWindowMs(settings);
    await holdPlaces(env, settings, holder, input.id, lastRunBy);
  }
  let result: CreateResult;
  try {
    // Cast: RPC stubs wrap union results in a way that defeats narrowing.
    result = (await env.SCHEDULER.getByName(shardName(shard)).create(input)) as CreateResult;
  } catch (error) {
    if (holder) await releasePlaces(env, holder, [input.id]);
    throw error;
  }
  // A replay or a conflict made nothing new: the places go back (a replayed schedule holds its own).
  if (holder && (isCarried(result) || result.kind !== "created")) await releasePlaces(env, holder, [input.id]);
  const made = unwrap(result);
  return Response.json(
    { ...made.schedule, manageToken: made.manageToken },
    { status: made.kind === "created" ? 201 : 200, headers: made.kind === "replayed" ? { "Idempotent-Replayed": "true" } : {} },
  );
};

const getSchedule: Handler = async ({ request, env, params }) => {
  const id = parseId(params.id);
  const schedule = await shardOf(env, id).get(id, await caller(env, request));
  if (!schedule) throw notFound(`No schedule ${id} for this token.`);
  return Response.json(schedule);
};

const deleteSchedule: Handler = async ({ request, env, params }) => {
  const id = parseId(params.id);
  const cancelled = await shardOf(env, id).cancel(id, await caller(env, request));
  if (!cancelled) throw notFound(`No schedule ${id} for this token.`);
  return Response.json({ id, cancelled: true });
};

const listRuns: Handler = async ({ request, env, params, url }) => {
  const id = parseId(params.id);
  const limit = parseLimit(url.searchParams.get("limit"), 20, 50);
  const runs = await shardOf(env, id).runs(id, await caller(env, request), limit);
  if (!runs) throw notFound(`No schedule ${id} for this token.`);
  return Response.json({ id, runs });
};

/**
 * Every schedule, in pages (the admin's only), optionally only those of one `target` and one
 * `state`. `cursor` is the last id of the previous page; a page may hold fewer than `limit`
 * only when it is the last (`cursor` null).
 */
const listSchedules: Handler = async ({ env, url }) => {
  const limit = parseLimit(url.searchParams.get("limit"), 100, 500);
  const cursor = url.searchParams.get("cursor") ?? "";
  if (cursor !== "" && !ID_PATTERN.test(cursor)) throw badRequest("cursor: use the cursor of the previous page.", "invalid_cursor");
  const filter = parseFilter(url.searchParams);
  const schedules: ScheduleView[] = [];
  let shard = cursor === "" ? 0 : parseInt(cursor.slice(0, 2), 16);
  let after = cursor;
  for (; shard < SHARDS && schedules.length < limit; shard++, after = "") {
    schedules.push(...((await env.SCHEDULER.getByName(shardName(shard)).list(after, limit - schedules.length, filter)) as ScheduleView[]));
  }
  const full = schedules.length === limit;
  return Response.json({ schedules, cursor: full ? schedules[schedules.length - 1]!.id : null });
};

function parseFilter(query: URLSearchParams): ListFilter {
  const filter: ListFilter = {};
  const target = query.get("target");
  if (target !== null) {
    if (!NAME_PATTERN.test(target)) throw badRequest("target: give the name of a configured target.", "invalid_filter");
    filter.target = target;
  }
  const state = query.get("state");
  if (state !== null) {
    if (!(SCHEDULE_STATES as readonly string[]).includes(state)) throw badRequest(`state: use one of ${SCHEDULE_STATES.join(", ")}.`, "invalid_filter");
    filter.state = state as ScheduleState;
  }
  return filter;
}

/**
 * An operation on one schedule, for its manage token or the admin token, like GET and DELETE:
 * 404 for an unknown id or another schedule's token, a 409 carried back for a state it does not fit.
 */
function operation(
  run: (shard: ReturnType<typeof shardOf>, id: string, caller: Caller) => Promise<unknown>,
  answer: (id: string, result: unknown) => unknown = (_, result) => result,
  limited = false,
): Handler {
  return async ({ request, env, params }) => {
    const id = parseId(params.id);
    const who = await caller(env, request);
    // Deliveries on demand: the same limit as creating schedules, unless the admin asks.
    if (limited && !who.admin) await limitRate(env, request, "schedule", "deliveries asked for");
    const result = unwrap(await run(shardOf(env, id), id, who));
    if (result === null) throw notFound(`No schedule ${id} for this token.`);
    return Response.json(answer(id, result));
  };
}

const pauseSchedule = operation((shard, id, who) => shard.pause(id, who));
const resumeSchedule = operation((shard, id, who) => shard.resume(id, who));
const runSchedule = operation((shard, id, who) => shard.runNow(id, who), (id, run) => ({ id, run: run as RunView }), true);
const retrySchedule = operation((shard, id, who) => shard.retry(id, who), undefined, true);

const adminOnly = () => new Refusal("admin_required", "Listing all schedules needs the admin token.", { status: 401 });

export const routes: Routes = {
  "/api/schedules": { GET: admin(listSchedules, adminOnly), POST: createSchedule },
  "/api/schedules/:id": { GET: getSchedule, DELETE: deleteSchedule },
  "/api/schedules/:id/runs": { GET: listRuns },
  "/api/schedules/:id/pause": { POST: pauseSchedule },
  "/api/schedules/:id/resume": { POST: resumeSchedule },
  "/api/schedules/:id/run": { POST: runSchedule },
  "/api/schedules/:id/retry": { POST: retrySchedule },
};

function parseTiming(body: CreateBody, now: number, minIntervalSeconds: number): Timing {
  const given = [body.at, body.every, body.cron].filter((v) => v !== undefined).length;
  if (given !== 1) throw badRequest("Give exactly one of at (a time), every (seconds) or cron (a pattern).", "invalid_timing");
  if (body.tz !== undefined && body.cron === undefined) throw badRequest("tz: a time zone goes with cron only.", "invalid_timing");
  if (body.start !== undefined && body.every === undefined) throw badRequest("start: a start time goes with every only.", "invalid_timing");
  if (body.at !== undefined) {
    const at = Date.parse(body.at);
    if (at <= now) throw badRequest(`at: ${body.at} has already passed; pick a time in the future.`, "invalid_timing");
    if (at > now + MAX_AHEAD_MS) throw badRequest("at: pick a time within a year.", "invalid_timing");
    return { kind: "at", at };
  }
  if (body.every !== undefined) {
    if (body.every < minIntervalSeconds) throw badRequest(`every: the shortest interval is ${minIntervalSeconds} seconds.`, "invalid_timing");
    if (body.every > MAX_AHEAD_MS / 1000) throw badRequest("every: the longest interval is a year.", "invalid_timing");
    const anchor = body.start === undefined ? now : Date.parse(body.start);
    if (anchor > now + MAX_AHEAD_MS) throw badRequest("start: pick a time within a year.", "invalid_timing");
    return { kind: "every", everyMs: body.every * 1000, anchor };
  }
  const tz = body.tz ?? "UTC";
  if (!isTimeZone(tz)) throw badRequest(`tz: "${tz}" is not an IANA time zone such as Europe/Berlin.`, "invalid_timing");
  const problem = checkCron(body.cron!, tz);
  if (problem) throw badRequest(`cron: "${body.cron}" is not a five-field cron pattern (${problem}).`, "invalid_timing");
  if (cronRunsCloserThan(body.cron!, minIntervalSeconds * 1000, now)) {
    throw badRequest(`cron: "${body.cron}" runs more often than the shortest interval, ${minIntervalSeconds} seconds.`, "invalid_timing");
  }
  return { kind: "cron", cron: body.cron!, tz };
}

/**
 * How a repeat ends. A visitor's repeat always ends: after at most `maxRuns` runs, which is also
 * its run count when it gives none. The admin's may repeat forever.
 */
function parseEnd(body: CreateBody, timing: Timing, now: number, admin: boolean, maxRuns: number): End {
  if (timing.kind === "at") {
    if (body.times !== undefined || body.until !== undefined) throw badRequest("times and until go with every or cron only.", "invalid_timing");
    return { times: null, until: null };
  }
  if (!admin && body.times !== undefined && body.times > maxRuns) {
    throw badRequest(`times: a repeat may run at most ${maxRuns} times (more needs the admin token).`, "invalid_timing");
  }
  let until: number | null = null;
  if (body.until !== undefined) {
    until = Date.parse(body.until);
    if (until > now + MAX_AHEAD_MS) throw badRequest("until: pick a time within a year.", "invalid_timing");
    const first = firstOccurrence(timing, now);
    if (first === null || until < first) throw badRequest(`until: ${body.until} comes before the first run; pick a later end.`, "invalid_timing");
  }
  return { times: body.times ?? (admin ? null : maxRuns), until };
}

const shardName = (shard: number) => `shard-${shard}`;
const shardOf = (env: Env, id: string) => env.SCHEDULER.getByName(shardName(parseInt(id.slice(0, 2), 16)));

function parseId(value: string | undefined): string {
  if (!value || !ID_PATTERN.test(value) || parseInt(value.slice(0, 2), 16) >= SHARDS) {
    throw badRequest("That is not a schedule id.", "invalid_id");
  }
  return value;
}

function parseLimit(raw: string | null, fallback: number, max: number): number {
  if (raw === null) return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw badRequest(`limit: use a whole number from 1 to ${max}.`, "invalid_limit");
  return limit;
}

const isAdmin = (env: Env, request: Request) => isAdminRequest(env, request);

async function caller(env: Env, request: Request): Promise<Caller> {
  const token = bearerToken(request);
  if (token === undefined && (await isAdminRequest(env, request))) return { admin: true };
  if (token === undefined) {
    throw new Refusal("token_required", "Send the schedule's manage token as Authorization: Bearer <token>.", {
      headers: { "WWW-Authenticate": "Bearer" },
    });
  }
  // A token in the shape of a manage token is one (or, rarely, the owner's own); anything else
  // can only be a guess at ADMIN_TOKEN, and is charged as one.
  const admin = MANAGE_TOKEN.test(token) ? await isAdminToken(env, token) : await isAdminGuess(env, request, token);
  if (admin) return { admin: true };
  return { admin: false, tokenHash: await tokenHash(token) };
}

/** What the create route hands out: `mt_` and the base64url of 32 random bytes. */
const MANAGE_TOKEN = /^mt_[A-Za-z0-9_-]{43}$/;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

const tokenHash = async (token: string) => hex(await digest(token));
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

