import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, append, call, createStream, isData, readSse, unique } from "../../test/edge/stream-support.ts";

const HOT_BYTES = Number(env.STREAMS_HOT_BYTES);
const stub = (name: string) => env.STREAMS.getByName(name);
const settled = (name: string) => runInDurableObject(stub(name), (log) => log.settled());

describe("StreamLog storage: hot SQLite log and cold R2 segments", () => {
  it("moves older messages into R2 segments and reads across the boundary without gaps", async () => {
    const name = unique("rotate");
    await createStream(name, { public: true });
    const lines: string[] = [];
    const offsets: string[] = [];
    for (let i = 0; i < 40; i++) {
      const line = `line ${String(i).padStart(3, "0")} ${"x".repeat(60)}\n`;
      lines.push(line);
      offsets.push(await append(name, line));
      await settled(name);
    }
    const { segments, hotBytes } = await settled(name);
    expect(segments).toBeGreaterThan(1);
    expect(hotBytes).toBeLessThanOrEqual(HOT_BYTES);
    const stored = await env.STREAM_SEGMENTS.list();
    expect(stored.objects.length).toBeGreaterThanOrEqual(segments);

    const all = await call(name, { query: "?offset=-1" });
    expect(await all.text()).toBe(lines.join(""));
    // From an offset inside the cold part, and from one in the hot part.
    const fromCold = await call(name, { query: `?offset=${offsets[4]}` });
    expect(await fromCold.text()).toBe(lines.slice(5).join(""));
    const fromHot = await call(name, { query: `?offset=${offsets[37]}` });
    expect(await fromHot.text()).toBe(lines.slice(38).join(""));
  });

  it("keeps reading across segments after the object is evicted", async () => {
    const name = unique("rotate-evict");
    await createStream(name, { public: true });
    const lines = Array.from({ length: 30 }, (_, i) => `${i}:${"y".repeat(70)};`);
    for (const line of lines) await append(name, line);
    await settled(name);
    await evictDurableObject(stub(name));
    expect(await (await call(name, { query: "?offset=-1" })).text()).toBe(lines.join(""));
  });

  it("keeps its tail and hot bytes across a restart, though a plain append saves only its row", async () => {
    const name = unique("tail-restart");
    await createStream(name, { public: true });
    const lines = Array.from({ length: 5 }, (_, i) => `${i}:${"t".repeat(20)};`);
    const offsets: string[] = [];
    for (const line of lines) offsets.push(await append(name, line));
    const { hotBytes } = await settled(name);
    await evictDurableObject(stub(name));

    const head = await call(name, { method: "HEAD" });
    expect(head.headers.get("Stream-Next-Offset")).toBe(offsets.at(-1));
    expect((await settled(name)).hotBytes).toBe(hotBytes);
    const next = await append(name, "after;");
    expect(next > offsets.at(-1)!).toBe(true);
    expect(await (await call(name, { query: "?offset=-1" })).text()).toBe([...lines, "after;"].join(""));
  });

  it("keys a stream's segments by its object's id and incarnation, never by the path a visitor chose", async () => {
    const name = `${unique("keys")}/.hidden/x..`;
    await createStream(name, { public: true });
    for (let i = 0; i < 12; i++) await append(name, `${i}${"k".repeat(90)}`);
    await settled(name);
    const id = env.STREAMS.idFromName(name).toString();
    const { objects } = await env.STREAM_SEGMENTS.list({ prefix: `${id}/` });
    expect(objects.length).toBeGreaterThan(0);
    for (const { key } of objects) expect(key).toMatch(/^[0-9a-f]{64}\/[0-9a-f-]{36}\/\d{16}_\d{16}-\d{16}_\d{16}\.seg$/);
  });

  it("deletes a stream's segments with the stream, and a re-created stream starts empty", async () => {
    const name = unique("rotate-delete");
    await createStream(name, { public: true });
    for (let i = 0; i < 20; i++) await append(name, `${i}${"z".repeat(90)}`);
    await settled(name);
    expect((await call(name, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    await createStream(name, { public: true });
    expect(await (await call(name, { query: "?offset=-1" })).text()).toBe("");
  });
});

describe("StreamLog expiry", () => {
  it("removes a stream when its Expires-At alarm fires, ending its live readers", async () => {
    const name = unique("expires");
    const at = new Date(Date.now() + 1500).toISOString();
    await createStream(name, { body: "short-lived", public: true, headers: { "Stream-Expires-At": at } });
    for (let i = 0; i < 12; i++) await append(name, `${i}${"e".repeat(80)}`);
    await settled(name);
    const sse = readSse(await call(name, { query: "?offset=-1&live=sse" }));
    expect((await sse.next(isData))?.data).toBe("short-lived");
    // The alarm fires on its own; the reader's response ends when the stream is gone.
    await sse.ended();
    expect((await call(name, { method: "HEAD" })).status).toBe(404);
    const left = await runInDurableObject(stub(name), (_log, state) => ({
      meta: state.storage.kv.get("meta"),
      rows: state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM messages").one().n,
    }));
    expect(left).toEqual({ meta: undefined, rows: 0 });
    expect(await runDurableObjectAlarm(stub(name))).toBe(false);
  });

  it("schedules an alarm for a stream with a TTL and none for one without", async () => {
    const withTtl = unique("ttl");
    await createStream(withTtl, { headers: { "Stream-TTL": "3600" } });
    const without = unique("no-ttl");
    await createStream(without);
    expect(await runInDurableObject(stub(withTtl), (_l, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
    expect(await runInDurableObject(stub(without), (_l, state) => state.storage.getAlarm())).toBeNull();
    // The alarm re-arms itself while the stream is still fresh.
    expect(await runDurableObjectAlarm(stub(withTtl))).toBe(true);
    expect((await call(withTtl, { method: "HEAD", headers: ADMIN })).status).toBe(200);
    expect(await runInDurableObject(stub(withTtl), (_l, state) => state.storage.getAlarm())).toBeGreaterThan(Date.now());
  });
});

describe("live readers and hibernation", () => {
  it("waits on a hibernatable bridge socket, and keeps an SSE reader going across an eviction", async () => {
    const name = unique("evict-sse");
    await createStream(name, { public: true, type: "application/json" });
    const sse = readSse(await call(name, { query: "?offset=-1&live=sse" }));
    await sse.next((e) => e.type === "control");
    expect(await runInDurableObject(stub(name), (_l, state) => state.getWebSockets().length)).toBe(1);

    await append(name, JSON.stringify({ n: 1 }), "application/json");
    expect(JSON.parse((await sse.next(isData))!.data)).toEqual([{ n: 1 }]);

    // Evicted with its sockets hibernated: the next append wakes a fresh instance.
    await evictDurableObject(stub(name));
    await append(name, JSON.stringify({ n: 2 }), "application/json");
    expect(JSON.parse((await sse.next(isData))!.data)).toEqual([{ n: 2 }]);

    // Evicted with its sockets closed: the Worker resubscribes and reads what it missed.
    await evictDurableObject(stub(name), { webSockets: "close" });
    await append(name, JSON.stringify({ n: 3 }), "application/json");
    await append(name, JSON.stringify({ n: 4 }), "application/json");
    expect(JSON.parse((await sse.next(isData))!.data)).toEqual([{ n: 3 }]);
    expect(JSON.parse((await sse.next(isData))!.data)).toEqual([{ n: 4 }]);
    await sse.cancel();
  });

  it("answers a waiting long-poll with the next append", async () => {
    const name = unique("long-poll");
    const created = await createStream(name, { public: true });
    const tail = created.headers.get("Stream-Next-Offset")!;
    const waiting = call(name, { query: `?offset=${tail}&live=long-poll` });
    await append(name, "wake up");
    const response = await waiting;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("wake up");
  });

  it("ends an SSE reader with a closed control event when the stream is closed", async () => {
    const name = unique("close-sse");
    await createStream(name, { public: true });
    const sse = readSse(await call(name, { query: "?offset=-1&live=sse" }));
    await sse.next((e) => e.type === "control");
    await call(name, { method: "POST", headers: { "Stream-Closed": "true", ...ADMIN } });
    const closed = await sse.next((e) => e.type === "control" && e.data.includes("streamClosed"));
    expect(JSON.parse(closed!.data)).toMatchObject({ streamClosed: true });
    await sse.ended();
  });
});

describe("StreamLog.appendJson (used by other parts of the Worker)", () => {
  it("creates a public JSON stream on first use and appends one value per call", async () => {
    const name = unique("rpc");
    const first = await stub(name).appendJson({ title: "one" });
    const second = await stub(name).appendJson([1, 2]);
    expect(second.offset > first.offset).toBe(true);
    const read = await call(name, { query: "?offset=-1" });
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual([{ title: "one" }, [1, 2]]);
  });
});

describe("the stream API's input checks", () => {
  it("answers a bad stream name with 400 invalid_name", async () => {
    const response = await call("bad%20name!", { query: "?offset=-1" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_name" } });
  });

  it("refuses a JSON append nested deeper than 64 levels with 400 too_deep and keeps the stream as it was", async () => {
    const name = unique("deep");
    await createStream(name, { type: "application/json" });
    await append(name, '{"n":1}', "application/json");
    const deep = `[${"[".repeat(8_000)}${"]".repeat(8_000)}]`;
    const response = await call(name, { method: "POST", headers: { "Content-Type": "application/json", ...ADMIN }, body: deep });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "too_deep" } });
    expect(await (await call(name, { query: "?offset=-1", headers: ADMIN })).json()).toEqual([{ n: 1 }]);
  });

  it("refuses an append larger than one message may be with 413", async () => {
    const name = unique("big");
    await createStream(name);
    const response = await call(name, { method: "POST", headers: { "Content-Type": "text/plain", ...ADMIN }, body: "x".repeat(2 * 1024 * 1024) });
    expect(response.status).toBe(413);
  });
});

describe("a stream made by an older version", () => {
  it("comes up with its hot log, segments and producers intact and its schema step recorded", async () => {
    const name = unique("older");
    await createStream(name, { public: true });
    const producer = (seq: number) => ({ "Producer-Id": "writer", "Producer-Epoch": "0", "Producer-Seq": String(seq) });
    const write = (seq: number, body: string) => call(name, { method: "POST", headers: { "Content-Type": "text/plain", ...ADMIN, ...producer(seq) }, body });
    expect((await write(0, "first;")).status).toBe(200);
    const lines = Array.from({ length: 12 }, (_, i) => `${i}:${"o".repeat(70)};`);
    for (const line of lines) await append(name, line);
    await settled(name);
    // Streams made before schema steps were recorded have the same tables and no `_migrations`
    // (dropped by a fresh instance, which holds no half-read rows that would lock the table).
    await evictDurableObject(stub(name));
    await runInDurableObject(stub(name), (_log, state) => state.storage.sql.exec("DROP TABLE _migrations"));
    await evictDurableObject(stub(name));

    const { segments } = await settled(name);
    expect(segments).toBeGreaterThan(0);
    expect(await (await call(name, { query: "?offset=-1" })).text()).toBe(["first;", ...lines].join(""));
    // The producer's state survived: a retry is a duplicate, and its next sequence is stored.
    expect((await write(0, "first;")).status).toBe(204);
    expect((await write(1, "second;")).status).toBe(200);
    const steps = await runInDurableObject(stub(name), (_log, state) =>
      state.storage.sql.exec<{ version: number }>("SELECT version FROM _migrations").toArray().map((row) => row.version),
    );
    expect(steps).toEqual([1]);
  });
});
