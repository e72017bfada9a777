/**
 * The R2 binding of `npm run serve` answers the calls the Worker makes as wrangler dev's R2
 * does: the same checks (r2-behaviour.worker.js) run in a Worker under `wrangler dev` and under
 * plain workerd with the configuration serve generates, and must report the same.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, offlineEnv, root, spawnWatched, stopWatched } from "../../scripts/backend.ts";
import { startUnderServeConfig } from "./serve-support.ts";

const CHECKS = resolve(root, "test/e2e/r2-behaviour.worker.js");
const work = mkdtempSync(join(tmpdir(), "serve-r2-"));
const stops: (() => Promise<void>)[] = [];

afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
  rmSync(work, { recursive: true, force: true });
});

/** Runs the checks on a fresh bucket of the server at `url`, once it answers. */
async function runChecks(url: string, exited: () => boolean): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited()) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return (await response.json()) as Record<string, unknown>;
    if (response) throw new Error(`the checks failed: ${response.status} ${await response.text()}`);
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(`no answer from ${url}`);
}

async function underWranglerDev(): Promise<Record<string, unknown>> {
  const dir = join(work, "wrangler");
  mkdirSync(dir);
  writeFileSync(
    join(dir, "wrangler.toml"),
    `name = "r2-checks"\nmain = ${JSON.stringify(CHECKS)}\ncompatibility_date = "2026-11-01"\n[[r2_buckets]]\nbinding = "BUCKET"\nbucket_name = "checks"\n`,
  );
  const port = await freePort();
  const child = spawnWatched(
    process.execPath,
    [resolve(root, "node_modules/wrangler/bin/wrangler.js"), "dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", join(dir, "state"), "--show-interactive-dev-session=false", "--log-level", "warn"],
    { env: offlineEnv(), stdout: "ignore", stderr: "inherit" },
  );
  stops.push(() => stopWatched(child));
  return runChecks(`http://127.0.0.1:${port}/`, () => child.exitCode !== null);
}

async function underServe(dataDir: string): Promise<Record<string, unknown>> {
  const worker = await startUnderServeConfig(CHECKS, { dataDir, runtime: join(work, "serve"), r2Buckets: [{ binding: "BUCKET", bucket_name: "checks" }] });
  stops.push(worker.stop);
  return runChecks(worker.url, worker.exited);
}

let wranglers: Record<string, unknown>;
let ours: Record<string, unknown>;
const dataDir = join(work, "data");

beforeAll(async () => {
  [wranglers, ours] = await Promise.all([underWranglerDev(), underServe(dataDir)]);
}, 90_000);

describe("serve's R2 binding", () => {
  it("answers every check as wrangler dev's R2 does", () => {
    expect(Object.keys(ours).length).toBeGreaterThan(20);
    for (const check of Object.keys(wranglers)) expect({ check, answer: ours[check] }).toEqual({ check, answer: wranglers[check] });
  });

  it("serves byte ranges given as request headers, as the video library asks for them", () => {
    expect(ours.getRangeHeaders).toMatchObject({ text: "123", range: { offset: 1, length: 3 } });
    expect(ours.getRangeSuffix).toMatchObject({ text: "89" });
    // Past the end: the whole object, which the Worker then answers as the full range.
    expect(ours.getRangeUnsatisfiable).toMatchObject({ text: "0123456789", range: { offset: 0, length: 10 } });
  });

  it("stores a conditional put only while the etag still matches", () => {
    expect(ours.putIfStale).toBeNull();
    expect(ours.afterConditional).toMatchObject({ text: "fresh", customMetadata: { owner: "ada", n: "1" } });
  });

  it("keeps keys with ../ inside the bucket: no file outside its data directory", () => {
    expect(ours.dotKeys).toEqual(["stays inside", "stays inside too"]);
    expect(readdirSync(work).toSorted()).toEqual(["data", "serve", "wrangler"]);
    expect(readdirSync(dataDir).toSorted()).toEqual(["durable-objects", "r2"]);
    expect(existsSync(join(dataDir, "r2", "escape"))).toBe(false);
  });
});
