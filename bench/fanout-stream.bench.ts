/**
 * One public stream, many concurrent live readers (SSE, as `<stream-feed>` reads), appends at a
 * steady rate: how long an append takes to reach every reader (p50/p99, from the POST leaving
 * to a reader parsing it), whether each reader got each item once, and what reached the
 * stream's object (its own count, `GET /api/streams/load`): requests and bridge sockets, while
 * the readers connect and while the appends flow. Run at 500 and 5,000 readers to show that
 * the object's load does not follow the reader count. Ours on `npm run serve` (plain workerd)
 * at both counts and on `wrangler dev` at 500 (its proxy holds a few thousand connections at
 * most; the 5,000 run there reports what it managed), beside the Node reference server
 * (`@durable-streams/server`) with the same readers in the same run.
 *
 * Both local runtimes run the Worker in one isolate, so "within a small factor of the number
 * of isolates" means a handful of requests and one socket here.
 */
import { setMaxListeners } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import type { ObjectLoad } from "../edge/streams/object-load.ts";
import { cpuMs, quantile, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";
import { startPeer } from "./streams.bench.ts";

const ADMIN_TOKEN = "bench-admin-token";
/** 5,000 readers at 1 append/s is 5,000 deliveries/s: about what this 2-core machine's one isolate carries. */
const APPENDS_PER_SECOND = 1;
const APPEND_SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
/** A shorter look while working on it: `BENCH_READERS=1000 BENCH_RUNTIMES=reference,serve`. */
const READER_COUNTS = (process.env.BENCH_READERS ?? "500,5000").split(",").map(Number);
const WANTED = (process.env.BENCH_RUNTIMES ?? "reference,serve,wrangler dev").split(",");
/** Readers connect this many at a time, so the listen backlog never overflows. */
const CONNECT_BATCH = 250;

interface Run {
  connected: number;
  /** Deliveries that never came, or came twice (each reader should see each append once). */
  missing: number;
  doubled: number;
  latencies: number[];
  appendsFailed: number;
  /** The server's CPU per delivered item while the appends flowed. */
  cpuMsPerDelivery: number;
  /** The machine's 1-minute load average when the appends ended: the run shares two cores. */
  loadAverage: number;
  /** What reached the object while the readers connected, and while the appends flowed (ours only). */
  connectLoad?: ObjectLoad & { restarted: boolean };
  appendLoad?: ObjectLoad & { restarted: boolean };
}

/**
 * One SSE reader: records when each append `n` arrived, and how often. Appends are sent on a
 * clock, not one after another, so the stream's order may differ from `n`'s: each is counted
 * by its number, not by its place.
 */
class Reader {
  private buffer = "";
  connected = false;
  private readonly seen: Uint8Array;
  private readonly sentAt: Map<number, number>;
  private readonly latencies: number[];

  constructor(appends: number, sentAt: Map<number, number>, latencies: number[]) {
    this.seen = new Uint8Array(appends);
    this.sentAt = sentAt;
    this.latencies = latencies;
  }

  get received(): number {
    return this.seen.reduce((sum, times) => sum + (times > 0 ? 1 : 0), 0);
  }

  get missing(): number {
    return this.seen.length - this.received;
  }

  get doubled(): number {
    return this.seen.reduce((sum, times) => sum + Math.max(0, times - 1), 0);
  }

  take(text: string): void {
    this.buffer += text;
    let split: number;
    while ((split = this.buffer.indexOf("\n\n")) >= 0) {
      const block = this.buffer.slice(0, split);
      this.buffer = this.buffer.slice(split + 2);
      if (!block.startsWith("event: data")) continue;
      const now = performance.now();
      for (const match of block.matchAll(/"n":(\d+)/g)) {
        const n = Number(match[1]);
        if (n >= this.seen.length) continue;
        this.seen[n]! += 1;
        const sent = this.sentAt.get(n);
        if (sent !== undefined && this.seen[n] === 1) this.latencies.push(now - sent);
      }
    }
  }
}

/** A reader that has no answer within this long counts as not connected. */
const CONNECT_TIMEOUT_MS = 30_000;

async function follow(url: string, reader: Reader, signal: AbortSignal): Promise<boolean> {
  try {
    const answered = fetch(`${url}?offset=now&live=sse`, { signal });
    const late = new Promise<undefined>((done) => setTimeout(done, CONNECT_TIMEOUT_MS));
    const response = await Promise.race([answered, late]);
    if (!response) {
      answered.catch(() => undefined);
      return false;
    }
    if (response.status !== 200 || !response.body) return false;
    reader.connected = true;
    const decoder = new TextDecoder();
    const body = response.body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await body.read();
          if (done) return;
          reader.take(decoder.decode(value, { stream: true }));
        }
      } catch {
        // Aborted at the end of the run.
      }
    })();
    return true;
  } catch {
    return false;
  }
}

/** `loadOf` reads the object's count (ours only). */
async function measure(
  base: string,
  readers: number,
  cpu: () => number,
  loadOf: (stream: string) => Promise<ObjectLoad | undefined> = async () => undefined,
): Promise<Run> {
  const stream = `fanout-${readers}-${Date.now()}`;
  const url = `${base}/v1/stream/${stream}`;
  const headers = { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json" };
  const created = await fetch(`${url}?public=true`, { method: "PUT", headers });
  if (created.status !== 201) throw new Error(`create: ${created.status} ${await created.text()}`);

  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  const abort = new AbortController();
  // Every reader listens to the one signal.
  setMaxListeners(readers + 10, abort.signal);
  const appends = APPENDS_PER_SECOND * APPEND_SECONDS;
  const all = Array.from({ length: readers }, () => new Reader(appends, sentAt, latencies));
  const before = await loadOf(stream);
  let connected = 0;
  for (let i = 0; i < readers; i += CONNECT_BATCH) {
    const batch = all.slice(i, i + CONNECT_BATCH);
    connected += (await Promise.all(batch.map((reader) => follow(url, reader, abort.signal)))).filter(Boolean).length;
  }
  const afterConnect = await loadOf(stream);

  let appendsFailed = 0;
  const cpuBefore = cpu();
  const start = performance.now();
  for (let n = 0; n < appends; n++) {
    const due = start + (n * 1000) / APPENDS_PER_SECOND;
    await new Promise((tick) => setTimeout(tick, Math.max(0, due - performance.now())));
    sentAt.set(n, performance.now());
    void fetch(url, { method: "POST", headers, body: JSON.stringify({ n }) })
      .then(async (response) => {
        await response.arrayBuffer();
        if (!response.ok) appendsFailed += 1;
      })
      .catch(() => (appendsFailed += 1));
  }
  // Let the last append reach everyone (or show that it did not).
  const deadline = performance.now() + 10_000;
  const following = all.filter((reader) => reader.connected);
  while (performance.now() < deadline && following.some((reader) => reader.missing > 0)) await new Promise((tick) => setTimeout(tick, 250));
  const cpuUsed = cpu() - cpuBefore;
  const afterAppends = await loadOf(stream);
  abort.abort();

  const run: Run = {
    connected,
    missing: following.reduce((sum, reader) => sum + reader.missing, 0),
    doubled: following.reduce((sum, reader) => sum + reader.doubled, 0),
    latencies,
    appendsFailed,
    cpuMsPerDelivery: cpuUsed / Math.max(1, latencies.length),
    loadAverage: loadavg()[0]!,
  };
  if (before && afterConnect && afterAppends) {
    run.connectLoad = difference(afterConnect, before);
    run.appendLoad = difference(afterAppends, afterConnect);
  }
  return run;
}

/** The object keeps its counts in memory: if it restarted meanwhile, the counts since then. */
function difference(after: ObjectLoad, before: ObjectLoad): ObjectLoad & { restarted: boolean } {
  if (after.requests < before.requests) return { ...after, restarted: true };
  return {
    restarted: false,
    requests: after.requests - before.requests,
    reads: after.reads - before.reads,
    bridgesOpened: after.bridgesOpened - before.bridgesOpened,
    sockets: after.sockets,
    peakSockets: after.peakSockets,
    appends: after.appends - before.appends,
    appendCommits: after.appendCommits - before.appendCommits,
  };
}

/** Each run's figures as they come, so a long bench shows progress (the table follows at the end). */
function report(figures: Figure[]): Figure[] {
  for (const figure of figures) console.log(`  ${figure.name}: ${figure.value} ${figure.unit}${figure.note ? ` (${figure.note})` : ""}`);
  return figures;
}

function figures(label: string, readers: number, run: Run, peer?: Run): Figure[] {
  const p50 = quantile(run.latencies, 0.5);
  const p99 = quantile(run.latencies, 0.99);
  const out: Figure[] = [
    { name: `${label}, ${readers} readers: connected`, value: run.connected, unit: "readers" },
    { name: `${label}, ${readers} readers: append → reader p50`, value: Math.round(p50), unit: "ms" },
    { name: `${label}, ${readers} readers: append → reader p99`, value: Math.round(p99), unit: "ms" },
    {
      name: `${label}, ${readers} readers: deliveries missing / doubled`,
      value: run.missing + run.doubled,
      unit: "",
      note: `${run.missing} missing, ${run.doubled} doubled, ${run.appendsFailed} appends failed`,
    },
    { name: `${label}, ${readers} readers: server CPU per delivery`, value: Math.round(run.cpuMsPerDelivery * 1000) / 1000, unit: "ms" },
    { name: `${label}, ${readers} readers: machine load average (1 min)`, value: Math.round(run.loadAverage * 10) / 10, unit: "" },
  ];
  if (peer) {
    out.push({ name: `${label}, ${readers} readers: p99 / reference p99`, value: Math.round((p99 / quantile(peer.latencies, 0.99)) * 100) / 100, unit: "×" });
  }
  if (run.connectLoad && run.appendLoad) {
    const appends = APPENDS_PER_SECOND * APPEND_SECONDS;
    out.push(
      { name: `${label}, ${readers} readers: object requests while connecting`, value: run.connectLoad.requests, unit: "requests", note: `${run.connectLoad.reads} reads, ${run.connectLoad.bridgesOpened} sockets opened` },
      {
        name: `${label}, ${readers} readers: object requests during ${appends} appends, besides the appends`,
        value: run.appendLoad.requests - appends,
        unit: "requests",
        note: `${run.appendLoad.reads} reads, ${run.appendLoad.bridgesOpened} sockets opened${run.appendLoad.restarted ? "; the object restarted meanwhile: counts since its restart" : ""}`,
      },
      { name: `${label}, ${readers} readers: object sockets (most at once)`, value: run.appendLoad.peakSockets, unit: "sockets" },
    );
  }
  return out;
}

async function onRuntime(runtime: Runtime, counts: number[], peer: Map<number, Run>): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-fanout-stream-"));
  const backend = await runtime.start({ persistTo: state, vars: { ADMIN_TOKEN, STREAMS_AUTH: "off" } });
  const out: Figure[] = [];
  try {
    const loadOf = async (stream: string) =>
      (await fetch(`${backend.url}/api/streams/load?stream=${stream}`, { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as Promise<ObjectLoad>;
    for (const readers of counts) {
      let run: Run;
      try {
        run = await measure(backend.url, readers, () => cpuMs(backend.process.pid!), loadOf);
      } catch (error) {
        out.push(...report([{ name: `${runtime.name}, ${readers} readers`, value: Number.NaN, unit: "", note: `failed: ${(error as Error).message}` }]));
        continue;
      }
      out.push(...report(figures(runtime.name, readers, run, peer.get(readers))));
    }
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
  return out;
}

export default async function fanoutStream(): Promise<Figure[]> {
  const peer = new Map<number, Run>();
  const out: Figure[] = [];
  if (WANTED.includes("reference")) {
    const reference = await startPeer();
    try {
      for (const readers of READER_COUNTS) {
        const run = await measure(reference.url, readers, () => reference.cpuMs());
        peer.set(readers, run);
        out.push(...report(figures("reference", readers, run)));
      }
    } finally {
      await reference.stop();
    }
  }
  for (const runtime of RUNTIMES.filter((r) => WANTED.includes(r.name)).sort((a, b) => WANTED.indexOf(a.name) - WANTED.indexOf(b.name))) {
    out.push(...(await onRuntime(runtime, READER_COUNTS, peer)));
  }
  return out;
}
