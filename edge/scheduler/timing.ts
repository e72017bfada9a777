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

/** How a repeating schedule ends: after a number of runs, at a time, whichever comes first; null: no end. */
export interface End {
  times: number | null;
  until: number | null;
}

/** Runs of a cron pattern that the minimum-interval check looks at, at most. */
export const CRON_GAP_RUNS = 1_000;
/** ...and no further ahead than this: a week and a day shows every gap within an hour, across hours, across midnight and across a week. */
const CRON_GAP_SPAN_MS = 8 * 24 * 3600 * 1000;
/** A five-field pattern runs on whole minutes, so no gap is shorter than this. */
const MINUTE_MS = 60_000;

/**
 * Whether two of the next runs of a cron pattern (the next CRON_GAP_RUNS, or those within
 * eight days) come closer than `minMs`. Reckoned in the runtime's own zone (UTC on workerd):
 * croner is about twenty times slower in a named zone, and an offset changes no gap; only a
 * daylight-saving change, once or twice a year, can bring two local runs closer.
 */
export function cronRunsCloserThan(pattern: string, minMs: number, from: number): boolean {
  if (minMs <= MINUTE_MS) return false;
  const cron = new Cron(pattern, { paused: true, mode: "5-part" });
  let previous = cron.nextRun(new Date(from));
  if (!previous) return false;
  const horizon = previous.getTime() + CRON_GAP_SPAN_MS;
  for (let i = 1; i < CRON_GAP_RUNS; i++) {
    const next = cron.nextRun(previous);
    if (!next || next.getTime() > horizon) return false;
    if (next.getTime() - previous.getTime() < minMs) return true;
    previous = next;
  }
  return false;
}

/**
 * The latest time a schedule can still run (its last occurrence; retries come on top), or
 * null when it has no end. For cron with a run count the count is walked in the runtime's
 * zone (see above) and a day is added, more than any zone's offset.
 */
export function lastOccurrenceBy(timing: Timing, end: End, now: number): number | null {
  if (timing.kind === "at") return timing.at;
  let last: number | null = end.until;
  if (end.times !== null) {
    let byCount: number | null;
    if (timing.kind === "every") {
      byCount = firstOccurrence(timing, now)! + (end.times - 1) * timing.everyMs;
    } else {
      const cron = new Cron(timing.cron, { paused: true, mode: "5-part" });
      const runs = cron.nextRuns(end.times, new Date(now));
      byCount = runs.length === 0 ? now : runs[runs.length - 1]!.getTime() + 24 * 3600 * 1000;
    }
    last = last === null ? byCount : Math.min(last, byCount);
  }
  return last;
}
