/**
 * Bytes a page downloads for each widget file: the file plus every chunk it imports
 * statically (lazy chunks such as hls.js are left out), minified and gzipped.
 */
import { readFileSync, readdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "../scripts/backend.ts";
import type { Figure } from "./figures.ts";

const dist = resolve(root, "dist");
const STATIC_IMPORT = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*from\s*)?["'](\.[^"']+)["']/g;

export function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const code = readFileSync(file, "utf8");
  for (const match of code.matchAll(STATIC_IMPORT)) staticClosure(resolve(dirname(file), match[1]!), seen);
  return seen;
}

export function gzipSize(files: Iterable<string>): number {
  let total = 0;
  for (const file of files) total += gzipSync(readFileSync(file), { level: 9 }).byteLength;
  return total;
}

export default async function sizes(): Promise<Figure[]> {
  const entries = readdirSync(dist).filter((file) => file.endsWith(".js")).sort((a, b) => (a === "widgets.js" ? -1 : b === "widgets.js" ? 1 : a.localeCompare(b)));
  return entries.map((file) => {
    const closure = staticClosure(resolve(dist, file));
    const url = file === "widgets.js" ? "/widgets.js" : `/widgets/${file}`;
    return { name: `${url} min+gzip`, value: gzipSize(closure), unit: "B", note: `${closure.size} file(s), lazy chunks excluded` };
  });
}
