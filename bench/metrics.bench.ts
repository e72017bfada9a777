/**
 * What keeping the figures costs (the console's Overview and `/api/admin/metrics`): chat
 * fan-out (100 clients, 10 senders; bench/chat.bench.ts) and append throughput (16 writers of
 * 100-byte JSON; bench/streams.bench.ts) with `METRICS` on, beside the same with `METRICS=off`,
 * on both runtimes. On and off alternate on fresh backends, ROUNDS times each, and each figure is
 * the median of its rounds, so a neighbour's burst on a shared machine spoils one round, not the
 * comparison. The goal: on within 5% of off.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fanOut } from "./chat.bench.ts";
import { cpuMs, quantile, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";
import { appendRate } from "./streams.bench.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CLIENTS = 100;
const UNLIMITED = { burst: 1e9, perSecond: 1e9 };

interface Round {
  deliveries: number;
  cpuPerDelivery: number;
  appends: number;
  cpuPerAppend: number;
}

async function round(runtime: Runtime, metrics: "on" | "off"): Promise<Round> {
  const state = mkdtempSync(join(tmpdir(), "bench-metrics-"));
  const backend = await runtime.start({
    persistTo: state,
    vars: {
      METRICS: metrics,
      STREAMS_AUTH: "off",
      RATE_LIMITS: JSON.stringify({ "chat-message": UNLIMITED, "chat-join": UNLIMITED, "chat-read": UNLIMITED }),
      CLIENT_IP_HEADER: "CF-Connecting-IP",
    },
  });
  try {
    const chat = await fanOut(backend, CLIENTS);
    const value = (prefix: string) => chat.find((figure) => figure.name.startsWith(prefix))!.value;
    const appends = await appendRate({ name: runtime.name, url: backend.url, cpuMs: () => cpuMs(backend.process.pid!), stop: () => backend.stop() });
    return { deliveries: value("deliveries per second"), cpuPerDelivery: value("CPU per delivery"), appends: appends.perSecond, cpuPerAppend: appends.cpuMsPerAppend * 1000 };
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

export default async function metrics(): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const runtime of RUNTIMES) {
    const rounds: Record<"on" | "off", Round[]> = { on: [], off: [] };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternating, and starting with the other one each round, so drift favours neither.
      for (const setting of i % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) rounds[setting].push(await round(runtime, setting));
    }
    const median = (setting: "on" | "off", key: keyof Round) => quantile(rounds[setting].map((r) => r[key]), 0.5);
    const rows: { key: keyof Round; name: string; unit: string }[] = [
      { key: "deliveries", name: `chat deliveries per second (${CLIENTS} clients)`, unit: "msg/s" },
      { key: "cpuPerDelivery", name: "CPU per chat delivery", unit: "µs" },
      { key: "appends", name: "appends per second (16 writers)", unit: "appends/s" },
      { key: "cpuPerAppend", name: "CPU per append", unit: "µs" },
    ];
    for (const { key, name, unit } of rows) {
      const on = median("on", key);
      const off = median("off", key);
      figures.push(
        { name: `${name}, metrics on (${runtime.name})`, value: Math.round(on), unit, note: `median of ${ROUNDS}` },
        { name: `${name}, metrics off (${runtime.name})`, value: Math.round(off), unit, note: `median of ${ROUNDS}` },
        { name: `${name}: on / off (${runtime.name})`, value: Math.round((on / off) * 1000) / 1000, unit: "×" },
      );
    }
  }
  return figures;
}
