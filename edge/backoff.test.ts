import { describe, expect, it } from "vitest";
import { backoffDelay, type Backoff } from "./backoff.ts";

const backoff: Backoff = { baseMs: 100, maxMs: 1_000, jitter: [0.5, 1] };
const draws = (failedAttempt: number) => Array.from({ length: 200 }, () => backoffDelay(backoff, failedAttempt));

describe("backoffDelay", () => {
  it("doubles the wait with each failure, within its jitter", () => {
    for (const [attempt, step] of [[1, 100], [2, 200], [3, 400]] as const) {
      for (const delay of draws(attempt)) {
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }
    }
  });

  it("never waits longer than its cap, however many failures", () => {
    expect(Math.max(...draws(30))).toBeLessThanOrEqual(1_000);
    expect(Math.min(...draws(30))).toBeGreaterThanOrEqual(500);
  });

  it("spreads the waits of failures that happen together", () => {
    expect(new Set(draws(3)).size).toBeGreaterThan(10);
  });

  it("waits exactly the step without jitter", () => {
    expect(backoffDelay({ ...backoff, jitter: [1, 1] }, 2)).toBe(200);
  });
});
