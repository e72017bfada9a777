/**
 * How long to wait before retrying something that failed: the Worker's one backoff, for the
 * scheduler's deliveries and subscriptions' wakes alike. (The widgets' reconnecting socket keeps
 * its own, in widgets/internal/reconnecting-socket.ts: widget bundles import nothing from edge/.)
 */
export interface Backoff {
  /** The wait before the first retry; it doubles with each failure after that... */
  baseMs: number;
  /** ...up to this. */
  maxMs: number;
  /**
   * The wait is drawn evenly between these two multiples of that step, so that many failures at
   * once are not all retried at once: [0.5, 1] ("equal jitter") never waits less than half.
   */
  jitter: readonly [low: number, high: number];
}

/** The wait in milliseconds after failed attempt number `failedAttempt` (the first is 1). */
export function backoffDelay(backoff: Backoff, failedAttempt: number): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (failedAttempt - 1));
  const [low, high] = backoff.jitter;
  return Math.round(step * (low + Math.random() * (high - low)));
}
