/**
 * `npm run bench [name…]`: runs every `bench/*.bench.ts` (or the named ones; a name also runs
 * its family, so `fanout` runs `fanout-counter`, `fanout-chat`, …), prints one table
 * and writes the figures to `bench/results/<time>.json`. Each benchmark starts what it needs
 * (a backend under wrangler dev, Chromium) and stops it again.
 */
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import { spawnSync } from "node:child_process";
import { offlineEnv, root } from "../scripts/backend.ts";
import type { Bench, Figure } from "./figures.ts";

const wanted = process.argv.slice(2);
const files = readdirSync(resolve(root, "bench"))
  .filter((file) => file.endsWith(".bench.ts"))
  .filter((file) => {
    const name = basename(file, ".bench.ts");
    return wanted.length === 0 || wanted.some((w) => name === w || name.startsWith(`${w}-`));
  })
  .sort();

const build = spawnSync(process.execPath, [resolve(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"], {
  cwd: root,
  env: offlineEnv(),
  stdio: "inherit",
});
if (build.status !== 0) process.exit(build.status ?? 1);

const all: (Figure & { bench: string })[] = [];
for (const file of files) {
  const name = basename(file, ".bench.ts");
  console.log(`\n▶ ${name}`);
  const bench = (await import(resolve(root, "bench", file))).default as Bench;
  const started = performance.now();
  const figures = await bench();
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  for (const figure of figures) all.push({ bench: name, ...figure });
}

const rows = all.map((f) => [f.bench, f.name, formatValue(f.value), f.unit, f.note ?? ""]);
const header = ["bench", "figure", "value", "unit", "note"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
for (const row of rows) console.log(line(row));

mkdirSync(resolve(root, "bench/results"), { recursive: true });
const out = resolve(root, "bench/results", `${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), node: process.version, figures: all }, null, 2));
console.log(`\nwritten to ${out}`);
process.exit(0);

function formatValue(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  return value.toLocaleString("en-US", { maximumFractionDigits: value < 10 ? 2 : 1 });
}
