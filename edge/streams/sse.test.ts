/**
 * An SSE reader's wait for the next append (sse.ts, bridge.ts). Many readers sharing each
 * append are tested on the real runtimes: test/e2e/stream-fan-out.test.ts.
 */
import { describe, expect, it } from "vitest";
import { append, call, createStream, isData, readSse, unique, type SseEvent } from "../../test/edge/stream-support.ts";

type Reader = ReturnType<typeof readSse>;
const isControl = (event: SseEvent) => event.type === "control";

/** Opens a reader and waits for its first control event, so it is up to date and listening. */
async function listening(name: string, query: string): Promise<Reader> {
  const reader = readSse(await call(name, { query }));
  await reader.next(isControl);
  return reader;
}

/** The next data event and the control event after it. */
async function item(reader: Reader): Promise<{ data: string; control: Record<string, unknown> }> {
  const data = (await reader.next(isData))!.data;
  const control = JSON.parse((await reader.next(isControl))!.data) as Record<string, unknown>;
  return { data, control };
}

describe("an SSE reader waiting at the tail", () => {
  it("keeps an idle reader alive with a control event every long-poll interval, before and after an append", async () => {
    const name = unique("sse-keep-alive");
    await createStream(name, { public: true });
    const reader = await listening(name, "?offset=now&live=sse");
    // STREAMS_LONG_POLL_MS is 1 s in these tests.
    expect(JSON.parse((await reader.next(isControl))!.data)).toMatchObject({ upToDate: true });
    const tail = await append(name, "between");
    expect((await item(reader)).data).toBe("between");
    for (let i = 0; i < 2; i++) {
      expect(JSON.parse((await reader.next())!.data)).toEqual(expect.objectContaining({ streamNextOffset: tail, upToDate: true }));
    }
    await reader.cancel();
  });
});
