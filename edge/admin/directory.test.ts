import { exports } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { BASE, openSocket, ofType } from "../../test/edge/support.ts";
import { ADMIN, append, call, createStream, unique } from "../../test/edge/stream-support.ts";

const list = async <T>(path: string) => {
  const response = await exports.default.fetch(`${BASE}${path}`, { headers: ADMIN });
  expect(response.status).toBe(200);
  return (await response.json()) as T;
};

interface StreamEntry {
  name: string;
  bytes: number;
  tail: string;
  public: boolean;
  closed: boolean;
  ttlSeconds?: number;
  lastActive: string;
}

/** Every stream page after page, to find ours among the other tests' streams. */
async function allStreams(): Promise<StreamEntry[]> {
  const out: StreamEntry[] = [];
  let cursor: string | null = null;
  do {
    const page: { streams: StreamEntry[]; cursor: string | null } = await list(`/api/admin/streams?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    out.push(...page.streams);
    cursor = page.cursor;
  } while (cursor);
  return out;
}

// An object reports its first write a couple of seconds later, in one call; the tests wait for it.
const reported = { timeout: 8_000, interval: 200 };

describe("the directory of objects", { timeout: 20_000 }, () => {
  it("lists a stream once it has data, with its size, tail, TTL and whether it is public or closed", async () => {
    const name = unique("dir-stream");
    await createStream(name, { public: true, headers: { "Stream-TTL": "3600" } });
    const tail = await append(name, "hello");
    const entry = await vi.waitFor(async () => {
      const found = (await allStreams()).find((stream) => stream.name === name);
      expect(found).toBeDefined();
      return found!;
    }, reported);
    expect(entry).toMatchObject({ tail, public: true, closed: false, ttlSeconds: 3600 });
    expect(entry.bytes).toBe(Number(tail.split("_")[1]));
  });

  it("drops a deleted stream from the list", async () => {
    const name = unique("dir-gone");
    await createStream(name, { body: "x" });
    await vi.waitFor(async () => expect((await allStreams()).map((s) => s.name)).toContain(name), reported);
    expect((await call(name, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    expect((await allStreams()).map((s) => s.name)).not.toContain(name);
  });

  it("lists a room once a message is posted, with who is here and how many messages it keeps", async () => {
    const room = unique("dir-room");
    const socket = await openSocket(`/api/rooms/${room}/ws?name=Ada`, { "CF-Connecting-IP": "2001:db8::d1" });
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "send", id: "m1", text: "hi" }));
    await socket.next(ofType("ack"));
    const entry = await vi.waitFor(async () => {
      const { rooms } = await list<{ rooms: { name: string; members: number; messages: number }[] }>(`/api/admin/rooms?limit=100`);
      const found = rooms.find((r) => r.name === room);
      expect(found).toBeDefined();
      return found!;
    }, reported);
    expect(entry).toMatchObject({ members: 1, messages: 1 });
    socket.ws.close();
  });

  it("lists a counter once it is clicked, with its value", async () => {
    const name = unique("dir-counter");
    const socket = await openSocket(`/api/counters/${name}/ws`, { "CF-Connecting-IP": "2001:db8::d2" });
    await socket.next(ofType("ready"));
    socket.ws.send(JSON.stringify({ type: "click" }));
    await socket.next(ofType("count"));
    const entry = await vi.waitFor(async () => {
      const { counters } = await list<{ counters: { name: string; value: number }[] }>(`/api/admin/counters?limit=100`);
      const found = counters.find((c) => c.name === name);
      expect(found).toBeDefined();
      return found!;
    }, reported);
    expect(entry.value).toBe(1);
    socket.ws.close();
  });

  it("pages with limit and cursor, each name once", async () => {
    const prefix = unique("dir-page");
    for (const n of [1, 2, 3]) await createStream(`${prefix}-${n}`, { body: "x" });
    await vi.waitFor(async () => expect((await allStreams()).filter((s) => s.name.startsWith(prefix))).toHaveLength(3), reported);
    const first = await list<{ streams: StreamEntry[]; cursor: string | null }>("/api/admin/streams?limit=1");
    expect(first.streams).toHaveLength(1);
    expect(first.cursor).not.toBeNull();
    const second = await list<{ streams: StreamEntry[] }>(`/api/admin/streams?limit=1&cursor=${encodeURIComponent(first.cursor!)}`);
    expect(second.streams[0]!.name > first.streams[0]!.name).toBe(true);
  });

  it("refuses a limit out of range", async () => {
    const response = await exports.default.fetch(`${BASE}/api/admin/streams?limit=1000`, { headers: ADMIN });
    expect(response.status).toBe(400);
  });

  it("is for the admin only", async () => {
    for (const path of ["/api/admin/counters", "/api/admin/rooms", "/api/admin/streams", "/api/admin/subscriptions"]) {
      expect((await exports.default.fetch(`${BASE}${path}`)).status).toBe(401);
    }
  });
});
