/**
 * Bytes a page downloads for each widget file: the file plus every chunk it imports
 * statically (lazy chunks such as hls.js are left out), minified and gzipped. For the
 * autoloader (/widgets.js) also what a page with one widget downloads in all, next to what a
 * page would download if it loaded every widget up front (the old all-in-one /widgets.js).
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { root } from "../scripts/backend.ts";
import { widgetTags } from "../vite.config.ts";
import type { Figure } from "./figures.ts";

const dist = resolve(root, "dist");
const STATIC_IMPORT = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*from\s*)?["'](\.[^"']+)["']/g;
/** How the built autoloader names each tag's lazy import: `"<tag>":()=>import(`./chunks/…`)`. */
const WIDGET_IMPORT = /"([a-z]+-[a-z-]+)":\(\)=>import\([`"'](\.[^`"']+)[`"']\)/g;

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

/** The files the autoloader (dist/widgets.js) fetches for each tag, the autoloader included. */
export function autoloaderClosures(): Map<string, Set<string>> {
  const autoloader = resolve(dist, "widgets.js");
  const closures = new Map<string, Set<string>>();
  for (const [, tag, path] of readFileSync(autoloader, "utf8").matchAll(WIDGET_IMPORT)) {
    closures.set(tag!, staticClosure(resolve(dist, path!), staticClosure(autoloader)));
  }
  return closures;
}

export default async function sizes(): Promise<Figure[]> {
  // The script-tag files; dist/react.js is for bundlers (it imports React by name).
  const entries = ["widgets.js", ...widgetTags().sort().map((tag) => `${tag}.js`)];
  const files = entries.map((file): Figure => {
    const closure = staticClosure(resolve(dist, file));
    const url = file === "widgets.js" ? "/widgets.js" : `/widgets/${file}`;
    return { name: `${url} min+gzip`, value: gzipSize(closure), unit: "B", note: `${closure.size} file(s), lazy chunks excluded` };
  });
  const closures = autoloaderClosures();
  const everything = new Set([...closures.values()].flatMap((closure) => [...closure]));
  const allUpFront = gzipSize(everything);
  const pages = [...closures].map(([tag, closure]): Figure => {
    const bytes = gzipSize(closure);
    return { name: `page with one <${tag}> via /widgets.js`, value: bytes, unit: "B", note: `${closure.size} file(s); ${Math.round((bytes / allUpFront) * 100)}% of every widget up front` };
  });
  return [...files, ...pages, { name: "every widget up front (all five tags on one page)", value: allUpFront, unit: "B", note: `${everything.size} file(s)` }];
}
