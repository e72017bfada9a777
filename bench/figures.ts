import { existsSync, readdirSync, readFileSync } from "node:fs";

/** What a benchmark reports: one row per figure. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

export type Bench = () => Promise<Figure[]>;

/**
 * Ours on both runtimes (bench/runtimes.ts), the same figures in the same order: each named by
 * its runtime and followed by serve's over wrangler dev's.
 */
export function sideBySide(dev: Figure[], serve: Figure[]): Figure[] {
  return dev.flatMap((figure, i) => {
    const other = serve[i]!;
    const ratio = other.value / figure.value;
    return [
      { ...figure, name: `${figure.name} (wrangler dev)` },
      { ...other, name: `${other.name} (serve)` },
      // None where wrangler dev's is zero (runs off the grid): there is nothing to compare.
      ...(Number.isFinite(ratio) ? [{ name: `${figure.name}: serve / wrangler dev`, value: Math.round(ratio * 100) / 100, unit: "×" }] : []),
    ];
  });
}

/** The q-quantile (0..1) of `samples`, by nearest rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Opens a WebSocket from Node and resolves once it is open. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(url);
    ws.addEventListener("open", () => done(ws), { once: true });
    ws.addEventListener("error", () => fail(new Error(`cannot open ${url}`)), { once: true });
  });
}

/**
 * User + system CPU ms of the process `top` and everything under it (Linux /proc; NaN
 * elsewhere). A server started through the watchdog is the watchdog's descendant, and the
 * idle watchdog itself adds nothing to a difference of two readings.
 */
export function cpuMs(top: number): number {
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
