/**
 * The Durable Streams server side by side with the Node reference server
 * (`@durable-streams/server`), same machine, same client, one run:
 * - appends per second: 16 writers, each with one 100-byte JSON append in flight at a time;
 *   then the same to a stream that a pull-wake subscription follows (each append must reach
 *   the subscription before it is answered);
 * - catch-up read MB/s: a 24 MiB stream read from the start, following Stream-Next-Offset
 *   (ours crosses from R2 segments into the SQLite hot log on the way);
 * - POST → SSE latency: one append at a time, timed until an SSE reader has it.
 * Ours runs under wrangler dev (workerd, SQLite and local R2 on disk) with stream auth off, as
 * the peer has none, and without wrangler's local trace collector (`X_LOCAL_OBSERVABILITY`), a
 * dev-only feature that stores a trace of every request and object call in SQLite and costs
 * about as much CPU as the append itself; a deployed Worker does not run it. The peer keeps
 * everything in memory. Ratios are ours / peer.
 *
 * Throughput on a shared machine swings with whatever else runs, so the appends also report
 * the server's CPU time per append (all of wrangler dev's processes for ours, the one Node
 * process for the peer), which other load hardly moves.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, offlineEnv, root, spawnWatched, startBackend, stopWatched } from "../scripts/backend.ts";
import { quantile, type Figure } from "./figures.ts";

const WRITERS = 16;
const APPEND_SECONDS = 5;
const READ_MIB = 24;
const LATENCY_SAMPLES = 300;

interface Server {
  name: string;
  url: string;
  /** CPU milliseconds the server's processes have used so far; NaN where /proc is missing. */
  cpuMs(): number;
  stop(): Promise<void>;
}

interface Result {
  /** The same 16-way client against a route that does no work: the runtime's ceiling. */
  emptyPerSecond: number;
  appendsPerSecond: number;
  cpuMsPerAppend: number;
  followedPerSecond: number;
  readMBps: number;
  p50: number;
  p99: number;
  /** The same appends' own round trip (POST to 2xx), for how much of the above is the write. */
  postP50: number;
  /** One request at a time to the route that does no work: the runtime's own round trip. */
  emptyP50: number;
}

async function startPeer(): Promise<Server> {
  const port = await freePort();
  const child = spawnWatched(process.execPath, [resolve(root, "bench/reference-streams-server.ts"), String(port)], {
    env: offlineEnv(),
    stdout: "pipe",
    stderr: "inherit",
  });
  const url = await new Promise<string>((done, fail) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      const match = /READY (\S+)/.exec(chunk.toString());
      if (match) done(match[1]!);
    });
    child.once("exit", (code) => fail(new Error(`reference server exited (${code})`)));
  });
  return {
    name: "reference",
    url,
    cpuMs: () => cpuMs(child.pid!),
    stop: () => stopWatched(child),
  };
}

/**
 * User + system CPU ms of the process `top` and everything under it (Linux /proc; NaN
 * elsewhere). A server started through the watchdog is the watchdog's descendant, and the
 * idle watchdog itself adds nothing to a difference of two readings.
 */
function cpuMs(top: number): number {
  if (!existsSync("/proc/self/stat")) return Number.NaN;
  const tick = 10; // USER_HZ is 100 on Linux.
  const processes: { pid: number; parent: number; ms: number }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // Gone meanwhile.
    }
    // Fields after the parenthesised name: state ppid pgrp ... utime(12th) stime(13th).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    processes.push({ pid: Number(entry), parent: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * tick });
  }
  const tree = new Set([top]);
  let total = 0;
  for (let grew = true; grew; ) {
    grew = false;
    for (const one of processes) {
      if (!tree.has(one.pid) && tree.has(one.parent)) {
        tree.add(one.pid);
        grew = true;
      }
    }
  }
  for (const one of processes) if (tree.has(one.pid)) total += one.ms;
  return total;
}

const body100 = (n: number) => {
  const head = JSON.stringify({ n, pad: "" });
  return JSON.stringify({ n, pad: "x".repeat(100 - head.length) });
};

async function create(url: string, type: string): Promise<void> {
  const response = await fetch(url, { method: "PUT", headers: { "Content-Type": type } });
  if (response.status !== 201) throw new Error(`create ${url}: ${response.status}`);
}

async function emptyRoundTrip(url: string): Promise<number> {
  const samples: number[] = [];
  for (let n = 0; n < LATENCY_SAMPLES + 20; n++) {
    const started = performance.now();
    await (await fetch(url, { method: "HEAD" })).arrayBuffer();
    if (n >= 20) samples.push(performance.now() - started);
  }
  return quantile(samples, 0.5);
}

async function emptyRate(url: string): Promise<number> {
  let done = 0;
  const deadline = performance.now() + APPEND_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < deadline) {
        await (await fetch(url, { method: "HEAD" })).arrayBuffer();
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

async function appendRate(server: Server, path = "bench-appends"): Promise<{ perSecond: number; cpuMsPerAppend: number }> {
  const url = `${server.url}/v1/stream/${path}`;
  await create(url, "application/json");
  const cpuBefore = server.cpuMs();
  let done = 0;
  const deadline = performance.now() + APPEND_SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      while (performance.now() < deadline) {
        const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: body100(writer) });
        if (response.status !== 204) throw new Error(`append: ${response.status}`);
        await response.arrayBuffer();
        done += 1;
      }
    }),
  );
  const perSecond = done / ((performance.now() - started) / 1000);
  return { perSecond, cpuMsPerAppend: (server.cpuMs() - cpuBefore) / done };
}

/** Appends to a stream followed by a pull-wake subscription that nobody claims. */
async function followedAppendRate(server: Server): Promise<number> {
  await create(`${server.url}/v1/stream/bench-wakes`, "application/json");
  const subscribed = await fetch(`${server.url}/v1/stream/__ds/subscriptions/bench-followers`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ type: "pull-wake", pattern: "bench-followed/*", wake_stream: "bench-wakes" }),
  });
  if (subscribed.status !== 201) throw new Error(`subscribe: ${subscribed.status} ${await subscribed.text()}`);
  return (await appendRate(server, "bench-followed/orders")).perSecond;
}

async function readRate(base: string): Promise<number> {
  const url = `${base}/v1/stream/bench-catch-up`;
  await create(url, "application/octet-stream");
  const chunk = new Uint8Array(1024 * 1024).map((_, i) => i % 251);
  for (let i = 0; i < READ_MIB; i++) {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/octet-stream" }, body: chunk });
    if (response.status !== 204) throw new Error(`fill: ${response.status}`);
  }
  const rates: number[] = [];
  for (let round = 0; round < 3; round++) {
    let offset = "-1";
    let bytes = 0;
    const started = performance.now();
    for (;;) {
      const response = await fetch(`${url}?offset=${offset}`);
      bytes += (await response.arrayBuffer()).byteLength;
      offset = response.headers.get("Stream-Next-Offset")!;
      if (response.headers.get("Stream-Up-To-Date") === "true") break;
    }
    if (bytes !== READ_MIB * 1024 * 1024) throw new Error(`read ${bytes} bytes`);
    rates.push(bytes / 1e6 / ((performance.now() - started) / 1000));
  }
  return quantile(rates, 0.5);
}

async function latency(base: string): Promise<{ samples: number[]; posts: number[] }> {
  const url = `${base}/v1/stream/bench-latency`;
  await create(url, "application/json");
  const controller = new AbortController();
  const response = await fetch(`${url}?offset=-1&live=sse`, { signal: controller.signal });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let seen = -1;
  let waiter: (() => void) | undefined;
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (const match of buffer.matchAll(/"n":(\d+)/g)) seen = Math.max(seen, Number(match[1]));
        buffer = buffer.slice(buffer.lastIndexOf("\n"));
        waiter?.();
      }
    } catch {
      // Aborted at the end.
    }
  })();
  const samples: number[] = [];
  const posts: number[] = [];
  for (let n = 0; n < LATENCY_SAMPLES + 20; n++) {
    const started = performance.now();
    const arrived = new Promise<void>((done) => {
      waiter = () => {
        if (seen >= n) done();
      };
    });
    const post = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: body100(n) });
    await post.arrayBuffer();
    const posted = performance.now() - started;
    waiter?.();
    await arrived;
    if (n >= 20) {
      // The first few warm up.
      samples.push(performance.now() - started);
      posts.push(posted);
    }
  }
  controller.abort();
  return { samples, posts };
}

async function measure(server: Server, empty: string): Promise<Result> {
  const emptyPerSecond = await emptyRate(empty);
  const { perSecond: appendsPerSecond, cpuMsPerAppend } = await appendRate(server);
  const followedPerSecond = await followedAppendRate(server);
  const readMBps = await readRate(server.url);
  const emptyP50 = await emptyRoundTrip(empty);
  const { samples, posts } = await latency(server.url);
  return {
    emptyPerSecond,
    appendsPerSecond,
    cpuMsPerAppend,
    followedPerSecond,
    readMBps,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    postP50: quantile(posts, 0.5),
    emptyP50,
  };
}

export default async function streams(): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-streams-"));
  const tracing = process.env.X_LOCAL_OBSERVABILITY;
  process.env.X_LOCAL_OBSERVABILITY = "false";
  const ours = await startBackend({ persistTo: state, vars: { STREAMS_AUTH: "off" } }).finally(() => {
    if (tracing === undefined) delete process.env.X_LOCAL_OBSERVABILITY;
    else process.env.X_LOCAL_OBSERVABILITY = tracing;
  });
  const peer = await startPeer();
  try {
    const mine = await measure({ name: "edge-widgets", url: ours.url, cpuMs: () => cpuMs(ours.process.pid!), stop: ours.stop }, `${ours.url}/api/health`);
    const theirs = await measure(peer, `${peer.url}/v1/stream/no-such-stream`);
    const round2 = (n: number) => Math.round(n * 100) / 100;
    const ratio = (a: number, b: number) => round2(a / b);
    return [
      { name: "empty requests/s (ours)", value: Math.round(mine.emptyPerSecond), unit: "req/s", note: "HEAD /api/health: the wrangler dev ceiling" },
      { name: "empty requests/s (reference)", value: Math.round(theirs.emptyPerSecond), unit: "req/s", note: "HEAD of a missing stream" },
      { name: "appends/s (ours)", value: Math.round(mine.appendsPerSecond), unit: "appends/s", note: `${WRITERS} writers, 100-byte JSON` },
      { name: "appends/s (reference)", value: Math.round(theirs.appendsPerSecond), unit: "appends/s", note: "@durable-streams/server, in memory" },
      { name: "appends/s ratio", value: ratio(mine.appendsPerSecond, theirs.appendsPerSecond), unit: "× peer", note: "higher is better" },
      { name: "appends/s, followed stream (ours)", value: Math.round(mine.followedPerSecond), unit: "appends/s", note: "a pull-wake subscription follows it" },
      { name: "appends/s, followed stream (reference)", value: Math.round(theirs.followedPerSecond), unit: "appends/s" },
      { name: "appends/s, followed stream ratio", value: ratio(mine.followedPerSecond, theirs.followedPerSecond), unit: "× peer", note: "higher is better" },
      { name: "CPU per append (ours)", value: round2(mine.cpuMsPerAppend), unit: "ms", note: "wrangler dev: proxy + workerd + node" },
      { name: "CPU per append (reference)", value: round2(theirs.cpuMsPerAppend), unit: "ms", note: "its Node process" },
      { name: "CPU per append ratio", value: ratio(mine.cpuMsPerAppend, theirs.cpuMsPerAppend), unit: "× peer", note: "lower is better" },
      { name: "catch-up read (ours)", value: mine.readMBps, unit: "MB/s", note: `${READ_MIB} MiB from offset -1, R2 + SQLite` },
      { name: "catch-up read (reference)", value: theirs.readMBps, unit: "MB/s", note: "one response, in memory" },
      { name: "catch-up read ratio", value: ratio(mine.readMBps, theirs.readMBps), unit: "× peer", note: "higher is better" },
      { name: "POST→SSE p50 (ours)", value: mine.p50, unit: "ms", note: `${LATENCY_SAMPLES} samples` },
      { name: "POST→SSE p50 (reference)", value: theirs.p50, unit: "ms" },
      { name: "POST→SSE p50 ratio", value: ratio(mine.p50, theirs.p50), unit: "× peer", note: "lower is better" },
      { name: "POST→2xx p50 (ours)", value: mine.postP50, unit: "ms", note: "the same appends' own round trip" },
      { name: "POST→2xx p50 (reference)", value: theirs.postP50, unit: "ms" },
      { name: "empty request round trip p50 (ours)", value: round2(mine.emptyP50), unit: "ms", note: "one at a time: what any request costs here" },
      { name: "empty request round trip p50 (reference)", value: round2(theirs.emptyP50), unit: "ms" },
      { name: "POST→SSE p99 (ours)", value: mine.p99, unit: "ms" },
      { name: "POST→SSE p99 (reference)", value: theirs.p99, unit: "ms" },
      { name: "POST→SSE p99 ratio", value: ratio(mine.p99, theirs.p99), unit: "× peer", note: "lower is better" },
    ];
  } finally {
    await Promise.all([ours.stop(), peer.stop()]);
    rmSync(state, { recursive: true, force: true });
  }
}
