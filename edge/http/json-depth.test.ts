import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsTooDeep, readJsonText } from "./json-depth.ts";

const nested = (levels: number, open = "[", close = "]") => open.repeat(levels) + close.repeat(levels);

describe("JSON depth", () => {
  it(`accepts ${MAX_JSON_DEPTH} levels and refuses one more`, () => {
    expect(nestsTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(nestsTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(nestsTooDeep('{"a":'.repeat(MAX_JSON_DEPTH + 1) + "1" + "}".repeat(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it("counts depth, not the number of brackets", () => {
    const wide = `[${Array.from({ length: 1000 }, () => '{"a":[1]}').join(",")}]`;
    expect(nestsTooDeep(wide)).toBe(false);
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    expect(nestsTooDeep(JSON.stringify({ text: "[".repeat(1000) }))).toBe(false);
    expect(nestsTooDeep(JSON.stringify({ text: `\\"${"{".repeat(1000)}` }))).toBe(false);
    expect(nestsTooDeep(JSON.stringify(["\\", nested(MAX_JSON_DEPTH + 1)]))).toBe(false);
  });

  it("measures a million levels without overflowing the stack", () => {
    expect(nestsTooDeep(nested(1_000_000))).toBe(true);
  });

  it("reads JSON that is shallow enough, and says why it refuses the rest", () => {
    expect(readJsonText('{"a":[1,2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(readJsonText(nested(8_000))).toEqual({ ok: false, problem: "too_deep" });
    expect(readJsonText("{not json")).toEqual({ ok: false, problem: "invalid_json" });
  });
});
