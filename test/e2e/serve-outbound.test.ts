/**
 * Outbound fetches of a served Worker go through workerd's network service, which refuses
 * private, loopback and link-local addresses when it connects: also for a name that resolves to
 * one, which a check of the URL in the Worker cannot see. SERVE_ALLOW_PRIVATE_OUTBOUND opens
 * the ranges an owner names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "../../scripts/backend.ts";
import { startUnderServeConfig } from "./serve-support.ts";

const PROBE = resolve(root, "test/e2e/outbound-probe.worker.js");
const work = mkdtempSync(join(tmpdir(), "serve-outbound-"));
const stops: (() => Promise<void>)[] = [];
let receiver: Server;
let received = 0;
let receiverPort = 0;

beforeAll(async () => {
  receiver = createServer((_, response) => {
    received++;
    response.end("delivered");
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  receiverPort = (receiver.address() as { port: number }).port;
});

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  await new Promise((done) => receiver.close(done));
  rmSync(work, { recursive: true, force: true });
});

async function probe(name: string, to: string, allowedPrivateOutbound?: string[]): Promise<{ status?: number; body?: string; refused?: string }> {
  const worker = await startUnderServeConfig(PROBE, { dataDir: join(work, name, "data"), runtime: join(work, name, "runtime"), allowedPrivateOutbound });
  stops.push(worker.stop);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !worker.exited()) {
    const response = await fetch(`${worker.url}?to=${encodeURIComponent(to)}`).catch(() => undefined);
    if (response) return (await response.json()) as { status?: number; body?: string; refused?: string };
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error("the probe Worker did not answer");
}

describe("a served Worker's outbound fetches", () => {
  it("are refused at a loopback address", async () => {
    const before = received;
    expect(await probe("address", `http://127.0.0.1:${receiverPort}/`)).toHaveProperty("refused");
    expect(received).toBe(before);
  });

  it("are refused at a name that resolves to a loopback address", async () => {
    const before = received;
    expect(await probe("name", `http://localhost:${receiverPort}/`)).toHaveProperty("refused");
    expect(received).toBe(before);
  });

  it("reach a private address the owner allows", async () => {
    const before = received;
    expect(await probe("allowed", `http://127.0.0.1:${receiverPort}/`, ["127.0.0.1/32"])).toEqual({ status: 200, body: "delivered" });
    expect(received).toBe(before + 1);
  });
});
