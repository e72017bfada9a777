import { describe, expect, it } from "vitest";
import { checkCron, firstOccurrence, nextOccurrence, type Timing } from "./timing.ts";

const at = (iso: string) => Date.parse(iso);

describe("cron in a time zone", () => {
  const daily = (cron: string, tz: string): Timing => ({ kind: "cron", cron, tz });

  it("keeps 09:00 local across the spring change in Berlin (UTC+1 to UTC+2)", () => {
    const rule = daily("0 9 * * *", "Europe/Berlin");
    const before = firstOccurrence(rule, at("2026-03-28T12:00:00Z"))!;
    expect(new Date(before).toISOString()).toBe("2026-03-29T07:00:00.000Z");
    expect(new Date(nextOccurrence(rule, at("2026-03-27T08:00:00Z"), at("2026-03-27T08:00:01Z"))!).toISOString()).toBe(
      "2026-03-28T08:00:00.000Z",
    );
  });

  it("runs a time that does not exist on the spring-forward day once, right after the gap", () => {
    const rule = daily("30 2 * * *", "America/New_York");
    const skipped = firstOccurrence(rule, at("2026-03-08T05:00:00Z"))!;
    expect(new Date(skipped).toISOString()).toBe("2026-03-08T07:00:00.000Z");
    expect(new Date(nextOccurrence(rule, skipped, skipped)!).toISOString()).toBe("2026-03-09T06:30:00.000Z");
  });

  it("runs a time that happens twice on the fall-back day only once", () => {
    const rule = daily("30 1 * * *", "America/New_York");
    const first = firstOccurrence(rule, at("2026-11-01T04:00:00Z"))!;
    expect(new Date(first).toISOString()).toBe("2026-11-01T05:30:00.000Z");
    expect(new Date(nextOccurrence(rule, first, first)!).toISOString()).toBe("2026-11-02T06:30:00.000Z");
  });

  it("explains a pattern it cannot read", () => {
    expect(checkCron("61 * * * *", "UTC")).toMatch(/minute/);
    expect(checkCron("0 9 * * *", "UTC")).toBeUndefined();
  });
});

describe("intervals", () => {
  const every: Timing = { kind: "every", everyMs: 60_000, anchor: 1_000_000 };

  it("computes the next run from the grid, not from when the last one ended", () => {
    expect(nextOccurrence(every, 1_060_000, 1_060_900)).toBe(1_120_000);
  });

  it("skips the runs missed during downtime and runs the catch-up once", () => {
    expect(nextOccurrence(every, 1_060_000, 1_060_000 + 10 * 60_000 + 5)).toBe(1_060_000 + 11 * 60_000);
  });
});
