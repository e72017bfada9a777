import { describe, expect, it } from "vitest";
import { checkCron, cronRunsCloserThan, firstOccurrence, lastOccurrenceBy, nextOccurrence, type Timing } from "./timing.ts";

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

describe("the shortest gap between cron runs", () => {
  const from = at("2026-06-01T00:00:00Z");
  const minutes = (n: number) => n * 60_000;

  it.each([
    ["* * * * *", 2],
    ["*/5 * * * *", 6],
    ["0,1 9 * * *", 2],
    ["59 8,9 * * *", 61],
    ["0,59 0,23 * * *", 2],
    ["0 9 * * 1,2", 24 * 60 + 1],
  ])("finds the runs of %s come closer than %i minutes", (pattern, limit) => {
    expect(cronRunsCloserThan(pattern, minutes(limit), from)).toBe(true);
    expect(cronRunsCloserThan(pattern, minutes(limit - 1), from)).toBe(false);
  });
});

describe("the latest run of a schedule with an end", () => {
  const now = at("2026-06-01T00:00:00Z");

  it("is the last of its runs for an interval, or its end time if sooner", () => {
    const hourly: Timing = { kind: "every", everyMs: 3_600_000, anchor: now + 1000 };
    expect(lastOccurrenceBy(hourly, { times: 3, until: null }, now)).toBe(now + 1000 + 2 * 3_600_000);
    expect(lastOccurrenceBy(hourly, { times: 3, until: now + 5000 }, now)).toBe(now + 5000);
  });

  it("is a day past the last of its runs for cron, to cover any time zone", () => {
    const daily: Timing = { kind: "cron", cron: "0 9 * * *", tz: "Pacific/Kiritimati" };
    expect(lastOccurrenceBy(daily, { times: 2, until: null }, now)).toBe(at("2026-06-02T09:00:00Z") + 24 * 3_600_000);
  });
});
