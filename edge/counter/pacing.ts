import type { Env } from "../env.ts";
import { wholeNumber } from "../settings.ts";
import { FRAMES_PER_SECOND } from "./tally.ts";

/**
 * Count frames a viewer object sends per second at most, over all its sockets: its frames are
 * work on its one thread (about 27 µs each measured here, docs/scaling.md), so a full object gives
 * each viewer fewer frames a second rather than falling behind. Objects loaded in one isolate
 * share its thread, so they share this budget too.
 */
const FRAMES_PER_OBJECT = wholeNumber("COUNTER_OBJECT_FRAMES_PER_SECOND", 15_000);

/** Sockets each viewer object loaded in this isolate holds, by object id. */
const heldHere = new Map<string, number>();
let socketsHere = 0;

/** Viewer object `object` holds `sockets` open sockets now. */
export function holding(object: string, sockets: number): void {
  socketsHere += sockets - (heldHere.get(object) ?? 0);
  if (sockets === 0) heldHere.delete(object);
  else heldHere.set(object, sockets);
}

/** Frames a second each socket may get: the budget spread over every socket this isolate holds. */
export function framesPerSocket(env: Env): number {
  return Math.min(FRAMES_PER_SECOND.read(env), FRAMES_PER_OBJECT.read(env) / Math.max(1, socketsHere));
}

/** Frames a viewer object may have in hand: one to send at once, one kept for the end of a burst. */
const HELD = 2;

/** Less than the least a timer may be early by, so a frame due now is not put off by rounding. */
const EPSILON = 1e-6;

/**
 * When a viewer object sends its next count frame. Frames are paid from an allowance that grows
 * by `rate()` frames a second and holds at most two: a change after a quiet spell goes out at once
 * (the leading edge), changes during a burst go out at `rate()` with one frame kept in hand, and
 * that frame sends the burst's last change as soon as changes have stopped for `quietMs()`, rather
 * than up to a whole interval later. Each frame carries the latest state, so none is lost by
 * waiting; and in any T seconds a viewer gets at most 2 + `rate()` × T frames.
 */
export class FramePacing {
  private allowance = HELD;
  private allowanceAt = Date.now();
  private waiting = false;
  private lastChange = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Frames a second each socket may get now (above 0). */
    private readonly rate: () => number,
    /** How long without a change means the burst is over. */
    private readonly quietMs: () => number,
    /** Sends the latest state. */
    private readonly send: () => void,
  ) {}

  /** There is a state the sockets have not been sent. */
  changed(): void {
    this.waiting = true;
    this.lastChange = Date.now();
    this.decide();
  }

  private decide(): void {
    const now = Date.now();
    const rate = this.rate();
    this.allowance = Math.min(HELD, this.allowance + ((now - this.allowanceAt) / 1000) * rate);
    this.allowanceAt = now;
    // A timer already set wakes this up again, and a later change only moves its moment later.
    if (!this.waiting || this.timer) return;
    const quietFor = now - this.lastChange;
    const quietMs = this.quietMs();
    if (this.allowance >= HELD - EPSILON || (quietFor >= quietMs && this.allowance >= 1 - EPSILON)) {
      this.allowance -= 1;
      this.waiting = false;
      this.send();
      return;
    }
    const untilFull = ((HELD - this.allowance) / rate) * 1000;
    const untilQuietFrame = Math.max(quietMs - quietFor, ((1 - this.allowance) / rate) * 1000);
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.decide();
      },
      Math.ceil(Math.min(untilFull, untilQuietFrame)),
    );
  }
}
