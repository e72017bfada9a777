/**
 * Live readers of one stream in one Worker isolate share one socket to the stream's object
 * (edge/streams/bridge.ts) and one read per round trip (shared-reads.ts), and repeats of a
 * public range come from the Cache API (read-cache.ts), on both runtimes. What
 * reached the object is its own count, shown to the admin by `GET /api/streams/load`.
 */
import autocannon from "autocannon";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { mintStreamToken } from "../../edge/streams/tokens.ts";
import type { ObjectLoad } from "../../edge/streams/object-load.ts";
import { RUNTIMES } from "../runtimes.ts";

const ADMIN_TOKEN = "fan-out-admin-token";
const SECRET = "fan-out-streams-secret-0123456789";
const admin = { Authorization: `Bearer ${ADMIN_TOKEN}` };

/** One SSE response's events, as they come. */
function sseReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const events: { type: string; data: string }[] = [];
  /** Reads on until `enough` holds; false if the response ended first. */
  const until = async (enough: () => boolean): Promise<boolean> => {
    while (!enough()) {
      const { done, value } = await reader.read();
      if (done) return false;
      buffer += decoder.decode(value, { stream: true });
      let split: number;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const [head = "", ...lines] = block.split("\n");
        events.push({ type: head.slice("event: ".length), data: lines.map((line) => line.slice(5)).join("\n") });
      }
    }
    return true;
  };
  const dataCount = () => events.filter((event) => event.type === "data").length;
  return {
    /** Resolves with the first `count` data payloads (or fewer, if the response ends). */
    async take(count: number): Promise<string[]> {
      await until(() => dataCount() >= count);
      const taken: string[] = [];
      while (taken.length < count && events.length > 0) {
        const event = events.shift()!;
        if (event.type === "data") taken.push(event.data);
      }
      return taken;
    },
    /** The next `count` items: each data payload with the control event that follows it. */
    async items(count: number): Promise<{ data: string; control: Record<string, unknown> }[]> {
      const items: { data: string; control: Record<string, unknown> }[] = [];
      while (items.length < count) {
        await until(() => events.some((event, i) => event.type === "data" && events[i + 1]?.type === "control"));
        const at = events.findIndex((event, i) => event.type === "data" && events[i + 1]?.type === "control");
        if (at < 0) break;
        const [data, control] = events.splice(0, at + 2).slice(-2);
        items.push({ data: data!.data, control: JSON.parse(control!.data) as Record<string, unknown> });
      }
      return items;
    },
    /** The first control event (a reader's first answer), once it came. */
    async firstControl(): Promise<Record<string, unknown>> {
      await until(() => events.some((event) => event.type === "control"));
      const at = events.findIndex((event) => event.type === "control");
      return JSON.parse(events.splice(0, at + 1).at(-1)!.data) as Record<string, unknown>;
    },
    headers: response.headers,
    cancel: () => reader.cancel().catch(() => undefined),
  };
}

describe.each(RUNTIMES)("live readers of one stream on $name", (runtime) => {
  let backend: Backend;
  const url = (name: string, query = "") => `${backend.url}/v1/stream/${name}${query}`;
  const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;
  const load = async (name: string): Promise<ObjectLoad> => (await fetch(`${backend.url}/api/streams/load?stream=${name}`, { headers: admin })).json() as Promise<ObjectLoad>;

  async function create(name: string, isPublic: boolean, type = "text/plain"): Promise<void> {
    const response = await fetch(url(name, isPublic ? "?public=true" : ""), { method: "PUT", headers: { ...admin, "Content-Type": type } });
    expect(response.status).toBe(201);
  }
  async function append(name: string, body: string, type = "text/plain"): Promise<string> {
    const response = await fetch(url(name), { method: "POST", headers: { ...admin, "Content-Type": type }, body });
    expect(response.status).toBe(204);
    return response.headers.get("Stream-Next-Offset")!;
  }
  async function sseReaders(name: string, count: number, headers: Record<string, string> = {}, query = "?offset=now&live=sse") {
    const responses = await Promise.all(Array.from({ length: count }, () => fetch(url(name, query), { headers })));
    for (const response of responses) expect(response.status).toBe(200);
    return responses.map(sseReader);
  }

  beforeAll(async () => {
    backend = await runtime.start({ vars: { ADMIN_TOKEN, STREAMS_JWT_SECRET: SECRET, STREAMS_LONG_POLL_MS: "3000" } });
  });
  afterAll(() => backend?.stop());

  it("gives 30 SSE readers at one offset one socket to the object, and each item once", async () => {
    const name = unique("fan-sse");
    await create(name, true);
    const before = await load(name);
    const readers = await sseReaders(name, 30);
    for (const item of ["a", "b", "c"]) await append(name, item);

    for (const reader of readers) expect(await reader.take(3)).toEqual(["a", "b", "c"]);
    const after = await load(name);
    expect(after.bridgesOpened - before.bridgesOpened).toBe(1);
    expect(after.peakSockets).toBe(1);
    // Each reader reads once on joining; readers arriving together share reads, so 30 cost far fewer.
    expect(after.reads - before.reads).toBeLessThan(15);
    await Promise.all(readers.map((reader) => reader.cancel()));
  });

  // A reader's wait is settled from the request that holds the socket; it must still continue in
  // its own request once V8 has optimized the code every reader runs (request-promise.ts).
  it("gives each of 200 SSE readers every one of 300 appends once, in order, however hot the path", async () => {
    const name = unique("fan-hot");
    await create(name, true);
    const readers = await sseReaders(name, 200);
    const items = Array.from({ length: 300 }, (_, i) => `item-${i}`);
    for (const item of items) await append(name, item);

    for (const reader of readers) expect(await reader.take(items.length)).toEqual(items);
    await Promise.all(readers.map((reader) => reader.cancel()));
  });

  // Reads at one offset that arrive while one is under way share the next (shared-reads.ts); that
  // next read must run in a request that may use the object, however hot the path.
  it("answers each of 2,000 reads at the tail from 16 connections with a 200", async () => {
    const name = unique("fan-tail");
    await create(name, true);
    // Appends from 16 connections first, as a busy stream has (and as heats the Worker's code).
    await autocannon({ url: url(name), connections: 16, amount: 2000, method: "POST", headers: { ...admin, "Content-Type": "text/plain" }, body: "an item" });
    const statuses = new Map<number, number>();
    // autocannon, not fetch loops: it keeps reads overlapping closely enough that most join one under way.
    await autocannon({
      url: url(name, "?offset=now"),
      connections: 16,
      amount: 2000,
      setupClient: (client) => client.on("response", (status: number) => statuses.set(status, (statuses.get(status) ?? 0) + 1)),
    });
    expect(Object.fromEntries(statuses)).toEqual({ 200: 2000 });
  });

  // Readers at the offset before an append share its encoded events (edge/streams/sse.ts);
  // each must still get exactly its own answer.
  it("gives readers of a JSON stream and of a binary stream each append in their own stream's format", async () => {
    const json = unique("fan-json");
    const bytes = unique("fan-bytes");
    await create(json, true, "application/json");
    await create(bytes, true, "application/octet-stream");
    const jsonReaders = [...(await sseReaders(json, 3)), ...(await sseReaders(json, 2, {}, "?offset=-1&live=sse"))];
    const byteReaders = [...(await sseReaders(bytes, 3)), ...(await sseReaders(bytes, 2, {}, "?offset=-1&live=sse"))];
    for (const reader of [...jsonReaders, ...byteReaders]) await reader.firstControl();
    for (const reader of byteReaders) expect(reader.headers.get("Stream-SSE-Data-Encoding")).toBe("base64");
    for (const reader of jsonReaders) expect(reader.headers.get("Stream-SSE-Data-Encoding")).toBeNull();

    const jsonTail = await append(json, JSON.stringify({ n: 1 }), "application/json");
    const bytesTail = await append(bytes, "héllo\n", "application/octet-stream");
    for (const reader of jsonReaders) {
      const [{ data, control }] = (await reader.items(1)) as [{ data: string; control: Record<string, unknown> }];
      expect(JSON.parse(data)).toEqual([{ n: 1 }]);
      expect(control).toMatchObject({ streamNextOffset: jsonTail, upToDate: true });
    }
    for (const reader of byteReaders) {
      const [{ data, control }] = (await reader.items(1)) as [{ data: string; control: Record<string, unknown> }];
      expect(Buffer.from(data, "base64").toString("utf8")).toBe("héllo\n");
      expect(control).toMatchObject({ streamNextOffset: bytesTail, upToDate: true });
    }
    await Promise.all([...jsonReaders, ...byteReaders].map((reader) => reader.cancel()));
  });

  it("gives readers that joined at different offsets what each missed, then every append once and in order", async () => {
    const name = unique("fan-offsets");
    await create(name, true);
    const first = await append(name, "one");
    await append(name, "two");
    const [fromStart] = await sseReaders(name, 1, {}, "?offset=-1&live=sse");
    const [fromFirst] = await sseReaders(name, 1, {}, `?offset=${first}&live=sse`);
    const atTail = await sseReaders(name, 3);
    expect(await fromStart!.take(2)).toEqual(["one", "two"]);
    expect(await fromFirst!.take(1)).toEqual(["two"]);
    for (const reader of atTail) await reader.firstControl();

    const offsets = [await append(name, "three"), await append(name, "four")];
    for (const reader of [fromStart!, fromFirst!, ...atTail]) {
      const received = await reader.items(2);
      expect(received.map(({ data }) => data)).toEqual(["three", "four"]);
      expect(received.map(({ control }) => control.streamNextOffset)).toEqual(offsets);
    }
    await Promise.all([fromStart!, fromFirst!, ...atTail].map((reader) => reader.cancel()));
  });

  it("gives a reader that sent a cursor one past it, and the same data as the readers that sent none", async () => {
    const name = unique("fan-cursor");
    await create(name, true);
    const plain = await sseReaders(name, 3);
    const plainFirst = await plain[0]!.firstControl();
    for (const reader of plain.slice(1)) await reader.firstControl();
    const ahead = String(Number(plainFirst.streamCursor) + 100);
    const [withCursor] = await sseReaders(name, 1, {}, `?offset=now&live=sse&cursor=${ahead}`);
    await withCursor!.firstControl();

    await append(name, "shared");
    const [forCursor] = await withCursor!.items(1);
    expect(forCursor!.data).toBe("shared");
    expect(Number(forCursor!.control.streamCursor)).toBeGreaterThan(Number(ahead));
    for (const reader of plain) {
      const [forPlain] = await reader.items(1);
      expect(forPlain).toEqual({ data: "shared", control: expect.objectContaining({ streamCursor: plainFirst.streamCursor }) });
    }
    await Promise.all([...plain, withCursor!].map((reader) => reader.cancel()));
  });

  it("keeps serving the other readers when some drop, the one that opened the socket included", async () => {
    const name = unique("fan-drop");
    await create(name, true);
    const [opener, second, ...rest] = await sseReaders(name, 6);
    await append(name, "first");
    for (const reader of [opener!, second!, ...rest]) expect(await reader.take(1)).toEqual(["first"]);

    await opener!.cancel();
    await second!.cancel();
    await append(name, "second");
    for (const reader of rest) expect(await reader.take(1)).toEqual(["second"]);
    expect((await load(name)).bridgesOpened).toBe(1);
    await Promise.all(rest.map((reader) => reader.cancel()));
  });

  it("answers 20 long-polls waiting at one offset from one socket", async () => {
    const name = unique("fan-long-poll");
    await create(name, true);
    const tail = await append(name, "start");
    const before = await load(name);
    const waiting = Array.from({ length: 20 }, () => fetch(url(name, `?offset=${tail}&live=long-poll`)));
    await expect.poll(async () => (await load(name)).sockets).toBe(1);
    const next = await append(name, "woken");

    for (const response of await Promise.all(waiting)) {
      expect(response.status).toBe(200);
      expect(response.headers.get("Stream-Next-Offset")).toBe(next);
      expect(await response.text()).toBe("woken");
    }
    const after = await load(name);
    expect(after.bridgesOpened - before.bridgesOpened).toBe(1);
    expect(after.reads - before.reads).toBeLessThan(20);
  });

  it("answers repeats of a public range before the tail from the cache, not the object", async () => {
    const name = unique("fan-cache");
    await create(name, true);
    for (let i = 0; i < 11; i++) await append(name, String(i % 10).repeat(1_000_000));
    // `-1` names no particular stream (a re-created one answers the same URL): never kept.
    const opening = await fetch(url(name, "?offset=-1"));
    expect(opening.headers.get("Cache-Control")).toBe("no-cache");
    await opening.arrayBuffer();
    const range = `?offset=${opening.headers.get("Stream-Next-Offset")}`;
    const first = await fetch(url(name, range));
    expect(first.headers.get("Cache-Control")).toMatch(/^public, max-age=\d+, immutable$/);
    const body = await first.text();
    const before = await load(name);

    for (let i = 0; i < 3; i++) expect(await (await fetch(url(name, range))).text()).toBe(body);
    expect((await load(name)).reads).toBe(before.reads);
  });

  it("checks each reader of a private stream before it joins: one without a token never gets the data", async () => {
    const name = unique("fan-private");
    await create(name, false);
    const readToken = await mintStreamToken(SECRET, { stream: name, scope: "read" }, "5m");
    const withToken = { Authorization: `Bearer ${readToken}` };
    const [reader] = await sseReaders(name, 1, withToken);
    const tail = (await fetch(url(name, "?offset=now"), { headers: withToken })).headers.get("Stream-Next-Offset")!;

    const anonymousSse = await fetch(url(name, "?offset=now&live=sse"));
    const anonymousPoll = fetch(url(name, `?offset=${tail}&live=long-poll`));
    const forgedPoll = fetch(url(name, `?offset=${tail}&live=long-poll`), { headers: { Authorization: "Bearer forged" } });
    await append(name, "classified-7f3");

    expect(await reader!.take(1)).toEqual(["classified-7f3"]);
    expect(anonymousSse.status).toBe(401);
    for (const refused of [await anonymousPoll, await forgedPoll]) {
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain("classified");
    }
    await reader!.cancel();
  });
});
