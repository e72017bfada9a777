import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ADMIN, call, createStream, readSse, unique } from "../../test/edge/stream-support.ts";

const readAll = async (name: string) => (await call(name, { query: "?offset=-1" })).json();
const post = (name: string, value: unknown, headers: Record<string, string> = {}) =>
  call(name, { method: "POST", headers: { "Content-Type": "application/json", ...ADMIN, ...headers }, body: JSON.stringify(value) });

describe("appends from many writers at once", () => {
  it("keep each writer's order and store each producer's append once, retries included", async () => {
    const name = unique("concurrent-producers");
    await createStream(name, { type: "application/json", public: true });
    const writers = 8;
    const each = 15;
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let seq = 0; seq < each; seq++) {
          const producer = { "Producer-Id": `w${w}`, "Producer-Epoch": "0", "Producer-Seq": String(seq) };
          expect((await post(name, { w, seq }, producer)).status).toBe(200);
          // A retry of the very same append is answered as a duplicate and stored no second time.
          if (seq % 5 === 0) expect((await post(name, { w, seq }, producer)).status).toBe(204);
        }
      }),
    );

    const values = (await readAll(name)) as { w: number; seq: number }[];
    expect(values).toHaveLength(writers * each);
    for (let w = 0; w < writers; w++) {
      expect(values.filter((value) => value.w === w).map((value) => value.seq)).toEqual(Array.from({ length: each }, (_, seq) => seq));
    }
  });

  it("answer each with its own tail, in the order they were stored, and keep every one across a restart", async () => {
    const name = unique("concurrent-durable");
    await createStream(name, { type: "application/json", public: true });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => post(name, { n })));
    const tails = answers.map((answer) => answer.headers.get("Stream-Next-Offset")!);
    expect(answers.every((answer) => answer.status === 204)).toBe(true);
    expect(new Set(tails).size).toBe(40);

    await evictDurableObject(env.STREAMS.getByName(name));
    const values = (await readAll(name)) as { n: number }[];
    expect(values.map((value) => value.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    // Stored in the order of their tails: the answer with the smallest tail is the first message.
    const byTail = answers.map((_, n) => n).sort((a, b) => (tails[a]! < tails[b]! ? -1 : 1));
    expect(values.map((value) => value.n)).toEqual(byTail);
  });

  it("share commits: appends that arrive together are written in fewer commits than appends", async () => {
    const name = unique("concurrent-shared");
    await createStream(name, { type: "application/json", public: true });
    const answers = await Promise.all(Array.from({ length: 16 }, (_, n) => post(name, { n })));
    expect(answers.every((answer) => answer.status === 204)).toBe(true);

    const load = await env.STREAMS.getByName(name).load();
    expect(load.appends).toBe(16);
    expect(load.appendCommits).toBeLessThan(16);
  });

  it("stored together, each is decided in turn: appends after a close among them are refused", async () => {
    const name = unique("concurrent-closing");
    await createStream(name, { type: "application/json", public: true });
    const appends = Array.from({ length: 10 }, (_, n) => post(name, { n }));
    const close = post(name, { n: "last" }, { "Stream-Closed": "true" });
    const answers = await Promise.all(appends);
    expect((await close).status).toBe(204);

    // Whichever came after the close is refused; the rest are stored before it, in tail order.
    const stored = answers.map((answer, n) => ({ answer, n })).filter(({ answer }) => answer.status === 204);
    const refused = answers.filter((answer) => answer.status !== 204);
    expect(refused.every((answer) => answer.status === 409)).toBe(true);
    stored.sort((a, b) => (a.answer.headers.get("Stream-Next-Offset")! < b.answer.headers.get("Stream-Next-Offset")! ? -1 : 1));
    expect(await readAll(name)).toEqual([...stored.map(({ n }) => ({ n })), { n: "last" }]);
  });

  it("reach a live reader in the order they were stored", async () => {
    const name = unique("concurrent-live");
    await createStream(name, { type: "application/json", public: true });
    const reader = readSse(await call(name, { query: "?offset=-1&live=sse" }));
    const answers = await Promise.all(Array.from({ length: 12 }, (_, n) => post(name, { n })));
    const stored = (await readAll(name)) as { n: number }[];

    const seen: { n: number }[] = [];
    while (seen.length < 12) {
      const event = await reader.next((e) => e.type === "data");
      seen.push(...(JSON.parse(event!.data) as { n: number }[]));
    }
    expect(seen).toEqual(stored);
    expect(answers.every((answer) => answer.status === 204)).toBe(true);
    await reader.cancel();
  });
});
