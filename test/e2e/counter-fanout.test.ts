/**
 * A counter whose viewers do not fit in one object: with at most 4 sockets per object, a crowd
 * of viewers spreads over several, and the count stays exact, durable and the same for all.
 * Every viewer comes from an address of its own (CLIENT_IP_HEADER), as a crowd would.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { GENEROUS_LIMITS } from "../backends.ts";
import { RUNTIMES } from "../runtimes.ts";

const CAP = 4;
/** A full object's viewers get this many frames a second. */
const FULL_RATE = 2;
const ADMIN_TOKEN = "counter-fanout-admin-token";
const VARS = {
  COUNTER_SOCKETS_PER_OBJECT: String(CAP),
  COUNTER_OBJECT_FRAMES_PER_SECOND: String(FULL_RATE * CAP),
  CLIENT_IP_HEADER: "X-Real-IP", RATE_LIMITS: GENEROUS_LIMITS, ADMIN_TOKEN };

let lastHost = 0;

/** One viewer's socket, keeping the latest count it was sent. */
class Viewer {
  count = -1;
  /** Count frames after the first ("ready"). */
  frames = 0;
  viewers: number | undefined;
  closed = false;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string; count?: number; viewers?: number };
      if (frame.type === "count") this.frames += 1;
      if (frame.count !== undefined) this.count = Math.max(this.count, frame.count);
      if (frame.viewers !== undefined) this.viewers = frame.viewers;
      for (const check of this.waiters) check();
    });
    ws.addEventListener("close", () => (this.closed = true));
  }

  static open(backend: Backend, counter: string, query = ""): Promise<Viewer> {
    const ws = new WebSocket(`${backend.url.replace("http", "ws")}/api/counters/${counter}/ws${query}`, {
      headers: { "X-Real-IP": `198.51.${Math.floor(++lastHost / 250)}.${(lastHost % 250) + 1}` },
    } as unknown as string[]);
    const viewer = new Viewer(ws);
    return new Promise((done, fail) => {
      ws.addEventListener("error", () => fail(new Error("the socket failed")), { once: true });
      ws.addEventListener("close", (event) => fail(new Error(`closed ${event.code} ${event.reason}`)), { once: true });
      viewer.until(() => viewer.count >= 0).then(() => done(viewer), fail);
    });
  }

  click(): void {
    this.ws.send('{"type":"click"}');
  }

  until(condition: () => boolean): Promise<void> {
    return new Promise((done) => {
      const check = () => {
        if (!condition()) return;
        this.waiters.delete(check);
        done();
      };
      this.waiters.add(check);
      check();
    });
  }

  sees(count: number): Promise<void> {
    return this.until(() => this.count >= count);
  }
}

interface Stats {
  count: number;
  viewers: number;
  objects: { shard: number; sockets: number; peak: number }[];
}

async function stats(backend: Backend, counter: string): Promise<Stats> {
  const response = await fetch(`${backend.url}/api/counters/${counter}/stats`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as Stats;
}

async function countOf(backend: Backend, counter: string): Promise<number> {
  return ((await (await fetch(`${backend.url}/api/counters/${counter}`)).json()) as { count: number }).count;
}

const crowd = (backend: Backend, counter: string, size: number) => Promise.all(Array.from({ length: size }, () => Viewer.open(backend, counter)));

describe.each(RUNTIMES)("a counter with more viewers than one object holds, on $name", (runtime) => {
  const backends: Backend[] = [];
  const states: string[] = [];
  const open: Viewer[] = [];
  let shared: Promise<Backend> | undefined;

  async function start(state: string): Promise<Backend> {
    const backend = await runtime.start({ persistTo: state, vars: VARS });
    backends.push(backend);
    return backend;
  }
  const startFresh = () => {
    states.push(mkdtempSync(join(tmpdir(), "counter-fanout-")));
    return start(states.at(-1)!);
  };
  /** One backend for the tests that do not restart it, each on a counter of its own. */
  const sharedBackend = () => (shared ??= startFresh());

  afterEach(() => {
    for (const viewer of open.splice(0)) viewer.ws.close();
  });
  afterAll(async () => {
    await Promise.all(backends.splice(0).map((backend) => backend.stop()));
    for (const state of states.splice(0)) rmSync(state, { recursive: true, force: true });
  });

  it("sends viewers past a full object to other objects, none holding more than its cap", async () => {
    const server = await sharedBackend();
    const viewers = await crowd(server, "crowd", 5 * CAP);
    open.push(...viewers);
    await expect.poll(async () => (await stats(server, "crowd")).viewers, { timeout: 10_000 }).toBe(5 * CAP);
    const { objects } = await stats(server, "crowd");
    expect(objects.length).toBeGreaterThanOrEqual(5);
    for (const object of objects) expect(object.peak).toBeLessThanOrEqual(CAP);
    expect(objects.reduce((sum, object) => sum + object.sockets, 0)).toBe(5 * CAP);
  });

  it("counts every click once when clicks come through different objects, and every viewer converges on the count", async () => {
    const server = await sharedBackend();
    const viewers = await crowd(server, "many-clicks", 5 * CAP);
    open.push(...viewers);
    for (const viewer of viewers) for (let i = 0; i < 10; i++) viewer.click();
    await Promise.all(viewers.map((viewer) => viewer.sees(10 * viewers.length)));
    expect(await countOf(server, "many-clicks")).toBe(10 * viewers.length);
    expect(viewers.every((viewer) => viewer.count === 10 * viewers.length)).toBe(true);
  });

  it("gives each viewer of a full object a bounded number of frames in a burst, and every one the final count", async () => {
    const server = await sharedBackend();
    // A new counter's first viewers all go to its first object, until it is full.
    const viewers = await crowd(server, "paced", CAP);
    open.push(...viewers);
    await expect.poll(async () => (await stats(server, "paced")).objects, { timeout: 10_000 }).toMatchObject([{ shard: 0, sockets: CAP }]);
    const started = performance.now();
    // 60 clicks 20 ms apart: at 10 frames a second a viewer would get about 12 frames.
    for (let i = 0; i < 60; i++) {
      viewers[i % CAP]!.click();
      await new Promise((done) => setTimeout(done, 20));
    }
    await Promise.all(viewers.map((viewer) => viewer.sees(60)));
    const seconds = (performance.now() - started) / 1000;
    for (const viewer of viewers) {
      expect(viewer.count).toBe(60);
      expect(viewer.frames).toBeLessThanOrEqual(2 + FULL_RATE * seconds);
    }
    expect(await countOf(server, "paced")).toBe(60);
  });

  it("tells viewers that ask how many are watching, across objects", async () => {
    const server = await sharedBackend();
    open.push(...(await crowd(server, "watched", 3 * CAP)));
    const asking = await Viewer.open(server, "watched", "?viewers");
    open.push(asking);
    await asking.until(() => asking.viewers === 3 * CAP + 1);
  });

  it("keeps the exact count after the backend is killed, and every viewer converges on it after reconnecting", async () => {
    const state = mkdtempSync(join(tmpdir(), "counter-fanout-"));
    states.push(state);
    const server = await start(state);
    const before = await crowd(server, "killed", 3 * CAP);
    for (const viewer of before) for (let i = 0; i < 5; i++) viewer.click();
    await Promise.all(before.map((viewer) => viewer.sees(5 * before.length)));
    // A burst still in flight when the power goes: some of it may be lost, none counted twice.
    for (const viewer of before) for (let i = 0; i < 5; i++) viewer.click();
    const seen = Math.max(...before.map((viewer) => viewer.count));
    await server.crash();
    const restarted = await start(state);
    const kept = await countOf(restarted, "killed");
    expect(kept).toBeGreaterThanOrEqual(seen);
    expect(kept).toBeLessThanOrEqual(10 * before.length);

    // The objects whose sockets all went with the crash leave the viewer figure.
    const first = await Viewer.open(restarted, "killed");
    open.push(first);
    await expect.poll(async () => (await stats(restarted, "killed")).viewers, { timeout: 10_000 }).toBe(1);

    const after = [first, ...(await crowd(restarted, "killed", 3 * CAP - 1))];
    open.push(...after);
    for (const viewer of after) expect(viewer.count).toBe(kept);
    after[0]!.click();
    after.at(-1)!.click();
    await Promise.all(after.map((viewer) => viewer.sees(kept + 2)));
    expect(await countOf(restarted, "killed")).toBe(kept + 2);
  }, 120_000);
});
