import { env, exports } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, fetchWithVars } from "../../test/edge/support.ts";
import { directoryFor } from "../streams/followers.ts";
import { ADMIN, append, bearer, call, createStream, token, unique } from "../../test/edge/stream-support.ts";
import { globMatch, isPattern } from "./glob.ts";
import { Subscription } from "./subscription.ts";

/** The receiver Worker that stands in for the internet (test/webhook-receiver.worker.js). */
const receiver = (env as unknown as { RECEIVER: Fetcher }).RECEIVER;

interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

interface Wake {
  subscription_id: string;
  wake_id: string;
  generation: number;
  streams: { path: string; acked_offset: string; tail_offset: string; has_pending: boolean; link_type: string }[];
  callback_url: string;
  callback_token: string;
}

const subUrl = (id: string, rest = "") => `${BASE}/v1/stream/__ds/subscriptions/${id}${rest}`;
const control = (id: string, rest: string, init: RequestInit = {}) => exports.default.fetch(subUrl(id, rest), init);

function jsonInit(method: string, body: unknown, headers: Record<string, string> = ADMIN): RequestInit {
  return { method, headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) };
}

async function subscribe(id: string, body: Record<string, unknown>): Promise<Response> {
  return control(id, "", jsonInit("PUT", body));
}

/** Waits until the receiver has `count` requests at `hook` (scheme, host and path). */
async function deliveries(hook: string, count: number): Promise<Delivery[]> {
  const response = await receiver.fetch(`https://receiver/deliveries?path=${encodeURIComponent(hook)}&count=${count}`);
  const all = (await response.json()) as Delivery[];
  if (all.length < count) throw new Error(`expected ${count} deliveries at ${hook}, got ${all.length}`);
  return all;
}

const wakeOf = (delivery: Delivery) => JSON.parse(delivery.body) as Wake;

async function report(url: string, wake: Wake, acks: { stream: string; offset: string }[], done: boolean, tokenValue = wake.callback_token) {
  return exports.default.fetch(url, jsonInit("POST", { wake_id: wake.wake_id, generation: wake.generation, acks, done }, bearer(tokenValue)));
}

async function verify(delivery: Delivery): Promise<boolean> {
  const match = /^t=(\d+),kid=([^,]+),ed25519=([A-Za-z0-9_-]+)$/.exec(delivery.headers["webhook-signature"] ?? "");
  if (!match) return false;
  const [, t, kid, signature] = match;
  const jwks = (await (await exports.default.fetch(`${BASE}/v1/stream/__ds/jwks.json`)).json()) as { keys: (JsonWebKey & { kid: string })[] };
  const jwk = jwks.keys.find((key) => key.kid === kid);
  if (!jwk) return false;
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "Ed25519" }, false, ["verify"]);
  const bytes = Uint8Array.from(atob(signature!.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  return crypto.subtle.verify({ name: "Ed25519" }, key, bytes, new TextEncoder().encode(`${t}.${delivery.body}`));
}

describe("paths and patterns", () => {
  it("keeps __ds for control routes: it is never a stream", async () => {
    const reserved = await call("__ds/anything", { method: "PUT", headers: { "Content-Type": "text/plain", ...ADMIN } });
    expect(reserved.status).toBe(404);
    expect(((await reserved.json()) as { error: { code: string } }).error.code).toBe("SUBSCRIPTION_NOT_FOUND");
  });

  it("matches patterns segment by segment", () => {
    expect(globMatch("events/*", "events/a")).toBe(true);
    expect(globMatch("events/*", "events")).toBe(false);
    expect(globMatch("events/*", "events/a/b")).toBe(false);
    expect(globMatch("events/**", "events")).toBe(true);
    expect(globMatch("events/**", "events/a/b")).toBe(true);
    expect(globMatch("**/log", "a/b/log")).toBe(true);
    expect(globMatch("*/log", "a/b/log")).toBe(false);
    expect(isPattern("events/*")).toBe(true);
    expect(isPattern("events/a*")).toBe(false);
  });
});

describe("webhook subscriptions", () => {
  it("sends a signed wake when a matching stream gets data, and takes acks on the callback", async () => {
    const id = unique("sub");
    const prefix = unique("orders");
    const hook = `https://hooks.example.com/subs/${id}`;
    const created = await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: hook }, lease_ttl_ms: 60_000 });
    expect(created.status).toBe(201);
    const description = (await created.json()) as { webhook: { signing: { alg: string; kid: string; jwks_url: string } } };
    expect(description.webhook.signing).toMatchObject({ alg: "ed25519", jwks_url: `${BASE}/v1/stream/__ds/jwks.json` });
    expect(description.webhook.signing.kid).toMatch(/^ds_/);

    const path = `${prefix}/1`;
    await createStream(path, { type: "application/json", body: '{"n":1}' });
    const [first] = await deliveries(hook, 1);
    expect(await verify(first!)).toBe(true);
    const wake = wakeOf(first!);
    expect(wake.subscription_id).toBe(id);
    expect(wake.callback_url).toBe(subUrl(id, "/callback"));
    const stream = wake.streams.find((s) => s.path === path)!;
    expect(stream).toMatchObject({ acked_offset: "-1", has_pending: true, link_type: "glob" });

    // A tampered body no longer verifies.
    expect(await verify({ ...first!, body: first!.body.replace(id, `${id}x`) })).toBe(false);

    const done = await report(wake.callback_url, wake, [{ stream: path, offset: stream.tail_offset }], true);
    expect(await done.json()).toEqual({ ok: true, next_wake: false });
    const got = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string; acked_offset: string }[] };
    expect(got.streams).toEqual([{ path, link_type: "glob", acked_offset: stream.tail_offset }]);

    // The same token again: that generation is over.
    const stale = await report(wake.callback_url, wake, [], true);
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { error: { code: string } }).error.code).toBe("FENCED");

    // The next append is a new wake of the next generation.
    await append(path, '{"n":2}', "application/json");
    const [, second] = await deliveries(hook, 2);
    expect(wakeOf(second!).generation).toBe(wake.generation + 1);
  });

  it("acknowledges the whole wake when the receiver answers {done: true}", async () => {
    const id = unique("sub-done");
    const prefix = unique("jobs");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: `${hook}?done=true` } });
    await createStream(`${prefix}/a`, { body: "x" });
    const [delivery] = await deliveries(hook, 1);
    const tail = wakeOf(delivery!).streams[0]!.tail_offset;
    let acked = "";
    for (let i = 0; i < 100 && acked !== tail; i++) {
      const body = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { acked_offset: string }[] };
      acked = body.streams[0]!.acked_offset;
      if (acked !== tail) await new Promise((done) => setTimeout(done, 20));
    }
    expect(acked).toBe(tail);
  });

  it("retries a failing receiver with backoff, and redelivers a wake whose lease ran out", async () => {
    const id = unique("sub-retry");
    const prefix = unique("retry");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: `${hook}?respond=503,200` }, lease_ttl_ms: 1000 });
    await createStream(`${prefix}/a`, { body: "x" });
    await deliveries(hook, 1);
    expect(((await (await control(id, "", { headers: ADMIN })).json()) as { status: string }).status).toBe("failed");
    // The alarm retries about a second later, with the same wake.
    const [failed, retried] = await deliveries(hook, 2);
    expect(wakeOf(retried!).generation).toBe(wakeOf(failed!).generation);

    // Nobody calls back: when the lease (1 s) runs out the wake is offered again, a generation later.
    const third = (await deliveries(hook, 3))[2]!;
    expect(wakeOf(third).generation).toBe(wakeOf(retried!).generation + 1);
    const fenced = await report(wakeOf(retried!).callback_url, wakeOf(retried!), [], true);
    expect(fenced.status).toBe(409);
  });

  it("links existing streams at their tail, and follows explicit streams before they exist", async () => {
    const prefix = unique("existing");
    await createStream(`${prefix}/old`, { body: "history" });
    const id = unique("sub-links");
    const hook = `https://hooks.example.com/subs/${id}`;
    const later = `${unique("explicit")}/later`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, streams: [later], webhook: { url: hook } });
    const body = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string; link_type: string }[] };
    expect(body.streams.map((s) => [s.path, s.link_type])).toEqual([
      [`${prefix}/old`, "glob"],
      [later, "explicit"],
    ]);
    // Nothing is pending, so nothing was sent; the explicit stream's creation with data wakes it.
    await createStream(later, { body: "new" });
    const [delivery] = await deliveries(hook, 1);
    const wake = wakeOf(delivery!);
    expect(wake.streams.filter((s) => s.has_pending).map((s) => s.path)).toEqual([later]);

    // Deleting a stream unlinks it.
    expect((await call(`${prefix}/old`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    const after = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string }[] };
    expect(after.streams.map((s) => s.path)).toEqual([later]);
  });

  it("sends the next wake at once when the receiver finishes a wake before answering its POST", async () => {
    const id = unique("sub-early");
    const prefix = unique("early");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: `${hook}?delay=3000,0` }, lease_ttl_ms: 60_000 });
    const path = `${prefix}/a`;
    await createStream(path, { body: "one" });
    const [first] = await deliveries(hook, 1);
    const wake = wakeOf(first!);
    await append(path, "two");
    // The receiver still holds the first POST; it acknowledges the first tail and is done.
    const done = await report(wake.callback_url, wake, [{ stream: path, offset: wake.streams[0]!.tail_offset }], true);
    expect(await done.json()).toEqual({ ok: true, next_wake: true });
    const [, second] = (await deliveries(hook, 2)) as (Delivery & { at: number })[];
    expect(wakeOf(second!).generation).toBe(wake.generation + 1);
    // It arrived while the first POST was still unanswered, not after a retry timer.
    expect(second!.at - (first as Delivery & { at: number }).at).toBeLessThan(3000);
  });

  it("finds streams under any first segment for a pattern that starts with a wildcard", async () => {
    // The registry is sharded by first segment: these land in several shards.
    const leaf = unique("leaf");
    const before = Array.from({ length: 6 }, (_, i) => `region-${i}/${leaf}`);
    for (const path of before) await createStream(path, { body: "old" });
    const id = unique("sub-wild");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `*/${leaf}`, webhook: { url: hook }, lease_ttl_ms: 60_000 });
    const linked = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string }[] };
    expect(linked.streams.map((s) => s.path)).toEqual(before);

    const after = Array.from({ length: 6 }, (_, i) => `zone-${i}/${leaf}`);
    for (const path of after) await createStream(path, { body: "new" });
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    const done = await report(wake.callback_url, wake, wake.streams.map((s) => ({ stream: s.path, offset: s.tail_offset })), false);
    expect(done.status).toBe(200);
    const all = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string }[] };
    expect(all.streams.map((s) => s.path).sort()).toEqual([...before, ...after].sort());
  });

  it("tells a subscription it could not reach of the append later, by the stream's alarm", async () => {
    const id = unique("sub-missed");
    const path = `${unique("missed")}/s`;
    const hook = `https://hooks.example.com/subs/${id}`;
    await createStream(path, { body: "before" });
    await subscribe(id, { type: "webhook", streams: [path], webhook: { url: hook }, lease_ttl_ms: 60_000 });
    // This subscription's object fails while the append happens (workerd logs the failed call
    // as an uncaught exception on the object's side); the append still succeeds.
    const original = Subscription.prototype.streamChanged;
    Subscription.prototype.streamChanged = function (this: Subscription, ...args) {
      if ((this as unknown as { ctx: DurableObjectState }).ctx.id.name === id) return Promise.reject(new Error("overloaded"));
      return original.apply(this, args);
    };
    let tail: string;
    try {
      tail = await append(path, "after");
    } finally {
      Subscription.prototype.streamChanged = original;
    }
    const stream = env.STREAMS.getByName(path);
    expect(await runInDurableObject(stream, (_object, state) => state.storage.getAlarm())).not.toBeNull();
    expect(await runDurableObjectAlarm(stream)).toBe(true);
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    expect(wake.streams).toEqual([expect.objectContaining({ path, tail_offset: tail, has_pending: true })]);
  });

  it("finds a stream made before the registry existed once it is appended to", async () => {
    const prefix = unique("legacy");
    const path = `${prefix}/old`;
    await createStream(path, { body: "history" });
    // As a stream from before subscriptions: unknown to the registry, not marked registered.
    await directoryFor(env, path).streamRemoved(path);
    await runInDurableObject(env.STREAMS.getByName(path), (_object, state) => {
      const meta = state.storage.kv.get<Record<string, unknown>>("meta")!;
      delete meta.registered;
      state.storage.kv.put("meta", meta);
    });
    await evictDurableObject(env.STREAMS.getByName(path));
    const id = unique("sub-legacy");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: hook } });
    const tail = await append(path, " and more");
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    expect(wake.streams).toEqual([expect.objectContaining({ path, tail_offset: tail })]);
  });

  it("refuses acks that regress, pass the tail or name other streams", async () => {
    const id = unique("sub-acks");
    const prefix = unique("acks");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: hook }, lease_ttl_ms: 60_000 });
    const path = `${prefix}/s`;
    await createStream(path, { body: "one" });
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    const tail = wake.streams[0]!.tail_offset;
    const codes = async (acks: { stream: string; offset: string }[]) => {
      const response = await report(wake.callback_url, wake, acks, false);
      return [response.status, ((await response.json()) as { error?: { code: string } }).error?.code];
    };
    expect(await codes([{ stream: path, offset: "-1" }])).toEqual([409, "INVALID_OFFSET"]);
    expect(await codes([{ stream: path, offset: "9999999999999999_9999999999999999" }])).toEqual([409, "INVALID_OFFSET"]);
    expect(await codes([{ stream: `${prefix}/other`, offset: tail }])).toEqual([409, "INVALID_OFFSET"]);
    expect(await codes([{ stream: path, offset: tail }])).toEqual([200, undefined]);
    expect(await codes([{ stream: path, offset: "0000000000000000_0000000000000000" }])).toEqual([409, "INVALID_OFFSET"]);
    // A forged token is refused before anything else.
    const forged = await report(wake.callback_url, wake, [], true, `${wake.callback_token}x`);
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe("TOKEN_INVALID");
  });

  it("refuses a callback token of another kind, or without an audience, signed with the subscription's own secret", async () => {
    const id = unique("sub-aud");
    const prefix = unique("aud");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: hook }, lease_ttl_ms: 60_000 });
    await createStream(`${prefix}/s`, { body: "one" });
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    const secret = await runInDurableObject(env.SUBSCRIPTIONS.getByName(id), (_object, state) => state.storage.kv.get<{ secret: string }>("config")!.secret);
    const key = Uint8Array.from(atob(secret), (c) => c.charCodeAt(0));
    const claims = { epoch: wake.generation, sub: `subscription:${id}` };
    const exp = Math.floor(Date.now() / 1000) + 600;
    for (const aud of ["edge-widgets:stream", undefined]) {
      const replayed = await new SignJWT({ ...claims, aud, exp }).setProtectedHeader({ alg: "HS256" }).sign(key);
      const response = await report(wake.callback_url, wake, [], true, replayed);
      expect(response.status, String(aud)).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "TOKEN_INVALID" } });
    }
    expect((await report(wake.callback_url, wake, [], true)).status).toBe(200);
  });

  it("keeps its state when its object is evicted", async () => {
    const id = unique("sub-evict");
    const prefix = unique("evict");
    const hook = `https://hooks.example.com/subs/${id}`;
    await subscribe(id, { type: "webhook", pattern: `${prefix}/*`, webhook: { url: hook }, lease_ttl_ms: 60_000 });
    await createStream(`${prefix}/s`, { body: "one" });
    const wake = wakeOf((await deliveries(hook, 1))[0]!);
    await evictDurableObject(env.SUBSCRIPTIONS.getByName(id));
    const done = await report(wake.callback_url, wake, [{ stream: `${prefix}/s`, offset: wake.streams[0]!.tail_offset }], true);
    expect(await done.json()).toEqual({ ok: true, next_wake: false });
    await append(`${prefix}/s`, "two");
    expect(wakeOf((await deliveries(hook, 2))[1]!).generation).toBe(wake.generation + 1);
  });
});

describe("creating and changing subscriptions", () => {
  it("re-confirms an identical PUT with 200 and refuses a different one with 409", async () => {
    const id = unique("sub-idem");
    const body = { type: "webhook", pattern: "idem/*", webhook: { url: "https://hooks.example.com/idem" } };
    expect((await subscribe(id, body)).status).toBe(201);
    expect((await subscribe(id, body)).status).toBe(200);
    const other = await subscribe(id, { ...body, pattern: "other/*" });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("SUBSCRIPTION_ALREADY_EXISTS");
    expect((await control(id, "", { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect((await control(id, "", { headers: ADMIN })).status).toBe(404);
    expect((await subscribe(id, { ...body, pattern: "other/*" })).status).toBe(201);
  });

  it("refuses webhook URLs that could reach a private network", async () => {
    for (const url of ["http://10.0.0.1/hook", "https://10.0.0.1/hook", "https://127.0.0.1/hook", "http://localhost:8080/hook", "http://hooks.example.com/plain", "https://169.254.169.254/latest", "https://hooks.example.com:8443/x", "https://printer.local/x", "ftp://hooks.example.com/x"]) {
      const response = await subscribe(unique("sub-url"), { type: "webhook", pattern: "x/*", webhook: { url } });
      expect(response.status, url).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code, url).toBe("WEBHOOK_URL_REJECTED");
    }
  });

  describe("a webhook to a loopback receiver", () => {
    const subscribeVia = (vars: Parameters<typeof fetchWithVars>[0], origin: string, url: string) =>
      fetchWithVars(vars, `${origin}/v1/stream/__ds/subscriptions/${unique("sub-loop")}`, jsonInit("PUT", { type: "webhook", pattern: `${unique("loop")}/*`, webhook: { url } }));

    it.each(["http://localhost:8787", "http://127.0.0.1:8787", BASE])("is refused by a backend without LOCAL_DEV, reached at %s", async (origin) => {
      for (const url of ["http://127.0.0.1:9999/hook", "http://localhost:6379/", "http://[::1]:8080/hook"]) {
        const response = await subscribeVia({ LOCAL_DEV: undefined }, origin, url);
        expect(response.status, url).toBe(400);
        expect(await response.json()).toMatchObject({ error: { code: "WEBHOOK_URL_REJECTED", message: expect.stringContaining("loopback") } });
      }
    });

    it("is accepted by a backend the local runner started (LOCAL_DEV=true)", async () => {
      expect((await subscribeVia({ LOCAL_DEV: "true" }, "http://127.0.0.1:8787", "http://127.0.0.1:9999/hook")).status).toBe(201);
    });
  });

  it("answers bad bodies with 400 INVALID_REQUEST", async () => {
    const id = unique("sub-bad");
    const cases: unknown[] = [
      "not json",
      { type: "push", pattern: "a/*" },
      { type: "webhook", webhook: { url: "https://hooks.example.com/x" } },
      { type: "webhook", pattern: "a/*" },
      { type: "pull-wake", pattern: "a/*" },
      { type: "webhook", pattern: "a/b*", webhook: { url: "https://hooks.example.com/x" } },
      { type: "webhook", streams: ["a//b"], webhook: { url: "https://hooks.example.com/x" } },
      { type: "webhook", pattern: "a/*", webhook: { url: "https://hooks.example.com/x" }, lease_ttl_ms: 10 },
    ];
    for (const body of cases) {
      const response = await control(id, "", {
        method: "PUT",
        headers: { "Content-Type": "application/json", ...ADMIN },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("INVALID_REQUEST");
    }
    expect((await control("bad id!", "", { headers: ADMIN })).status).toBe(400);
    expect((await control(unique("missing"), "/claim", jsonInit("POST", { worker: "w" }))).status).toBe(404);
  });

  it("answers a consumer report nested deeper than 64 levels with 400 INVALID_REQUEST", async () => {
    const deep = `{"wake_id":"w","acks":${"[".repeat(8_000)}${"]".repeat(8_000)}}`;
    const response = await control(unique("sub-deep"), "/callback", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...bearer("a-wake-token") },
      body: deep,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "INVALID_REQUEST", message: expect.stringContaining("64") } });
  });

  it("needs a write token for all streams to manage subscriptions", async () => {
    const id = unique("sub-auth");
    const body = { type: "webhook", pattern: "auth/*", webhook: { url: "https://hooks.example.com/auth" } };
    const status = async (headers: Record<string, string>) => (await control(id, "", jsonInit("PUT", body, headers))).status;
    expect(await status({})).toBe(401);
    expect(await status(bearer(await token({ scope: "read" })))).toBe(403);
    expect(await status(bearer(await token({ scope: "write", stream: "auth/one" })))).toBe(403);
    expect(await status(bearer(await token({ scope: "write" })))).toBe(201);
    expect((await control(id, "", {})).status).toBe(401);
    // The key that signs wakes is public.
    const jwks = await exports.default.fetch(`${BASE}/v1/stream/__ds/jwks.json`);
    expect(jwks.status).toBe(200);
    expect(jwks.headers.get("Content-Type")).toBe("application/jwk-set+json");
  });

  it("adds and removes explicit streams", async () => {
    const id = unique("sub-explicit");
    await subscribe(id, { type: "webhook", streams: ["manual/a"], webhook: { url: "https://hooks.example.com/explicit" } });
    expect((await control(id, "/streams", jsonInit("POST", { streams: ["manual/b", "manual/c"] }))).status).toBe(204);
    expect((await control(id, `/streams/${encodeURIComponent("manual/b")}`, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    const body = (await (await control(id, "", { headers: ADMIN })).json()) as { streams: { path: string }[] };
    expect(body.streams.map((s) => s.path)).toEqual(["manual/a", "manual/c"]);
    expect((await control(id, "/streams", jsonInit("POST", { streams: [] }))).status).toBe(400);
  });
});

describe("pull-wake subscriptions", () => {
  it("appends wake events, hands the wake to one worker at a time and frees it when the lease runs out", async () => {
    const wakeStream = unique("wake-pool");
    await createStream(wakeStream, { type: "application/json", body: "[]", public: true });
    const id = unique("pull");
    const prefix = unique("tasks");
    expect((await subscribe(id, { type: "pull-wake", pattern: `${prefix}/*`, wake_stream: wakeStream, lease_ttl_ms: 1000 })).status).toBe(201);
    const path = `${prefix}/t`;
    await createStream(path, { type: "application/json", body: '{"task":1}' });

    let events: { type: string; subscription_id: string; stream: string; generation: number }[] = [];
    for (let i = 0; i < 100 && events.length === 0; i++) {
      events = (await (await call(wakeStream, { query: "?offset=-1" })).json()) as typeof events;
      if (events.length === 0) await new Promise((done) => setTimeout(done, 20));
    }
    expect(events).toEqual([expect.objectContaining({ type: "wake", subscription_id: id, stream: path, generation: 1 })]);

    const claim = (worker: string) => control(id, "/claim", jsonInit("POST", { worker }));
    const first = await claim("w1");
    expect(first.status).toBe(200);
    const claimed = (await first.json()) as { token: string; wake_id: string; generation: number; streams: { tail_offset: string }[] };
    const busy = await claim("w2");
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: Record<string, unknown> }).error).toMatchObject({ code: "ALREADY_CLAIMED", current_holder: "w1" });

    // w1 goes quiet: once its lease (1 s) ends, w2 can claim, and w1's token is fenced.
    let second = await claim("w2");
    for (let i = 0; i < 200 && second.status === 409; i++) {
      await new Promise((done) => setTimeout(done, 20));
      second = await claim("w2");
    }
    expect(second.status).toBe(200);
    const reclaimed = (await second.json()) as typeof claimed;
    expect(reclaimed.generation).toBeGreaterThan(claimed.generation);
    const late = await control(id, "/ack", jsonInit("POST", { wake_id: claimed.wake_id, generation: claimed.generation, done: true }, bearer(claimed.token)));
    expect(late.status).toBe(409);

    const ack = await control(
      id,
      "/ack",
      jsonInit("POST", { wake_id: reclaimed.wake_id, generation: reclaimed.generation, acks: [{ stream: path, offset: reclaimed.streams[0]!.tail_offset }], done: true }, bearer(reclaimed.token)),
    );
    expect(await ack.json()).toEqual({ ok: true, next_wake: false });
    const idle = await claim("w3");
    expect(idle.status).toBe(409);
    expect(((await idle.json()) as { error: { code: string } }).error.code).toBe("NO_PENDING_WORK");
  });
});
