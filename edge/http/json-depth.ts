/**
 * How deep visitor JSON may nest. `JSON.parse` itself copes with any depth, but much of what
 * follows walks a value recursively (`JSON.stringify`, zod, the structured clone of every RPC
 * between Worker and Durable Objects), and past a few thousand levels that overflows the stack:
 * a 16 KiB body holds about 8,000 levels. Real documents rarely pass 10 levels (a GitHub webhook
 * nests about 6), so 64 refuses nothing a person writes and leaves every walk a wide margin.
 */
export const MAX_JSON_DEPTH = 64;

export const TOO_DEEP = `JSON may nest objects and arrays at most ${MAX_JSON_DEPTH} levels deep.`;

/**
 * Whether JSON text nests objects and arrays deeper than `limit`. One pass without recursion,
 * so any depth is measured safely; brackets inside strings (escaped quotes included) do not
 * count. Text that is not JSON may be misjudged, but `JSON.parse` refuses it afterwards anyway.
 */
export function nestsTooDeep(text: string, limit = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** What reading visitor JSON came to: the value, or why there is none. */
export type JsonReading = { ok: true; value: unknown } | { ok: false; problem: "invalid_json" | "too_deep" };

/** Parses visitor JSON after checking its depth: the one way in for JSON from outside. */
export function readJsonText(text: string): JsonReading {
  if (nestsTooDeep(text)) return { ok: false, problem: "too_deep" };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, problem: "invalid_json" };
  }
}
