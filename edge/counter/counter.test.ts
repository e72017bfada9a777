import { env, exports } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { BASE, ofType, openSocket } from "../../test/edge/support.ts";

// Every socket gets an address of its own, so one test's clicks never spend another's tokens.
let lastHost = 0;
const ip = () => `203.0.113.${++lastHost}`;
const get = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);

describe("GET /api/counters/{name}", () => {
  it("starts a new counter at zero", async () => {
    const response = await get("/api/counters/fresh");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: "fresh", count: 0 });
  });

  it.each(["bad%20name", "x".repeat(65), "semi%3Bcolon", "%E2%9C%93"])("refuses the name %s with a 400", async (name) => {
    const response = await get(`/api/counters/${name}`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_name" } });
  });

  it("answers a wrong method with 405 and Allow", async () => {
    const response = await get("/api/counters/likes", { method: "POST" });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET");
    expect(await response.json()).toMatchObject({ error: { code: "method_not_allowed" } });
  });
});

describe("counter socket", () => {
  it("refuses a plain HTTP request with 426", async () => {
    const response = await get("/api/counters/likes/ws");
    expect(response.status).toBe(426);
    expect(await response.json()).toMatchObject({ error: { code: "upgrade_required" } });
  });

  it("sends the count, then broadcasts every click to every viewer", async () => {
    const a = await openSocket("/api/counters/live/ws", { "CF-Connecting-IP": ip() });
    const b = await openSocket("/api/counters/live/ws", { "CF-Connecting-IP": ip() });
    expect(await a.next(ofType("ready"))).toEqual({ type: "ready", count: 0 });
    expect(await b.next(ofType("ready"))).toEqual({ type: "ready", count: 0 });

    a.ws.send(JSON.stringify({ type: "click" }));
    expect(await b.next(ofType("count"))).toEqual({ type: "count", count: 1 });
    expect(await a.next(ofType("count"))).toEqual({ type: "count", count: 1 });
    expect(await (await get("/api/counters/live")).json()).toEqual({ name: "live", count: 1 });
  });

  it("coalesces a burst of clicks into fewer broadcasts that end on the right count", async () => {
    const viewer = await openSocket("/api/counters/burst/ws", { "CF-Connecting-IP": ip() });
    await viewer.next(ofType("ready"));
    const clickers = await Promise.all([1, 2, 3, 4].map(() => openSocket("/api/counters/burst/ws", { "CF-Connecting-IP": ip() })));
    for (const clicker of clickers) {
      await clicker.next(ofType("ready"));
      for (let i = 0; i < 5; i++) clicker.ws.send(JSON.stringify({ type: "click" }));
    }
    let broadcasts = 0;
    for (;;) {
      const frame = await viewer.next<{ count: number }>(ofType("count"));
      broadcasts += 1;
      if (frame.count === 20) break;
    }
    expect(broadcasts).toBeLessThan(20);
  });

  it("keeps its count when the object is evicted from memory", async () => {
    const socket = await openSocket("/api/counters/durable/ws", { "CF-Connecting-IP": ip() });
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "click" }));
    socket.ws.send(JSON.stringify({ type: "click" }));
    await socket.next((f) => f.type === "count" && f.count === 2);
    socket.ws.close(1000);
    await evictDurableObject(env.COUNTER.getByName("durable"), { webSockets: "close" });
    expect(await (await get("/api/counters/durable")).json()).toEqual({ name: "durable", count: 2 });
  });

  it("answers garbage and unknown messages with an error frame and keeps the count", async () => {
    const socket = await openSocket("/api/counters/garbage/ws", { "CF-Connecting-IP": ip() });
    await socket.next(ofType("ready"));
    socket.ws.send("{not json");
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "bad_frame" });
    socket.ws.send(JSON.stringify({ type: "reset", count: 0 }));
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "invalid_message" });
    socket.ws.send(JSON.stringify({ type: "click", by: 1000 }));
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "invalid_message" });
    socket.ws.send(JSON.stringify({ type: "click" }));
    expect(await socket.next(ofType("count"))).toEqual({ type: "count", count: 1 });
  });

  it("answers a frame nested deeper than 64 levels with a too_deep error frame and stays open", async () => {
    const socket = await openSocket("/api/counters/deep/ws", { "CF-Connecting-IP": ip() });
    await socket.next(ofType("ready"));
    socket.ws.send(`{"type":"click","x":${"[".repeat(100)}${"]".repeat(100)}}`);
    expect(await socket.next(ofType("error"))).toMatchObject({ code: "too_deep", message: expect.stringContaining("64") });
    socket.ws.send(JSON.stringify({ type: "click" }));
    expect(await socket.next(ofType("count"))).toEqual({ type: "count", count: 1 });
  });

  it("closes with 1009 on an oversized frame and 1003 on a binary one", async () => {
    const big = await openSocket("/api/counters/sizes/ws", { "CF-Connecting-IP": ip() });
    await big.next(ofType("ready"));
    big.ws.send(JSON.stringify({ type: "click", pad: "x".repeat(10_000) }));
    expect((await big.closed).code).toBe(1009);

    const binary = await openSocket("/api/counters/sizes/ws", { "CF-Connecting-IP": ip() });
    await binary.next(ofType("ready"));
    binary.ws.send(new Uint8Array([1, 2, 3]));
    expect((await binary.closed).code).toBe(1003);
    expect(await (await get("/api/counters/sizes")).json()).toEqual({ name: "sizes", count: 0 });
  });

  it("closes a socket from a disallowed origin with 1008 before it reaches the counter", async () => {
    const socket = await openSocket("/api/counters/origin/ws", { Origin: "https://evil.example" });
    const closed = await socket.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain("evil.example");
  });

  it("accepts a socket from an allowed origin", async () => {
    const socket = await openSocket("/api/counters/origin/ws", { Origin: "https://allowed.example", "CF-Connecting-IP": ip() });
    expect(await socket.next(ofType("ready"))).toEqual({ type: "ready", count: 0 });
  });

  it("refuses clicks over the per-IP limit with a retry time, and counts only the accepted ones", async () => {
    const address = ip();
    const socket = await openSocket("/api/counters/limited/ws", { "CF-Connecting-IP": address });
    await socket.next(ofType("ready"));
    for (let i = 0; i < 8; i++) socket.ws.send(JSON.stringify({ type: "click" }));
    const refusal = await socket.next<{ code: string; retryAfterMs: number }>(ofType("error"));
    expect(refusal.code).toBe("rate_limited");
    expect(refusal.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.retryAfterMs).toBeLessThanOrEqual(1000);
    await socket.next((f) => f.type === "count" && f.count === 5);
    // Another IP is not affected by the first one's limit.
    const other = await openSocket("/api/counters/limited/ws", { "CF-Connecting-IP": ip() });
    await other.next(ofType("ready"));
    other.ws.send(JSON.stringify({ type: "click" }));
    await other.next((f) => f.type === "count" && f.count === 6);
    expect(await (await get("/api/counters/limited")).json()).toEqual({ name: "limited", count: 6 });
  });
});

describe("sockets per IP", () => {
  // The edge tests allow 6 at once per IP and route (SOCKETS_PER_IP in vitest.config.ts).
  const open = (counter: string, address: string) => openSocket(`/api/counters/${counter}/ws`, { "CF-Connecting-IP": address });
  const outcome = (socket: Awaited<ReturnType<typeof open>>) =>
    Promise.race([socket.closed, socket.next(ofType("ready")).then(() => "ready" as const)]);

  it("refuses the socket past SOCKETS_PER_IP with 1013 and a reason, across counters, and takes one again once one closes", async () => {
    const address = ip();
    const held = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => open(`cap-${n}`, address)));
    for (const socket of held) expect(await outcome(socket)).toBe("ready");
    const refused = await outcome(await open("cap-7", address));
    expect(refused).toMatchObject({ code: 1013, reason: expect.stringContaining("too many connections") });
    expect(await outcome(await open("cap-7", ip()))).toBe("ready");
    held[0]!.ws.close(1000);
    await held[0]!.closed;
    expect(await outcome(await open("cap-7", address))).toBe("ready");
  });

  it("counts chat sockets apart from counter sockets", async () => {
    const address = ip();
    const held = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => open(`apart-${n}`, address)));
    for (const socket of held) await outcome(socket);
    const chat = await openSocket(`/api/rooms/apart-${crypto.randomUUID().slice(0, 6)}/ws?name=Ann`, { "CF-Connecting-IP": address });
    expect(await outcome(chat)).toBe("ready");
  });

  it("frees the slots of sockets whose object went away without hearing them close", async () => {
    const address = ip();
    const held = await Promise.all([1, 2, 3, 4, 5, 6].map(() => open("restarted", address)));
    for (const socket of held) await outcome(socket);
    await evictDurableObject(env.COUNTER.getByName("restarted"), { webSockets: "close" });
    expect(await outcome(await open("after-restart", address))).toBe("ready");
  });
});
