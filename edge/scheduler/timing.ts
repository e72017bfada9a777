import { Cron } from "croner";

/** When a schedule runs: once, on a fixed interval, or on a cron pattern in a time zone. */
export type Timing =
  | { kind: "at"; at: number }
  | { kind: "every"; everyMs: number; anchor: number }
  | { kind: "cron"; cron: string; tz: string };

/** Checks an IANA zone name the way the runtime will use it. */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A five-field cron pattern, or the reason it is not one. */
export function checkCron(pattern: string, tz: string): string | undefined {
  try {
    const next = new Cron(pattern, { timezone: tz, paused: true, mode: "5-part" }).nextRun();
    return next ? undefined : "never matches a future time";
  } catch (error) {
    return (error as Error).message.replace(/^Cron\w*:\s*/, "");
  }
}

/** The first occurrence of a new schedule created at `now`. */
export function firstOccurrence(timing: Timing, now: number): number | null {
  switch (timing.kind) {
    case "at":
      return timing.at;
    case "every":
      return timing.anchor > now ? timing.anchor : nextOnGrid(timing.anchor, timing.everyMs, now);
    case "cron":
      return cronAfter(timing, now);
  }
}

/**
 * The occurrence after `occurrence`, computed from the schedule itself (the interval grid or
 * the cron pattern), never from when a delivery ended, so repeats do not drift. Occurrences
 * that already passed by `now` (the backend was down, or retries ran long) are skipped: a
 * repeat that missed several runs catches up with one delivery, not one per miss.
 */
export function nextOccurrence(timing: Timing, occurrence: number, now: number): number | null {
  const after = Math.max(occurrence, now);
  switch (timing.kind) {
    case "at":
      return null;
    case "every":
      return nextOnGrid(timing.anchor, timing.everyMs, after);
    case "cron":
      return cronAfter(timing, after);
  }
}

/** The first point of `anchor + k·step` strictly after `after`. */
function nextOnGrid(anchor: number, step: number, after: number): number {
  if (after < anchor) return anchor;
  return anchor + (Math.floor((after - anchor) / step) + 1) * step;
}

/** croner handles the zone's offsets: skipped local times run at the next valid time, repeated ones once. */
function cronAfter(timing: { cron: string; tz: string }, after: number): number | null {
  const next = new Cron(timing.cron, { timezone: timing.tz, paused: true, mode: "5-part" }).nextRun(new Date(after));
  return next ? next.getTime() : null;
}
