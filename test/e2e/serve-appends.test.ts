/**
 * Appends from many writers at once under `npm run serve`, where concurrent appends to one
 * stream share a SQLite commit (edge/streams/group-commit.ts): each is still answered only once
 * it is committed, so what was acknowledged is there after workerd is killed.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ObjectLoad } from "../../edge/streams/object-load.ts";
import { mintStreamToken } from "../../edge/streams/tokens.ts";
import { cleanUp, makeDataDir, startServe, STREAMS_SECRET, type Served } from "./serve-support.ts";

afterEach(cleanUp);

const ADMIN_TOKEN = "serve-appends-admin-token-0123456789";
const WRITERS = 16;
const EACH = 10;

async function write(served: Served, method: string, headers: Record<string, string> = {}, body?: unknown): Promise<Response> {
  const token = await mintStreamToken(STREAMS_SECRET, { scope: "write" });
  return fetch(`${served.url}/v1/stream/serve-crowd`, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}`, ...headers },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

describe("npm run serve: many writers on one stream", () => {
  it("acknowledges every append in order, shares commits among them, and keeps each across a kill", async () => {
    const dataDir = makeDataDir();
    const first = await startServe({ dataDir, env: { ADMIN_TOKEN } });
    expect((await write(first, "PUT")).status).toBe(201);
    // Each writer is an idempotent producer: its appends must be stored once each, in its order.
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let seq = 0; seq < EACH; seq++) {
          const producer = { "Producer-Id": `w${w}`, "Producer-Epoch": "0", "Producer-Seq": String(seq) };
          const answer = await write(first, "POST", producer, { w, seq });
          expect(answer.status).toBe(200);
        }
      }),
    );
    const load = (await (await fetch(`${first.url}/api/streams/load?stream=serve-crowd`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as ObjectLoad;
    expect(load.appends).toBe(WRITERS * EACH);
    expect(load.appendCommits).toBeLessThan(load.appends);
    await first.crash();

    const second = await startServe({ dataDir, port: first.port });
    const values = (await (await write(second, "GET")).json()) as { w: number; seq: number }[];
    expect(values).toHaveLength(WRITERS * EACH);
    for (let w = 0; w < WRITERS; w++) {
      expect(values.filter((value) => value.w === w).map((value) => value.seq)).toEqual(Array.from({ length: EACH }, (_, seq) => seq));
    }
    // The producers' state was committed with their appends: a retry of the last is a duplicate.
    const retry = await write(second, "POST", { "Producer-Id": "w0", "Producer-Epoch": "0", "Producer-Seq": String(EACH - 1) }, { w: 0, seq: EACH - 1 });
    expect(retry.status).toBe(204);
  });
});
