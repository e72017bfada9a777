/**
 * <click-counter> backend under load, with 50 viewers connected to one counter:
 * - accepted clicks per second from 10 clickers that each keep 20 clicks in flight;
 * - click-to-broadcast latency: one click every 50 ms (a fast human), timed until every viewer
 *   has the new count. Clicks closer together than one broadcast interval (100 ms at the default 10 frames a second) are summed
 *   on purpose and wait for the next broadcast; the throughput run covers that case.
 * Rate limits are raised so the limiter admits everything (it is still consulted per click).
 * On both runtimes (bench/runtimes.ts), side by side. Frames go out at most
 * COUNTER_FRAMES_PER_SECOND (10) times a second, so a click waits for the next one: up to 100 ms.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSocket, quantile, sideBySide, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";

const VIEWERS = 50;
const CLICKERS = 10;
const IN_FLIGHT = 20;
const LOAD_SECONDS = 5;
const LATENCY_SAMPLES = 300;

export default async function counter(): Promise<Figure[]> {
  const [dev, serve] = [await onRuntime(RUNTIMES[0]!), await onRuntime(RUNTIMES[1]!)];
  return sideBySide(dev, serve);
}

async function onRuntime(runtime: Runtime): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-counter-"));
  const backend = await runtime.start({
    persistTo: state,
    vars: { RATE_LIMITS: JSON.stringify({ click: { burst: 1e9, perSecond: 1e9 } }) },
  });
  try {
    const url = `${backend.url.replace("http", "ws")}/api/counters/bench/ws`;
    const viewers = await Promise.all(Array.from({ length: VIEWERS }, () => openSocket(url)));
    const latest = new Array<number>(VIEWERS).fill(0);
    const waiters = new Set<() => void>();
    viewers.forEach((ws, i) =>
      ws.addEventListener("message", (event) => {
        const frame = JSON.parse(String(event.data)) as { count?: number };
        if (typeof frame.count === "number") latest[i] = frame.count;
        for (const check of waiters) check();
      }),
    );
    const allSee = (count: number) =>
      new Promise<void>((done) => {
        const check = () => {
          if (latest.every((c) => c >= count)) {
            waiters.delete(check);
            done();
          }
        };
        waiters.add(check);
        check();
      });
    await allSee(0);

    // Latency: one click every 50 ms, wait for all 50 viewers.
    const clicker = await openSocket(url);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const target = Math.max(...latest) + 1;
      const started = performance.now();
      clicker.send('{"type":"click"}');
      await allSee(target);
      latencies.push(performance.now() - started);
      await new Promise((done) => setTimeout(done, Math.max(0, 50 - (performance.now() - started))));
    }

    // Throughput: clickers keep IN_FLIGHT clicks outstanding; each broadcast acknowledges progress.
    const before = Math.max(...latest);
    const clickers = await Promise.all(Array.from({ length: CLICKERS }, () => openSocket(url)));
    const started = performance.now();
    const deadline = started + LOAD_SECONDS * 1000;
    let sent = 0;
    await Promise.all(
      clickers.map(async (ws) => {
        while (performance.now() < deadline) {
          for (let i = 0; i < IN_FLIGHT; i++) ws.send('{"type":"click"}');
          sent += IN_FLIGHT;
          await allSee(before + sent - IN_FLIGHT * CLICKERS);
        }
      }),
    );
    await allSee(before + sent);
    const seconds = (performance.now() - started) / 1000;
    const accepted = (await (await fetch(`${backend.url}/api/counters/bench`)).json()) as { count: number };
    for (const ws of [...viewers, clicker, ...clickers]) ws.close();
    return [
      { name: "clicks accepted per second", value: Math.round((accepted.count - before) / seconds), unit: "clicks/s", note: `${CLICKERS} clickers, ${VIEWERS} viewers` },
      { name: "click-to-broadcast p50", value: quantile(latencies, 0.5), unit: "ms", note: `until all ${VIEWERS} viewers see it` },
      { name: "click-to-broadcast p99", value: quantile(latencies, 0.99), unit: "ms", note: `${LATENCY_SAMPLES} samples` },
    ];
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
}
