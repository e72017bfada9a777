/**
 * The Durable Streams server side by side with the Node reference server
 * (`@durable-streams/server`), same machine, same client, one run:
 * - appends per second: 16 writers (autocannon connections), each with one 100-byte JSON append
 *   in flight at a time; then the same to a stream that a pull-wake subscription follows (each
 *   append must reach the subscription before it is answered);
 * - catch-up read MB/s: a 24 MiB stream read from the start, following Stream-Next-Offset
 *   (ours crosses from R2 segments into the SQLite hot log on the way);
 * - POST → SSE latency: one append at a time, timed until an SSE reader has it.
 * Ours runs on both runtimes (bench/runtimes.ts: wrangler dev, and plain workerd as `npm run
 * serve` runs it; SQLite and R2 on disk either way) with stream auth off, as the peer has none.
 * The peer keeps everything in memory. Ratios are ours / peer, and serve / wrangler dev.
 *
 * Throughput on a shared machine swings with whatever else runs, so each measurement also
 * reports the server's CPU time per operation (every process of ours: wrangler's proxy, node
 * and workerd, or serve's one workerd; the one Node process for the peer), which other load
 * moves far less. Side by side they split where an append's time goes: an empty request is
 * the runtime and the Worker's routing; a read at a stream's tail adds the call to the stream's
 * object (the Worker's stream route, the RPC, the object reading its state); an append adds
 * the body, its JSON check and the SQLite write and commit that the output gate waits for.
 */
import autocannon from "autocannon";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, offlineEnv, root, spawnWatched, stopWatched } from "../scripts/backend.ts";
import type { ObjectLoad } from "../edge/streams/object-load.ts";
import { cpuMs, quantile, type Figure } from "./figures.ts";
import { RUNTIMES } from "./runtimes.ts";

const WRITERS = 16;
const APPEND_SECONDS = 5;
const READ_MIB = 24;
const LATENCY_SAMPLES = 300;
/** Ours only: lets the bench read the stream object's own counts (`GET /api/streams/load`). */
const ADMIN_TOKEN = "bench-admin-token";

export interface Server {
  name: string;
  url: string;
  /** CPU milliseconds the server's processes have used so far; NaN where /proc is missing. */
  cpuMs(): number;
  stop(): Promise<void>;
}

interface Result {
  /** The same 16-way client against a route that does no work: the runtime's ceiling. */
  emptyPerSecond: number;
  cpuMsPerEmpty: number;
  /** The same reading a stream at its tail (`?offset=now`, no data): routing plus one call to the stream's object. */
  tailReadsPerSecond: number;
  cpuMsPerTailRead: number;
  appendsPerSecond: number;
  cpuMsPerAppend: number;
  /** Ours: how many appends shared each SQLite commit in that run (group commit); NaN for the peer. */
  appendsPerCommit: number;
  /** Server CPU per POST → SSE sample: the append and its delivery to the one reader. */
  cpuMsPerDelivery: number;
  followedPerSecond: number;
  readMBps: number;
  p50: number;
  p99: number;
  /** The same appends' own round trip (POST to 2xx), for how much of the above is the write. */
  postP50: number;
  /** One request at a time to the route that does no work: the runtime's own round trip. */
  emptyP50: number;
}

export async function startPeer(): Promise<Server> {
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

/**
 * `WRITERS` connections for `APPEND_SECONDS`, each with one request in flight at a time: how
 * many were answered with `status`, per second, and the server's CPU per answer. autocannon
 * spends far less CPU per request than `fetch`, so on two cores the server, not the client,
 * sets the pace (with `fetch` loops the in-memory peer answered empty requests at a quarter
 * of a core and never got further).
 */
async function drive(
  server: Server,
  url: string,
  status: number,
  request: { method: "GET" | "POST"; headers?: Record<string, string>; body?: (connection: number) => string },
): Promise<{ perSecond: number; cpuMsPerOp: number }> {
  const cpuBefore = server.cpuMs();
  let connection = 0;
  let answered = 0;
  const wrong = new Map<number, number>();
  let firstWrongBody = "";
  const run = autocannon({
    url,
    connections: WRITERS,
    pipelining: 1,
    duration: APPEND_SECONDS,
    method: request.method,
    headers: request.headers,
    setupClient: (client) => {
      const body = request.body?.(connection++);
      if (body !== undefined) client.setBody(body);
      client.on("response", (code: number) => (code === status ? (answered += 1) : wrong.set(code, (wrong.get(code) ?? 0) + 1)));
      client.on("body", (body: Buffer) => (firstWrongBody ||= wrong.size > 0 ? String(body).slice(0, 300) : ""));
    },
  });
  const result = await run;
  if (wrong.size > 0 || result.errors > 0 || result.timeouts > 0) {
    const statuses = [...wrong].map(([code, count]) => `${count} × ${code}`).join(", ");
    throw new Error(`${server.name}: ${request.method} ${url}: answers other than ${status} (${statuses || "none"}), ${result.errors} errors, ${result.timeouts} timeouts; ${firstWrongBody}`);
  }
  return { perSecond: answered / result.duration, cpuMsPerOp: (server.cpuMs() - cpuBefore) / answered };
}

/**
 * GETs of `url` answered with `status`: how many per second, and the server's CPU per request.
 * GET, not HEAD: autocannon waits for the body a HEAD answer's Content-Length announces.
 */
const getRate = (server: Server, url: string, status: number) => drive(server, url, status, { method: "GET" });

export async function appendRate(server: Server, path = "bench-appends"): Promise<{ perSecond: number; cpuMsPerAppend: number }> {
  const url = `${server.url}/v1/stream/${path}`;
  await create(url, "application/json");
  const { perSecond, cpuMsPerOp } = await drive(server, url, 204, { method: "POST", headers: { "Content-Type": "application/json" }, body: body100 });
  return { perSecond, cpuMsPerAppend: cpuMsPerOp };
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

async function latency(server: Server): Promise<{ samples: number[]; posts: number[]; cpuMsPerDelivery: number }> {
  const base = server.url;
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
  const cpuBefore = server.cpuMs();
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
  const cpuMsPerDelivery = (server.cpuMs() - cpuBefore) / (LATENCY_SAMPLES + 20);
  controller.abort();
  return { samples, posts, cpuMsPerDelivery };
}

/** What the object of the appends' stream counted: appends and the commits they took. */
async function appendsPerCommit(server: Server): Promise<number> {
  const answer = await fetch(`${server.url}/api/streams/load?stream=bench-appends`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } });
  const load = (await answer.json()) as ObjectLoad;
  return load.appends / load.appendCommits;
}

async function measure(server: Server, empty: string, emptyStatus: number): Promise<Result> {
  const { perSecond: emptyPerSecond, cpuMsPerOp: cpuMsPerEmpty } = await getRate(server, empty, emptyStatus);
  const { perSecond: appendsPerSecond, cpuMsPerAppend } = await appendRate(server);
  const shared = server.name === "reference" ? Number.NaN : await appendsPerCommit(server);
  // The stream the appends just wrote: it exists, so its object is called and answers.
  const { perSecond: tailReadsPerSecond, cpuMsPerOp: cpuMsPerTailRead } = await getRate(server, `${server.url}/v1/stream/bench-appends?offset=now`, 200);
  const followedPerSecond = await followedAppendRate(server);
  const readMBps = await readRate(server.url);
  const emptyP50 = await emptyRoundTrip(empty);
  const { samples, posts, cpuMsPerDelivery } = await latency(server);
  return {
    emptyPerSecond,
    cpuMsPerEmpty,
    tailReadsPerSecond,
    cpuMsPerTailRead,
    appendsPerSecond,
    cpuMsPerAppend,
    appendsPerCommit: shared,
    cpuMsPerDelivery,
    followedPerSecond,
    readMBps,
    p50: quantile(samples, 0.5),
    p99: quantile(samples, 0.99),
    postP50: quantile(posts, 0.5),
    emptyP50,
  };
}

/** One figure for each server, then how the runtimes compare with the peer and with each other. */
function compare(
  results: { dev: Result; serve: Result; peer: Result },
  name: string,
  unit: string,
  value: (result: Result) => number,
  better: "higher" | "lower",
  notes: { dev?: string; serve?: string; peer?: string } = {},
): Figure[] {
  const round2 = (n: number) => Math.round(n * 100) / 100;
  // Rates as whole numbers, times and sizes to two places.
  const shown = (n: number) => (unit === "req/s" || unit === "appends/s" ? Math.round(n) : unit === "ms CPU" ? Math.round(n * 1000) / 1000 : round2(n));
  const [dev, serve, peer] = [value(results.dev), value(results.serve), value(results.peer)];
  return [
    { name: `${name} (ours, wrangler dev)`, value: shown(dev), unit, note: notes.dev },
    { name: `${name} (ours, serve)`, value: shown(serve), unit, note: notes.serve },
    { name: `${name} (reference)`, value: shown(peer), unit, note: notes.peer },
    { name: `${name} ratio, serve`, value: round2(serve / peer), unit: "× peer", note: `${better} is better` },
    { name: `${name} ratio, wrangler dev`, value: round2(dev / peer), unit: "× peer", note: `${better} is better` },
    { name: `${name}: serve / wrangler dev`, value: round2(serve / dev), unit: "×", note: `${better} is better` },
  ];
}

export default async function streams(): Promise<Figure[]> {
  const results: Partial<Record<"dev" | "serve" | "peer", Result>> = {};
  for (const runtime of RUNTIMES) {
    const state = mkdtempSync(join(tmpdir(), "bench-streams-"));
    const ours = await runtime.start({ persistTo: state, vars: { STREAMS_AUTH: "off", ADMIN_TOKEN } });
    try {
      const server = { name: runtime.name, url: ours.url, cpuMs: () => cpuMs(ours.process.pid!), stop: ours.stop };
      results[runtime.name === "serve" ? "serve" : "dev"] = await measure(server, `${ours.url}/api/health`, 200);
    } finally {
      await ours.stop();
      rmSync(state, { recursive: true, force: true });
    }
  }
  const peer = await startPeer();
  try {
    results.peer = await measure(peer, `${peer.url}/v1/stream/no-such-stream`, 404);
  } finally {
    await peer.stop();
  }
  const all = results as Record<"dev" | "serve" | "peer", Result>;
  return [
    ...compare(all, "empty requests/s", "req/s", (r) => r.emptyPerSecond, "higher", { dev: "GET /api/health", serve: "GET /api/health", peer: "GET of a missing stream (404)" }),
    ...compare(all, "appends/s", "appends/s", (r) => r.appendsPerSecond, "higher", { peer: `@durable-streams/server, in memory; ${WRITERS} writers, 100-byte JSON` }),
    ...(["dev", "serve"] as const).map((runtime) => ({
      name: `appends per commit (ours, ${runtime === "dev" ? "wrangler dev" : "serve"})`,
      value: Math.round(all[runtime].appendsPerCommit * 100) / 100,
      unit: "appends",
      note: `${WRITERS} writers: appends that reach the stream together share one SQLite commit`,
    })),
    ...compare(all, "appends/s, followed stream", "appends/s", (r) => r.followedPerSecond, "higher", { peer: "a pull-wake subscription follows it" }),
    ...compare(all, "stream reads at the tail/s", "req/s", (r) => r.tailReadsPerSecond, "higher", { peer: `${WRITERS} connections, GET ?offset=now of an existing stream` }),
    ...compare(all, "CPU per empty request", "ms CPU", (r) => r.cpuMsPerEmpty, "lower", { dev: "proxy + workerd + node", serve: "workerd", peer: "its Node process" }),
    ...compare(all, "CPU per read at the tail", "ms CPU", (r) => r.cpuMsPerTailRead, "lower", { serve: "routing + one call to the stream's object" }),
    ...compare(all, "CPU per append", "ms CPU", (r) => r.cpuMsPerAppend, "lower", { serve: "+ body, JSON check, SQLite write and commit" }),
    ...compare(all, "CPU per POST→SSE delivery", "ms CPU", (r) => r.cpuMsPerDelivery, "lower", { serve: "one append, one SSE reader" }),
    ...compare(all, "catch-up read", "MB/s", (r) => r.readMBps, "higher", { peer: `${READ_MIB} MiB from offset -1; ours R2 + SQLite, the peer one response in memory` }),
    ...compare(all, "POST→SSE p50", "ms", (r) => r.p50, "lower", { peer: `${LATENCY_SAMPLES} samples` }),
    ...compare(all, "POST→SSE p99", "ms", (r) => r.p99, "lower"),
    ...compare(all, "POST→2xx p50", "ms", (r) => r.postP50, "lower", { peer: "the same appends' own round trip" }),
    ...compare(all, "empty request round trip p50", "ms", (r) => r.emptyP50, "lower", { peer: "one at a time: what any request costs here" }),
  ];
}
