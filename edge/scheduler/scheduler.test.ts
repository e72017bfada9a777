import { env, exports } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE, fetchWithVars } from "../../test/edge/support.ts";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { schedulerSettings } from "./settings.ts";
import { signatureHeaders, signingSecretProblem } from "./signature.ts";
import { PRUNE_LIMIT, type NewSchedule, type RunView, type ScheduleView, type Scheduler } from "./scheduler.ts";

/** The receiver Worker that stands in for the internet (test/webhook-receiver.worker.js). */
const receiver = (env as unknown as { RECEIVER: Fetcher }).RECEIVER;
interface Received {
  path: string;
  at: number;
  headers: Record<string, string>;
  body: string;
}
type Created = ScheduleView & { manageToken: string };

const ADMIN = { Authorization: "Bearer test-admin-token" };
const SECRET = "test-signing-secret";
const soon = (ms = 800) => new Date(Date.now() + ms).toISOString();
const unique = () => crypto.randomUUID().slice(0, 8);
const tomorrow = soon(86_400_000);

function create(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Response> {
  return exports.default.fetch(`${BASE}/api/schedules`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

async function created(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Created> {
  const response = await create(body, headers);
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

const manage = (schedule: Created, path = "", init: RequestInit = {}) =>
  exports.default.fetch(`${BASE}/api/schedules/${schedule.id}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${schedule.manageToken}` },
  });

async function current(schedule: Created): Promise<ScheduleView> {
  return (await manage(schedule)).json();
}

async function runs(schedule: Created): Promise<RunView[]> {
  return ((await (await manage(schedule, "/runs")).json()) as { runs: RunView[] }).runs;
}

/** Waits until the receiver has `count` deliveries of the schedule. */
async function delivered(id: string, count = 1): Promise<Received[]> {
  const response = await receiver.fetch(`https://receiver/deliveries?schedule=${id}&count=${count}`);
  const list = (await response.json()) as Received[];
  expect(list.length).toBeGreaterThanOrEqual(count);
  return list;
}

/** Waits until the schedule has recorded `count` runs. */
const recorded = (schedule: Created, count: number) =>
  expect.poll(async () => (await current(schedule)).runCount, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(count);

const occurrenceOf = (delivery: Received) => Number(delivery.headers["idempotency-key"]!.split(":")[1]);
const shardOf = (id: string) => env.SCHEDULER.getByName(`shard-${parseInt(id.slice(0, 2), 16)}`);

// workerd's clock stands still until the first I/O; start it before computing times.
beforeAll(async () => {
  await exports.default.fetch(`${BASE}/api/health`);
});

// Deliveries wait for real alarms and retries on a machine that runs other suites too.
const slow = { timeout: 20_000 };

describe("POST /api/schedules", slow, () => {
  it("delivers a one-off schedule once, at its time, with the payload and an idempotency key", async () => {
    const at = soon();
    const schedule = await created({ target: "hook", at, payload: { text: "water the plants" } });
    expect(schedule).toMatchObject({ target: "hook", at, next: at, state: "scheduled" });
    expect(schedule.manageToken).toMatch(/^mt_/);

    const [delivery] = await delivered(schedule.id);
    expect(delivery!.path).toBe("https://hooks.example.com/owner");
    expect(JSON.parse(delivery!.body)).toEqual({ text: "water the plants" });
    expect(delivery!.headers["idempotency-key"]).toBe(`${schedule.id}:${Date.parse(at)}`);
    expect(delivery!.at).toBeGreaterThanOrEqual(Date.parse(at));
    await recorded(schedule, 1);
    expect(await current(schedule)).toMatchObject({ state: "done", next: null, lastRun: { ok: true, status: 200, attempt: 1 } });
  });

  it("sends the owner's headers with deliveries to an owner target", async () => {
    const schedule = await created({ target: "hook-with-headers", at: soon() });
    const [delivery] = await delivered(schedule.id);
    expect(delivery!.headers["x-owner-key"]).toBe("k1");
  });

  it("signs each delivery per Standard Webhooks: the official library verifies it and refuses it tampered", async () => {
    const schedule = await created({ target: "hook", at: soon(), payload: { n: 1 } });
    const [delivery] = await delivered(schedule.id);
    const headers = delivery!.headers;
    expect(headers["webhook-id"]).toBe(`${schedule.id}:${occurrenceOf(delivery!)}`);
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    // A plain secret signs with its own bytes: receivers use it as whsec_ + its base64.
    const receiver = new Webhook(`whsec_${btoa(SECRET)}`);
    expect(receiver.verify(delivery!.body, headers)).toEqual({ n: 1 });
    expect(new Webhook(SECRET, { format: "raw" }).verify(delivery!.body, headers)).toEqual({ n: 1 });
    expect(() => receiver.verify('{"n":2}', headers)).toThrow(WebhookVerificationError);
    expect(() => receiver.verify(delivery!.body, { ...headers, "webhook-timestamp": String(Number(headers["webhook-timestamp"]) + 1) })).toThrow(WebhookVerificationError);
    expect(() => receiver.verify(delivery!.body, { ...headers, "webhook-id": `${schedule.id}:0` })).toThrow(WebhookVerificationError);
    const flipped = headers["webhook-signature"]!.replace(/,(.)/, (_, c: string) => `,${c === "A" ? "B" : "A"}`);
    expect(() => receiver.verify(delivery!.body, { ...headers, "webhook-signature": flipped })).toThrow(WebhookVerificationError);
    expect(() => new Webhook(`whsec_${btoa("another-secret")}`).verify(delivery!.body, headers)).toThrow(WebhookVerificationError);
  });

  it("keeps the message id of an occurrence on every retry, and signs each attempt afresh", async () => {
    const schedule = await created({ url: `https://hooks.example.com/resign-${unique()}?respond=500,200`, at: soon() }, ADMIN);
    const deliveries = await delivered(schedule.id, 2);
    expect(new Set(deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);
    for (const delivery of deliveries) expect(new Webhook(SECRET, { format: "raw" }).verify(delivery.body, delivery.headers)).toEqual({});
  });

  it("signs with the key of a whsec_ secret, the form the Standard Webhooks libraries hand out", async () => {
    const secret = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(24))))}`;
    const headers = await signatureHeaders(secret, "s1:1000", Math.floor(Date.now() / 1000), '{"a":1}');
    expect(new Webhook(secret).verify('{"a":1}', headers)).toEqual({ a: 1 });
    expect(signingSecretProblem(secret)).toBeUndefined();
    expect(signingSecretProblem("whsec_not base64!")).toMatch(/WEBHOOK_SIGNING_SECRET/);
    expect(signingSecretProblem("a plain secret of some length")).toBeUndefined();
  });

  it("repeats an interval on its grid without drifting, whenever each delivery ended", async () => {
    // Far enough ahead that a create slowed by a busy machine still finds its start ahead.
    const start = Date.now() + 1_500;
    const schedule = await created({ target: "hook", every: 1, start: new Date(start).toISOString() });
    expect(schedule.next).toBe(new Date(start).toISOString());
    const deliveries = await delivered(schedule.id, 3);
    expect(deliveries.slice(0, 3).map(occurrenceOf)).toEqual([start, start + 1000, start + 2000]);
    for (const delivery of deliveries) expect(delivery.at).toBeGreaterThanOrEqual(occurrenceOf(delivery));
    const next = Date.parse((await current(schedule)).next!);
    expect((next - start) % 1000).toBe(0);
    expect((await manage(schedule, "", { method: "DELETE" })).status).toBe(200);
  });

  it("returns the same schedule and token for a repeated idempotency key, and refuses the key for another request", async () => {
    const key = `order-${unique()}`;
    const body = { target: "hook", at: soon(60_000), payload: { order: 7 }, idempotencyKey: key };
    const first = await created(body);
    const again = await create(body);
    expect(again.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    const replay = (await again.json()) as Created;
    expect(replay.id).toBe(first.id);
    expect(replay.manageToken).toBe(first.manageToken);

    const different = await create({ ...body, payload: { order: 8 } });
    expect(different.status).toBe(409);
    expect(await different.json()).toMatchObject({ error: { code: "idempotency_conflict" } });
  });

  it.each([
    ["a time in the past", { target: "hook", at: "2020-01-01T00:00:00Z" }, /already passed/],
    ["a time without a zone", { target: "hook", at: "2030-01-01T09:00:00" }, /ISO 8601/],
    ["an interval below the minimum", { target: "hook", every: 0 }, /shortest interval/],
    ["an unknown target", { target: "nowhere", at: tomorrow }, /no target named "nowhere"/],
    ["an invalid cron pattern", { target: "hook", cron: "61 * * * *" }, /not a five-field cron pattern/],
    ["an unknown time zone", { target: "hook", cron: "0 9 * * *", tz: "Mars/Olympus" }, /not an IANA time zone/],
    ["two timings at once", { target: "hook", at: tomorrow, every: 60 }, /exactly one of at/],
    ["no timing", { target: "hook" }, /exactly one of at/],
    ["no target", { at: tomorrow }, /exactly one of target or url/],
    ["an oversized payload", { target: "hook", at: tomorrow, payload: { text: "x".repeat(20_000) } }, /at most 16384 bytes/],
    ["an unknown field", { target: "hook", at: tomorrow, when: "now" }, /when/],
    ["a run count for a one-off", { target: "hook", at: tomorrow, times: 3 }, /times and until go with every or cron/],
    ["a run count of zero", { target: "hook", every: 60, times: 0 }, /times: must be at least 1/],
    ["an end before the first run", { target: "hook", every: 60, start: tomorrow, until: soon(60_000) }, /comes before the first run/],
  ])("refuses %s with a 400 that says what to fix", async (_, body, message) => {
    const response = await create(body);
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { message: string } };
    expect(error.message).toMatch(message);
  });

  it("refuses a URL schedule without the admin token", async () => {
    const response = await create({ url: "https://hooks.example.com/x", at: soon(60_000) });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "admin_required" } });
  });

  it("ends a repeat after its run count, and shows how many runs are left", async () => {
    const schedule = await created({ target: "hook", every: 1, start: soon(300), times: 2 });
    expect(schedule).toMatchObject({ times: 2, runsLeft: 2 });
    await delivered(schedule.id, 2);
    await recorded(schedule, 2);
    expect(await current(schedule)).toMatchObject({ state: "done", next: null, times: 2, runsLeft: 0, runCount: 2 });
  });

  it("ends a repeat whose next run would come after its end time", async () => {
    const start = Date.now() + 300;
    const until = new Date(start + 1500).toISOString();
    const schedule = await created({ target: "hook", every: 1, start: new Date(start).toISOString(), until });
    expect(schedule.until).toBe(until);
    await delivered(schedule.id, 2);
    await recorded(schedule, 2);
    expect(await current(schedule)).toMatchObject({ state: "done", next: null, runCount: 2 });
  });

  it("gives a visitor's repeat SCHEDULE_MAX_RUNS runs unless it asks for fewer, and lets only the admin repeat forever", async () => {
    expect(await created({ target: "hook", every: 3600 })).toMatchObject({ times: 100, runsLeft: 100 });
    expect(await created({ target: "hook", cron: "0 9 * * *", times: 5 })).toMatchObject({ times: 5 });
    const tooMany = await create({ target: "hook", every: 3600, times: 101 });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({ error: { code: "invalid_timing", message: expect.stringContaining("at most 100 times") } });
    const endless = await created({ target: "hook", every: 3600 }, ADMIN);
    expect(endless.times).toBeUndefined();
    expect((await created({ target: "hook", every: 3600, times: 1000 }, ADMIN)).times).toBe(1000);
  });

  it("refuses a cron pattern whose runs come closer than SCHEDULE_MIN_INTERVAL_SECONDS", async () => {
    const withMinimum = (cron: string) =>
      fetchWithVars({ SCHEDULE_MIN_INTERVAL_SECONDS: "300" }, "/api/schedules", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ target: "hook", cron }),
      });
    for (const cron of ["* * * * *", "*/2 * * * *", "0,1 9 * * *", "55,59 9 * * *", "0,59 8-9 * * *"]) {
      const response = await withMinimum(cron);
      expect(response.status, cron).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_timing", message: expect.stringContaining("300 seconds") } });
    }
    for (const cron of ["*/5 * * * *", "0 9 * * 1-5"]) expect((await withMinimum(cron)).status, cron).toBe(201);
  });

  it("answers the next run of a cron schedule in its time zone", async () => {
    const schedule = await created({ target: "hook", cron: "30 9 * * *", tz: "Asia/Kolkata" });
    const next = new Date(schedule.next!);
    expect(next.getUTCHours() * 60 + next.getUTCMinutes()).toBe(4 * 60);
    expect(next.getTime()).toBeGreaterThan(Date.now());
  });
});

describe("delivery", slow, () => {
  it("retries a 500 with growing backoff, then records the success", async () => {
    const path = `https://hooks.example.com/retry-${unique()}`;
    const schedule = await created({ url: `${path}?respond=500,500,200`, at: soon() }, ADMIN);
    const deliveries = await delivered(schedule.id, 3);
    expect(deliveries.map((d) => d.headers["schedule-attempt"])).toEqual(["1", "2", "3"]);
    // The same occurrence each time, so the receiver can drop duplicates.
    expect(new Set(deliveries.map((d) => d.headers["idempotency-key"])).size).toBe(1);
    // Backoff with half-step jitter: at least 50 ms, then at least 100 ms (base 100 ms).
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(50);
    expect(deliveries[2]!.at - deliveries[1]!.at).toBeGreaterThanOrEqual(100);
    await recorded(schedule, 3);
    expect((await runs(schedule)).map((r) => [r.attempt, r.status, r.ok])).toEqual([
      [3, 200, true],
      [2, 500, false],
      [1, 500, false],
    ]);
    expect(await current(schedule)).toMatchObject({ state: "done", lastRun: { ok: true } });
  });

  it("retries a 429 from an owner target", async () => {
    const schedule = await created({ target: "flaky", at: soon() });
    const deliveries = await delivered(schedule.id, 2);
    expect(deliveries.map((d) => d.headers["schedule-attempt"])).toEqual(["1", "2"]);
  });

  it("does not retry a 400", async () => {
    const schedule = await created({ url: `https://hooks.example.com/reject-${unique()}?respond=400`, at: soon() }, ADMIN);
    await delivered(schedule.id);
    await recorded(schedule, 1);
    expect(await current(schedule)).toMatchObject({ state: "dead", failedAttempts: 0, lastRun: { ok: false, status: 400, attempt: 1 } });
    expect(await runs(schedule)).toHaveLength(1);
  });

  it("gives up after the configured number of attempts, leaving the schedule dead", async () => {
    const schedule = await created({ url: `https://hooks.example.com/down-${unique()}?respond=503`, at: soon() }, ADMIN);
    await delivered(schedule.id, 3);
    await recorded(schedule, 3);
    expect(await current(schedule)).toMatchObject({ state: "dead", next: null, lastRun: { status: 503, attempt: 3 } });
  });

  it("checks every redirect against the SSRF guard before following it", async () => {
    const url = `https://hooks.example.com/redir-${unique()}?redirect=${encodeURIComponent("http://169.254.169.254/latest/meta-data/")}`;
    const schedule = await created({ url, at: soon() }, ADMIN);
    await delivered(schedule.id);
    await recorded(schedule, 1);
    const [run] = await runs(schedule);
    expect(run).toMatchObject({ ok: false, error: expect.stringContaining("Refused a redirect") });
    expect(await current(schedule)).toMatchObject({ state: "dead" });
  });

  it("follows a redirect to a public URL", async () => {
    const to = `https://hooks.example.com/moved-${unique()}`;
    const url = `https://hooks.example.com/redir-${unique()}?redirect=${encodeURIComponent(to)}`;
    const schedule = await created({ url, at: soon(), payload: { a: 1 } }, ADMIN);
    const deliveries = await delivered(schedule.id, 2);
    expect(deliveries[1]!.path).toBe(to);
    expect(deliveries[1]!.body).toBe('{"a":1}');
  });

  it("still fires when the object was evicted from memory before the time", async () => {
    const schedule = await created({ target: "hook", at: soon(500) });
    await evictDurableObject(shardOf(schedule.id));
    await delivered(schedule.id);
  });

  it("after downtime delivers a missed one-off once, and a repeat that missed many runs once", async () => {
    const hour = 3_600_000;
    const once = await created({ target: "hook", at: soon(hour) });
    const repeat = await created({ target: "hook", every: 3600, start: soon(hour) });
    // The backend was down: both were due long ago and nothing ran.
    for (const schedule of [once, repeat]) {
      await runInDurableObject(shardOf(schedule.id), (_, state) => {
        state.storage.sql.exec(
          "UPDATE schedules SET anchor_ms = anchor_ms - ?, occurrence_ms = occurrence_ms - ?, due_ms = due_ms - ? WHERE id = ?",
          ...[10 * hour, 10 * hour, 10 * hour],
          schedule.id,
        );
      });
      await runDurableObjectAlarm(shardOf(schedule.id));
    }
    await recorded(once, 1);
    await recorded(repeat, 1);
    expect(await delivered(once.id)).toHaveLength(1);
    expect(await delivered(repeat.id)).toHaveLength(1);
    const next = Date.parse((await current(repeat)).next!);
    expect(next).toBeGreaterThan(Date.now());
    expect(next).toBeLessThanOrEqual(Date.now() + hour);
    // The first point of the original grid after now: the nine missed runs are skipped.
    expect(next).toBe(Date.parse(repeat.next!));
  });
});

describe("managing a schedule", slow, () => {
  it("needs the manage token", async () => {
    const schedule = await created({ target: "hook", at: soon(60_000) });
    const anonymous = await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}`);
    expect(anonymous.status).toBe(401);
    const wrong = await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}`, { headers: { Authorization: "Bearer mt_wrong" } });
    expect(wrong.status).toBe(404);
    expect((await manage(schedule)).status).toBe(200);
    expect((await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}`, { headers: ADMIN })).status).toBe(200);
  });

  it("cancels a schedule so it is gone and never delivered", async () => {
    const schedule = await created({ target: "hook", every: 1 });
    const response = await manage(schedule, "", { method: "DELETE" });
    expect(await response.json()).toEqual({ id: schedule.id, cancelled: true });
    expect((await manage(schedule)).status).toBe(404);
    expect((await manage(schedule, "/runs")).status).toBe(404);
    const rows = await runInDurableObject(shardOf(schedule.id), (_, state) =>
      state.storage.sql.exec("SELECT id FROM schedules WHERE id = ?", schedule.id).toArray(),
    );
    expect(rows).toEqual([]);
  });

  it("refuses a malformed id with a 400", async () => {
    const response = await exports.default.fetch(`${BASE}/api/schedules/not-an-id`, { headers: ADMIN });
    expect(response.status).toBe(400);
  });

  it("lists every schedule to the admin, page by page", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await created({ target: "hook", at: soon(60_000) })).id);
    const seen: string[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const response = await exports.default.fetch(`${BASE}/api/schedules?limit=3${cursor ? `&cursor=${cursor}` : ""}`, { headers: ADMIN });
      const page = (await response.json()) as { schedules: ScheduleView[]; cursor: string | null };
      expect(page.schedules.length).toBeLessThanOrEqual(3);
      seen.push(...page.schedules.map((s) => s.id));
      cursor = page.cursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of ids) expect(seen).toContain(id);
    const anonymous = await exports.default.fetch(`${BASE}/api/schedules`);
    expect(anonymous.status).toBe(401);
  });
});

const operate = (schedule: Created, operation: "pause" | "resume" | "run" | "retry", token = schedule.manageToken) =>
  exports.default.fetch(`${BASE}/api/schedules/${schedule.id}/${operation}`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });

async function operated(schedule: Created, operation: "pause" | "resume" | "retry"): Promise<ScheduleView> {
  const response = await operate(schedule, operation);
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}

/** What the receiver has of the schedule so far, without waiting for more. */
async function arrived(id: string): Promise<Received[]> {
  return (await (await receiver.fetch(`https://receiver/deliveries?schedule=${id}&count=0`)).json()) as Received[];
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function listAll(query: string): Promise<ScheduleView[]> {
  const seen: ScheduleView[] = [];
  let cursor: string | null = "";
  while (cursor !== null) {
    const response = await exports.default.fetch(`${BASE}/api/schedules?${query}${cursor ? `&cursor=${cursor}` : ""}`, { headers: ADMIN });
    expect(response.status, await response.clone().text()).toBe(200);
    const page = (await response.json()) as { schedules: ScheduleView[]; cursor: string | null };
    seen.push(...page.schedules);
    cursor = page.cursor;
  }
  return seen;
}

describe("pause, resume, run now and retry", slow, () => {
  it("delivers nothing while paused, and fires a one-off whose time passed once, at resume", async () => {
    const at = soon(400);
    const schedule = await created({ target: "hook", at, payload: { paused: true } });
    const paused = await operated(schedule, "pause");
    expect(paused).toMatchObject({ state: "paused", next: null, pausedAt: expect.any(String) });
    // Pausing again changes nothing.
    expect(await operated(schedule, "pause")).toMatchObject({ state: "paused", pausedAt: paused.pausedAt });
    await pause(Date.parse(at) + 600 - Date.now());
    expect(await arrived(schedule.id)).toEqual([]);

    const resumedAt = Date.now();
    expect(await operated(schedule, "resume")).toMatchObject({ state: "scheduled" });
    const [delivery] = await delivered(schedule.id);
    expect(delivery!.at).toBeGreaterThanOrEqual(resumedAt);
    expect(occurrenceOf(delivery!)).toBe(Date.parse(at));
    await recorded(schedule, 1);
    expect(await current(schedule)).toMatchObject({ state: "done", runCount: 1 });
    expect(await arrived(schedule.id)).toHaveLength(1);
  });

  it("resumes a repeat on its grid from now, skipping the runs it missed while paused", async () => {
    const start = Date.now() + 400;
    const schedule = await created({ target: "hook", every: 1, start: new Date(start).toISOString(), times: 10 });
    await operated(schedule, "pause");
    await pause(start + 1_700 - Date.now());
    const resumedAt = Date.now();
    const resumed = await operated(schedule, "resume");
    const next = Date.parse(resumed.next!);
    expect(next).toBeGreaterThan(resumedAt);
    expect((next - start) % 1000).toBe(0);
    const [first] = await delivered(schedule.id);
    expect(occurrenceOf(first!)).toBe(next);
    expect((await manage(schedule, "", { method: "DELETE" })).status).toBe(200);
  });

  it("runs a schedule once now, outside its timing, and counts the run", async () => {
    const schedule = await created({ target: "hook", at: tomorrow, payload: { now: true } });
    const before = Date.now();
    const response = await operate(schedule, "run");
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: schedule.id, run: { ok: true, status: 200, attempt: 1 } });
    const [delivery] = await delivered(schedule.id);
    expect(JSON.parse(delivery!.body)).toEqual({ now: true });
    expect(occurrenceOf(delivery!)).toBeGreaterThanOrEqual(before);
    expect(await current(schedule)).toMatchObject({ state: "scheduled", next: tomorrow, runCount: 1, lastRun: { ok: true } });
    expect(await runs(schedule)).toHaveLength(1);
  });

  it("runs a visitor's schedule now at most once per shortest interval, from any address; the admin is not held back", async () => {
    const schedule = await created({ target: "hook", at: tomorrow, payload: { often: true } });
    expect((await operate(schedule, "run")).status).toBe(200);
    // Another address with the same manage token: the schedule's pace, not the address's.
    const again = await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}/run`, {
      method: "POST",
      headers: { Authorization: `Bearer ${schedule.manageToken}`, "CF-Connecting-IP": `2001:db8::${crypto.randomUUID().slice(0, 4)}` },
    });
    expect(again.status).toBe(429);
    expect(await again.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect(again.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await operate(schedule, "run", "test-admin-token")).status).toBe(200);
    await pause(1_050);
    expect((await operate(schedule, "run")).status).toBe(200);
    expect(await runs(schedule)).toHaveLength(3);
  });

  it("charges a token that is no manage token as a guess at the admin token, refused before it is compared once the address is out of guesses", async () => {
    const schedule = await created({ target: "hook", at: tomorrow });
    const ip = `2001:db8::${crypto.randomUUID().slice(0, 4)}:1`;
    const read = (token: string) => exports.default.fetch(`${BASE}/api/schedules/${schedule.id}`, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip } });
    for (let i = 0; i < 10; i += 1) expect((await read(`guess-${i}`)).status).toBe(404);
    expect((await read("test-admin-token")).status).toBe(429);
    // The schedule's own manage token is never charged.
    expect((await read(schedule.manageToken)).status).toBe(200);
  });

  it("refuses to pause, resume or run a finished schedule, and to run a paused one, with a 409", async () => {
    const done = await created({ target: "hook", at: soon(300) });
    await recorded(done, 1);
    for (const operation of ["pause", "resume", "run"] as const) {
      const response = await operate(done, operation);
      expect(response.status).toBe(409);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("schedule_finished");
    }
    const paused = await created({ target: "hook", at: tomorrow });
    await operated(paused, "pause");
    const run = await operate(paused, "run");
    expect(run.status).toBe(409);
    expect(((await run.json()) as { error: { code: string } }).error.code).toBe("schedule_paused");
    expect(await arrived(paused.id)).toEqual([]);
    const retry = await operate(paused, "retry");
    expect(retry.status).toBe(409);
    expect(((await retry.json()) as { error: { code: string } }).error.code).toBe("schedule_not_dead");
  });

  it("answers 404 for an unknown id or another schedule's token, 401 without a token, and lets the admin operate", async () => {
    const schedule = await created({ target: "hook", at: tomorrow });
    const stranger = await created({ target: "hook", at: tomorrow });
    const unknown = { ...schedule, id: `${schedule.id.slice(0, 2)}${"A".repeat(22)}` };
    for (const operation of ["pause", "resume", "run", "retry"] as const) {
      expect((await operate(schedule, operation, stranger.manageToken)).status).toBe(404);
      expect((await operate(unknown, operation, "test-admin-token")).status).toBe(404);
      const anonymous = await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}/${operation}`, { method: "POST" });
      expect(anonymous.status).toBe(401);
      expect((await exports.default.fetch(`${BASE}/api/schedules/nope/${operation}`, { method: "POST", headers: ADMIN })).status).toBe(400);
    }
    expect(await current(schedule)).toMatchObject({ state: "scheduled" });
    expect((await operate(schedule, "pause", "test-admin-token")).status).toBe(200);
    expect(await current(schedule)).toMatchObject({ state: "paused" });
  });

  it("lists a schedule that gave up as dead, and retries it with the same message id until it is delivered", async () => {
    const schedule = await created({ url: `https://hooks.example.com/dead-${unique()}?respond=503,503,503,200`, at: soon() }, ADMIN);
    await recorded(schedule, 3);
    expect(await current(schedule)).toMatchObject({ state: "dead", next: null });
    const dead = await listAll("state=dead&limit=50");
    expect(dead.map((s) => s.id)).toContain(schedule.id);
    for (const listed of dead) expect(listed.state).toBe("dead");

    expect(await operated(schedule, "retry")).toMatchObject({ state: "scheduled", failedAttempts: 0 });
    const deliveries = await delivered(schedule.id, 4);
    expect(new Set(deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);
    expect(deliveries[3]!.headers["schedule-attempt"]).toBe("1");
    await recorded(schedule, 4);
    expect(await current(schedule)).toMatchObject({ state: "done", lastRun: { ok: true, status: 200 } });
    expect((await listAll("state=dead&limit=50")).map((s) => s.id)).not.toContain(schedule.id);
    expect((await operate(schedule, "retry")).status).toBe(409);
  });

  it("filters the admin list by target and state, page by page across shards", async () => {
    const made = await Promise.all([0, 1, 2, 3].map(() => created({ target: "hook-with-headers", at: tomorrow })));
    await operated(made[0]!, "pause");
    await operated(made[2]!, "pause");
    const paused = await listAll("target=hook-with-headers&state=paused&limit=1");
    expect(paused.map((s) => s.id).sort()).toEqual([made[0]!.id, made[2]!.id].sort());
    const ofTarget = await listAll("target=hook-with-headers&limit=2");
    for (const schedule of made) expect(ofTarget.map((s) => s.id)).toContain(schedule.id);
    for (const listed of ofTarget) expect(listed.target).toBe("hook-with-headers");
    for (const query of ["state=sleeping", "target=not%20a%20name"]) {
      const response = await exports.default.fetch(`${BASE}/api/schedules?${query}`, { headers: ADMIN });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_filter");
    }
    for (const schedule of made) await manage(schedule, "", { method: "DELETE" });
  });
});

describe("payloads nested too deep", slow, () => {
  const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

  it("refuses a payload nested deeper than 64 levels with a 400 and stores nothing", async () => {
    const key = `deep-${unique()}`;
    const response = await exports.default.fetch(`${BASE}/api/schedules`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: `{"target":"hook","at":"${tomorrow}","idempotencyKey":"${key}","payload":${deep(8_000)}}`,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "too_deep", message: expect.stringContaining("64 levels") } });
    // Nothing kept the key: a different request with it is a new schedule, not a conflict.
    expect((await create({ target: "hook", at: tomorrow, idempotencyKey: key, payload: { fine: true } })).status).toBe(201);
  });

  it("answers for a deep payload an older version stored, and ends that schedule with a clear run error", async () => {
    const id = `05deep${unique()}${unique()}${"x".repeat(2)}`;
    const manageToken = `mt_${unique()}`;
    const tokenHash = [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(manageToken)))]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join("");
    const schedule = { id, manageToken } as Created;
    const shard = shardOf(id);
    await runInDurableObject(shard, async (_, state) => {
      const now = Date.now();
      state.storage.sql.exec(
        `INSERT INTO schedules (id, token_hash, request_hash, target, kind, every_ms, anchor_ms, payload, created_ms, occurrence_ms, due_ms)
         VALUES (?, ?, 'r', 'hook', 'every', 60000, ?, ?, ?, ?, ?)`,
        id, tokenHash, now, deep(8_000), now, now, now,
      );
      await state.storage.setAlarm(now);
    });

    const before = await manage(schedule);
    expect(before.status).toBe(200);
    expect(await before.json()).toMatchObject({ id, payload: null });
    const listed = await exports.default.fetch(`${BASE}/api/schedules?limit=5&cursor=05dee${"-".repeat(19)}`, { headers: ADMIN });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { schedules: ScheduleView[] }).schedules).toContainEqual(expect.objectContaining({ id, payload: null }));

    await recorded(schedule, 1);
    expect(await current(schedule)).toMatchObject({
      state: "dead",
      next: null,
      lastRun: { ok: false, status: null, error: expect.stringContaining("nests deeper than 64 levels") },
    });
    expect(await runs(schedule)).toHaveLength(1);
  });
});

/** The default SCHEDULE_RETENTION_DAYS (the test config leaves it unset). */
const RETENTION_MS = 7 * 24 * 3600 * 1000;

/** An object of its own, not one of the 64 shards, so no other test's schedules share its alarm. */
const privateShard = () => env.SCHEDULER.getByName(`prune-test-${unique()}`) as DurableObjectStub<Scheduler>;

/** Finished rows put straight into a shard's storage, as if they had run `ageMs` ago, each with one run. */
function insertFinished(sql: SqlStorage, prefix: string, count: number, ageMs: number): void {
  // One clock reading: finish times one millisecond apart, never two alike when the clock ticks mid-loop.
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    const id = `${prefix}-${i}`;
    const done = now - ageMs - i;
    sql.exec(
      `INSERT INTO schedules (id, token_hash, request_hash, target, kind, at_ms, payload, created_ms, done_ms, run_count)
       VALUES (?, 'h', 'r', 'hook', 'at', ?, '{}', ?, ?, 1)`,
      id, done, done - 1000, done,
    );
    sql.exec("INSERT INTO runs (schedule_id, at_ms, occurrence_ms, attempt, ok, status, duration_ms) VALUES (?, ?, ?, 1, 1, 200, 5)", id, done - 5, done);
  }
}

const count = (sql: SqlStorage, query: string, ...bindings: SqlStorageValue[]) =>
  sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${query}`, ...bindings).one().n;

describe("pruning finished schedules", slow, () => {
  it("keeps a finished one-off and its runs readable for the retention period, then answers 404", async () => {
    const schedule = await created({ target: "hook", at: soon() });
    await delivered(schedule.id);
    await recorded(schedule, 1);
    const shard = shardOf(schedule.id);
    // Days pass: the schedule finished just inside the retention period, then just outside it.
    const finishedAgo = (ms: number) =>
      runInDurableObject(shard, (_, state) => {
        state.storage.sql.exec("UPDATE schedules SET done_ms = ? WHERE id = ?", Date.now() - ms, schedule.id);
      });

    await finishedAgo(RETENTION_MS - 60_000);
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect(await current(schedule)).toMatchObject({ state: "done", runCount: 1 });
    expect(await runs(schedule)).toHaveLength(1);

    await finishedAgo(RETENTION_MS + 60_000);
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect((await manage(schedule)).status).toBe(404);
    expect((await manage(schedule, "/runs")).status).toBe(404);
    const left = await runInDurableObject(shard, (_, state) => count(state.storage.sql, "runs WHERE schedule_id = ?", schedule.id));
    expect(left).toBe(0);
  });

  it("takes the retention period from SCHEDULE_RETENTION_DAYS, in days", () => {
    expect(schedulerSettings(env).retentionMs).toBe(RETENTION_MS);
    expect(schedulerSettings({ ...env, SCHEDULE_RETENTION_DAYS: "30" }).retentionMs).toBe(30 * 24 * 3600 * 1000);
    expect(schedulerSettings({ ...env, SCHEDULE_RETENTION_DAYS: "0.5" }).retentionMs).toBe(12 * 3600 * 1000);
    expect(schedulerSettings({ ...env, SCHEDULE_RETENTION_DAYS: "-1" }).retentionMs).toBe(RETENTION_MS);
  });

  it("sets the alarm of a shard whose schedules have all finished to their prune time", async () => {
    const shard = privateShard();
    const id = `00${unique()}${unique()}abcdef`;
    const input: NewSchedule = {
      id,
      manageToken: "mt_test",
      tokenHash: "h",
      target: "hook",
      url: null,
      timing: { kind: "at", at: Date.now() + 300 },
      end: { times: null, until: null },
      ownerIp: null,
      payload: "{}",
      idempotencyKey: null,
      requestHash: "r",
    };
    await shard.create(input);
    await expect.poll(async () => ((await shard.get(id, { admin: true })) as ScheduleView | null)?.state, { timeout: 10_000, interval: 50 }).toBe("done");
    const finished = await runInDurableObject(shard, (_, state) =>
      state.storage.sql.exec<{ done_ms: number }>("SELECT done_ms FROM schedules WHERE id = ?", id).one().done_ms,
    );
    // The dispatcher sets the alarm as it ends, just after it recorded the delivery.
    const alarm = () => runInDurableObject(shard, (_, state) => state.storage.getAlarm());
    await expect.poll(alarm, { timeout: 5_000, interval: 50 }).toBe(finished + RETENTION_MS);
  });

  it("deletes a backlog a bounded batch per alarm, and nothing unfinished or still retained", async () => {
    const shard = privateShard();
    const extra = 20;
    const first = await runInDurableObject(shard, async (instance: Scheduler, state) => {
      const sql = state.storage.sql;
      insertFinished(sql, "old", PRUNE_LIMIT + extra, RETENTION_MS + 60_000);
      insertFinished(sql, "recent", 3, RETENTION_MS - 60_000);
      sql.exec(
        `INSERT INTO schedules (id, token_hash, request_hash, target, kind, every_ms, anchor_ms, payload, created_ms, occurrence_ms, due_ms)
         VALUES ('repeat', 'h', 'r', 'hook', 'every', 86400000, ?, '{}', ?, ?, ?)`,
        Date.now(), Date.now(), Date.now() + 86_400_000, Date.now() + 86_400_000,
      );
      await instance.alarm();
      return {
        old: count(sql, "schedules WHERE id LIKE 'old-%'"),
        oldRuns: count(sql, "runs WHERE schedule_id LIKE 'old-%'"),
        alarm: await state.storage.getAlarm(),
      };
    });
    expect(first.old).toBe(extra);
    expect(first.oldRuns).toBe(extra);
    // The rest is due now: the next alarm comes at once rather than at the next due time.
    expect(first.alarm).toBeLessThanOrEqual(Date.now());

    const remaining = () =>
      runInDurableObject(shard, (_, state) => ({
        old: count(state.storage.sql, "schedules WHERE id LIKE 'old-%'"),
        recent: count(state.storage.sql, "schedules WHERE id LIKE 'recent-%'"),
        recentRuns: count(state.storage.sql, "runs WHERE schedule_id LIKE 'recent-%'"),
        repeat: count(state.storage.sql, "schedules WHERE id = 'repeat'"),
      }));
    await expect.poll(async () => (await remaining()).old, { timeout: 5_000, interval: 50 }).toBe(0);
    expect(await remaining()).toEqual({ old: 0, recent: 3, recentRuns: 3, repeat: 1 });
  });

  it("dates and prunes schedules that finished before the shard kept finish times", async () => {
    const shard = privateShard();
    // A shard as it was before pruning: no done_ms column, two finished schedules, and no
    // record of the schema steps (shards of that time kept none).
    await runInDurableObject(shard, (_, state) => {
      const sql = state.storage.sql;
      insertFinished(sql, "ran-long-ago", 1, RETENTION_MS + 60_000);
      insertFinished(sql, "ran-lately", 1, 60_000);
      sql.exec("DROP INDEX schedules_done");
      sql.exec("ALTER TABLE schedules DROP COLUMN done_ms");
      sql.exec("UPDATE schedules SET created_ms = ?", Date.now() - 2 * RETENTION_MS);
      sql.exec("DROP TABLE _migrations");
    });
    await evictDurableObject(shard);
    const after = await runInDurableObject(shard, async (instance: Scheduler, state) => {
      const sql = state.storage.sql;
      const dated = sql.exec<{ id: string; done_ms: number }>("SELECT id, done_ms FROM schedules ORDER BY id").toArray();
      const alarm = await state.storage.getAlarm();
      await instance.alarm();
      return { dated, alarm, left: sql.exec<{ id: string }>("SELECT id FROM schedules").toArray().map((row) => row.id) };
    });
    // Dated by their last run, not by their (older) creation.
    expect(after.dated.map((row) => row.id)).toEqual(["ran-lately-0", "ran-long-ago-0"]);
    expect(Date.now() - after.dated[0]!.done_ms).toBeLessThan(2 * 60_000);
    expect(after.alarm).not.toBeNull();
    expect(after.left).toEqual(["ran-lately-0"]);
  });
});

describe("a shard made by an older version", () => {
  it("comes up with its schedules intact and every schema step recorded once", async () => {
    const shard = privateShard();
    // The tables as the first constructor made them: no finish time, no repeat end, no owner IP.
    await runInDurableObject(shard, (_, state) => {
      const sql = state.storage.sql;
      for (const table of ["_migrations", "runs", "schedules"]) sql.exec(`DROP TABLE ${table}`);
      sql.exec(`
        CREATE TABLE schedules (id TEXT PRIMARY KEY, token_hash TEXT NOT NULL, manage_token TEXT, idempotency_key TEXT UNIQUE,
          request_hash TEXT NOT NULL, target TEXT, url TEXT, kind TEXT NOT NULL, at_ms INTEGER, every_ms INTEGER, anchor_ms INTEGER,
          cron TEXT, tz TEXT, payload TEXT NOT NULL, created_ms INTEGER NOT NULL, occurrence_ms INTEGER, due_ms INTEGER,
          attempt INTEGER NOT NULL DEFAULT 0, run_count INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE runs (seq INTEGER PRIMARY KEY AUTOINCREMENT, schedule_id TEXT NOT NULL, at_ms INTEGER NOT NULL,
          occurrence_ms INTEGER NOT NULL, attempt INTEGER NOT NULL, ok INTEGER NOT NULL, status INTEGER, duration_ms INTEGER NOT NULL, error TEXT);
      `);
      sql.exec(
        `INSERT INTO schedules (id, token_hash, request_hash, target, kind, at_ms, payload, created_ms, occurrence_ms, due_ms)
         VALUES ('waiting', 'h', 'r', 'hook', 'at', ?, '{"n":1}', ?, ?, ?)`,
        Date.now() + 86_400_000, Date.now(), Date.now() + 86_400_000, Date.now() + 86_400_000,
      );
    });
    await evictDurableObject(shard);

    const after = await runInDurableObject(shard, (instance: Scheduler, state) => ({
      schedule: instance.get("waiting", { admin: true }),
      steps: state.storage.sql.exec<{ version: number }>("SELECT version FROM _migrations ORDER BY version").toArray().map((row) => row.version),
    }));
    expect(after.schedule).toMatchObject({ id: "waiting", payload: { n: 1 }, state: "scheduled", runCount: 0 });
    expect(after.steps).toEqual([1, 2, 3, 4]);

    // The next start finds every step recorded and runs none again.
    await evictDurableObject(shard);
    const again = await runInDurableObject(shard, (_, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM _migrations").one().n);
    expect(again).toBe(4);
  });
});
