import { MAX_STREAM_SEGMENTS, NAME_PATTERN } from "../../contract/names.ts";

/**
 * Subscription patterns over stream paths, as the protocol defines them: `*` is exactly one
 * segment, `**` is any number of segments (none included), anything else is a literal
 * segment. `events/*` matches `events/a` but neither `events` nor `events/a/b`.
 */
export function isPattern(pattern: string): boolean {
  const segments = pattern.split("/");
  return segments.length <= MAX_STREAM_SEGMENTS && segments.every((s) => s === "*" || s === "**" || NAME_PATTERN.test(s));
}

export function globMatch(pattern: string, path: string): boolean {
  return matchFrom(pattern.split("/"), 0, path.split("/"), 0);
}

function matchFrom(pattern: string[], p: number, path: string[], s: number): boolean {
  while (p < pattern.length && s < path.length) {
    const segment = pattern[p]!;
    if (segment === "**") {
      for (let next = s; next <= path.length; next++) if (matchFrom(pattern, p + 1, path, next)) return true;
      return false;
    }
    if (segment !== "*" && segment !== path[s]) return false;
    p++;
    s++;
  }
  while (p < pattern.length && pattern[p] === "**") p++;
  return p === pattern.length && s === path.length;
}

/** The literal segments before the first wildcard, with a trailing `/` when more follows. */
export function literalPrefix(pattern: string): string {
  const segments = pattern.split("/");
  const wild = segments.findIndex((s) => s === "*" || s === "**");
  if (wild < 0) return pattern;
  return segments.slice(0, wild).map((s) => `${s}/`).join("");
}
