/**
 * The scheduler under load, delivering to a receiver in this process:
 * - schedules created per second by 16 concurrent clients (until 10,000 exist);
 * - admin listing of all 10,000, page by page;
 * - lateness (arrival − due time) of 1,000 one-off schedules all due in the same second,
 *   10 s after the first of them is created; and again with all 1,000 created a minute ahead,
 *   with the server's CPU per delivery;
 * - interval drift: lateness of the 1st and the 10th run of 20 schedules repeating every second;
 * - for scale: when the scheduler started each POST, and how long this machine takes to carry
 *   1,000 POSTs at once to the same receiver with no scheduler involved.
 * Rate limits and the caps on live schedules are raised so every create is admitted (both are still consulted).
 * All of it on both runtimes (bench/runtimes.ts), side by side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startReceiver, type Received } from "../test/webhook-receiver.ts";
import { cpuMs, quantile, sideBySide, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";

const CLIENTS = 16;
const TOTAL = 10_000;
const BURST = 1_000;
const REPEATERS = 20;
const REPEATS = 10;
const ADMIN = "bench-admin-token";

interface ListedSchedule {
  target: string | null;
  lastRun: { at: string; occurrence: string } | null;
}

export default async function scheduler(): Promise<Figure[]> {
  const [dev, serve] = [await onRuntime(RUNTIMES[0]!), await onRuntime(RUNTIMES[1]!)];
  return sideBySide(dev, serve);
}

async function onRuntime(runtime: Runtime): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-scheduler-"));
  const receiver = await startReceiver();
  const backend = await runtime.start({
    persistTo: state,
    vars: {
      RATE_LIMITS: JSON.stringify({ schedule: { burst: 1e9, perSecond: 1e9 } }),
      SCHEDULE_MAX_PER_IP: "1000000000",
      SCHEDULE_MAX_PER_TARGET: "1000000000",
      SCHEDULE_TARGETS: JSON.stringify({ later: `${receiver.url}/later`, burst: `${receiver.url}/burst`, settled: `${receiver.url}/settled`, repeat: `${receiver.url}/repeat` }),
      SCHEDULE_MIN_INTERVAL_SECONDS: "1",
      ADMIN_TOKEN: ADMIN,
    },
  });
  const create = async (body: Record<string, unknown>): Promise<{ id: string }> => {
    const response = await fetch(`${backend.url}/api/schedules`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 201) throw new Error(`create answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as { id: string };
  };
  /** Runs `count` jobs with `CLIENTS` of them in flight at a time. */
  const concurrently = async (count: number, job: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < count) await job(next++);
      }),
    );
  };
  const lateness = (r: Received) => r.at - Number(r.headers["idempotency-key"]!.split(":")[1]);

  try {
    // The machine's own floor: 1,000 POSTs at once from here to the receiver, no scheduler.
    const floorStart = performance.now();
    await Promise.all(Array.from({ length: BURST }, () => fetch(`${receiver.url}/floor`, { method: "POST", body: "{}" }).then((r) => r.text())));
    const floorMs = Math.round(performance.now() - floorStart);

    // 1,000 due in the same second, 10 s after the first is created.
    // A create that only gets through after the due time is refused (a time in the past), and
    // counted: on a loaded machine that is what limits this figure.
    const due = Date.now() + 10_000;
    const burstStart = performance.now();
    let tooLate = 0;
    await concurrently(BURST, () =>
      create({ target: "burst", at: new Date(due).toISOString() }).catch((error: Error) => {
        if (!/already passed/.test(error.message)) throw error;
        tooLate += 1;
      }),
    );
    const burstCreateSeconds = (performance.now() - burstStart) / 1000;
    const burst = await receiver.waitFor(BURST - tooLate, (r) => r.path === "/burst");
    const late = burst.map(lateness);

    // The same burst created a minute ahead, which separates the dispatch itself from a
    // machine still busy with creates; with the server's CPU from the last create to the last delivery.
    const settledDue = Date.now() + 60_000;
    await concurrently(BURST, () => create({ target: "settled", at: new Date(settledDue).toISOString() }));
    const cpuBefore = cpuMs(backend.process.pid!);
    const settled = (await receiver.waitFor(BURST, (r) => r.path === "/settled")).map(lateness);
    const cpuPerDelivery = (cpuMs(backend.process.pid!) - cpuBefore) / BURST;

    // Interval drift: 20 schedules every second, from a common start.
    const start = Date.now() + 2_000;
    const repeaters = await Promise.all(
      Array.from({ length: REPEATERS }, () => create({ target: "repeat", every: 1, start: new Date(start).toISOString() })),
    );
    const runs = await receiver.waitFor(REPEATERS * REPEATS, (r) => r.path === "/repeat");
    const nth = (n: number) =>
      runs.filter((r) => Number(r.headers["idempotency-key"]!.split(":")[1]) === start + (n - 1) * 1000).map(lateness);
    const first = nth(1);
    const tenth = nth(REPEATS);
    const offGrid = runs.filter((r) => (Number(r.headers["idempotency-key"]!.split(":")[1]) - start) % 1000 !== 0).length;
    await Promise.all(
      repeaters.map((r) => fetch(`${backend.url}/api/schedules/${r.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${ADMIN}` } })),
    );

    // Creation rate, until 10,000 schedules exist (due in an hour, so none fires meanwhile).
    const remaining = TOTAL - 2 * BURST - REPEATERS + tooLate;
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const createStart = performance.now();
    await concurrently(remaining, (i) => create({ target: "later", at: later, payload: { i } }));
    const createSeconds = (performance.now() - createStart) / 1000;

    // The admin lists them all.
    const listStart = performance.now();
    let listed = 0;
    // When the scheduler started each POST of the settled burst, as its runs record it.
    const dispatch: number[] = [];
    let cursor: string | null = "";
    while (cursor !== null) {
      const response = await fetch(`${backend.url}/api/schedules?limit=500${cursor ? `&cursor=${cursor}` : ""}`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      const page = (await response.json()) as { schedules: ListedSchedule[]; cursor: string | null };
      listed += page.schedules.length;
      for (const schedule of page.schedules) {
        if (schedule.target === "settled" && schedule.lastRun) {
          dispatch.push(Date.parse(schedule.lastRun.at) - Date.parse(schedule.lastRun.occurrence));
        }
      }
      cursor = page.cursor;
    }
    const listSeconds = (performance.now() - listStart) / 1000;

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return [
      { name: "schedules created per second", value: Math.round(remaining / createSeconds), unit: "creates/s", note: `${CLIENTS} clients, ${remaining} schedules` },
      { name: "list all schedules", value: Math.round(listSeconds * 1000), unit: "ms", note: `${listed} listed in pages of 500` },
      { name: "same-second burst: created per second", value: Math.round(BURST / burstCreateSeconds), unit: "creates/s", note: `${BURST} in ${burstCreateSeconds.toFixed(1)} s` },
      { name: "same-second burst: lateness p50", value: quantile(late, 0.5), unit: "ms", note: `${BURST - tooLate} one-offs due together (${tooLate} created too late)` },
      { name: "same-second burst: lateness p99", value: quantile(late, 0.99), unit: "ms", note: `max ${Math.max(...late)} ms` },
      { name: "created a minute ahead: lateness p50", value: quantile(settled, 0.5), unit: "ms", note: `${BURST} one-offs due together` },
      { name: "created a minute ahead: lateness p99", value: quantile(settled, 0.99), unit: "ms", note: `max ${Math.max(...settled)} ms` },
      { name: "created a minute ahead: CPU per delivery", value: Math.round(cpuPerDelivery * 100) / 100, unit: "ms", note: "every process of the backend" },
      { name: "created a minute ahead: POST started, p99", value: quantile(dispatch, 0.99), unit: "ms", note: `after the due time, by the scheduler's clock (p50 ${quantile(dispatch, 0.5)} ms)` },
      { name: "machine floor: 1,000 POSTs at once", value: floorMs, unit: "ms", note: "node → the same receiver, no scheduler" },
      { name: "interval: lateness of run 1", value: Math.round(mean(first)), unit: "ms", note: `mean of ${REPEATERS} schedules every 1 s` },
      { name: `interval: lateness of run ${REPEATS}`, value: Math.round(mean(tenth)), unit: "ms", note: `mean; drift = this − run 1` },
      { name: "interval: runs off the grid", value: offGrid, unit: "runs", note: `of ${runs.length}` },
    ];
  } finally {
    await backend.stop();
    await receiver.close();
    rmSync(state, { recursive: true, force: true });
  }
}
