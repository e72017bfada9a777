/**
 * Reads of public streams carry the protocol's caching headers and the Worker answers repeats
 * from the Cache API; private streams never reach it. Live readers sharing one socket per
 * isolate are tested on the real runtimes: test/e2e/stream-fan-out.test.ts.
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "../../test/edge/support.ts";
import { ADMIN, append, bearer, call, createStream, token, unique } from "../../test/edge/stream-support.ts";

/** What reached the stream's object so far (its own counter, the one the admin's load route shows). */
const load = (name: string) => env.STREAMS.getByName(name).load();

describe("a private stream's reads", () => {
  it("never puts a private stream's reads in the shared cache", async () => {
    const name = unique("fan-private-cache");
    await createStream(name, { body: "x".repeat(1_000_000) });
    for (let i = 0; i < 7; i++) await append(name, "y".repeat(1_000_000));
    const readToken = await token({ stream: name, scope: "read" });
    const first = await call(name, { query: "?offset=-1", headers: bearer(readToken) });
    expect(first.headers.get("Stream-Up-To-Date")).toBeNull();
    expect(first.headers.get("Cache-Control")).toBe("private, no-cache");
    await first.arrayBuffer();
    const before = await load(name);

    const anonymous = await call(name, { query: "?offset=-1" });
    expect(anonymous.status).toBe(401);
    const again = await call(name, { query: "?offset=-1", headers: bearer(readToken) });
    await again.arrayBuffer();
    expect((await load(name)).reads - before.reads).toBe(2);
  });
});

describe("catch-up reads of a public stream", () => {
  /** A public stream longer than two reads, and the offset where its first read ends. */
  async function longStream(name: string, letter: string): Promise<string> {
    await createStream(name, { public: true, body: letter.repeat(1_000_000) });
    for (let i = 0; i < 11; i++) await append(name, letter.repeat(1_000_000));
    const opening = await call(name, { query: "?offset=-1" });
    expect(opening.headers.get("Stream-Up-To-Date")).toBeNull();
    // `-1` names no particular stream: the same URL reads a re-created stream of the name.
    expect(opening.headers.get("Cache-Control")).toBe("no-cache");
    await opening.arrayBuffer();
    return opening.headers.get("Stream-Next-Offset")!;
  }

  it("marks a range before the tail immutable and answers repeats from the cache", async () => {
    const name = unique("cache-range");
    const from = await longStream(name, "x");
    const first = await call(name, { query: `?offset=${from}` });
    expect(first.headers.get("Stream-Up-To-Date")).toBeNull();
    expect(first.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+, immutable$/);
    const body = await first.text();
    const before = await load(name);

    for (let i = 0; i < 5; i++) {
      const repeat = await call(name, { query: `?offset=${from}` });
      expect(await repeat.text()).toBe(body);
    }
    const etag = first.headers.get("ETag")!;
    const revalidated = await call(name, { query: `?offset=${from}`, headers: { "If-None-Match": etag } });
    expect(revalidated.status).toBe(304);
    expect((await load(name)).reads).toBe(before.reads);
  });

  it("never answers a re-created stream with the cached data of the one deleted before it", async () => {
    const name = unique("cache-recreated");
    const old = await longStream(name, "x");
    expect((await (await call(name, { query: `?offset=${old}` })).text()).startsWith("x")).toBe(true);
    expect((await call(name, { method: "DELETE", headers: ADMIN })).status).toBe(204);

    const from = await longStream(name, "z");
    expect(from).not.toBe(old);
    const fresh = await call(name, { query: `?offset=${from}` });
    expect((await fresh.text()).startsWith("z")).toBe(true);
  });

  it("never keeps a read that reaches the tail, so a writer reads its own append", async () => {
    const name = unique("cache-tail");
    await createStream(name, { public: true, body: "one" });
    const first = await call(name, { query: "?offset=-1" });
    expect(first.headers.get("Stream-Up-To-Date")).toBe("true");
    expect(first.headers.get("Cache-Control")).toBe("no-cache");
    expect(await first.text()).toBe("one");
    await append(name, " two");
    expect(await (await call(name, { query: "?offset=-1" })).text()).toBe("one two");
  });

  it("lets a long-poll answer wait in the cache under its cursor, and never a timeout", async () => {
    const name = unique("cache-long-poll");
    await createStream(name, { public: true, body: "one" });
    const start = (await call(name, { query: "?offset=now" })).headers.get("Stream-Next-Offset")!;
    await append(name, "two");
    const answered = await call(name, { query: `?offset=${start}&live=long-poll&cursor=1` });
    expect(answered.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+$/);
    expect(answered.headers.get("Stream-Cursor")).not.toBeNull();
    const timedOut = await call(name, { query: `?offset=${answered.headers.get("Stream-Next-Offset")}&live=long-poll` });
    expect(timedOut.status).toBe(204);
    expect(timedOut.headers.get("Cache-Control")).toBe("no-store");
  });

  it("shows the admin, and only the admin, what reached the object", async () => {
    const name = unique("load-route");
    await createStream(name, { public: true });
    const url = `${BASE}/api/streams/load?stream=${name}`;
    const shown = await exports.default.fetch(url, { headers: ADMIN });
    expect(shown.status).toBe(200);
    expect(await shown.json()).toMatchObject({ requests: 1, sockets: 0 });
    expect((await exports.default.fetch(url)).status).toBe(401);
  });
});

describe("a crowd of readers at one offset", () => {
  // Each reader continues in its own request after a shared read (shared-reads.ts): an answer
  // built in the request that settled the read could not be sent from another (a 500).
  it("answers every reader whole while they share reads of the object", async () => {
    const name = unique("crowd");
    await createStream(name, { public: true, body: "x".repeat(500_000) });
    for (let i = 0; i < 3; i++) await append(name, "y".repeat(500_000));
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 12 }, async () => {
          const response = await call(name, { query: "?offset=-1" });
          return { status: response.status, bytes: (await response.arrayBuffer()).byteLength };
        }),
      );
      for (const answer of answers) expect(answer).toEqual({ status: 200, bytes: 2_000_000 });
    }
  });
});
