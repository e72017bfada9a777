import type { Env } from "../env.ts";
import { positiveNumber } from "../settings.ts";
import { spreadFor, type CounterState } from "./placement.ts";

/**
 * Frames per second a viewer gets at most: clicks and viewer figures in between are summed into
 * the next frame, so a burst of any size costs each viewer a bounded number of frames.
 */
export const FRAMES_PER_SECOND = positiveNumber("COUNTER_FRAMES_PER_SECOND", 10);

/**
 * Publishes the authority may make per second, one per viewer object per frame: past this many
 * objects frames come less often rather than the authority falling behind (docs/scaling.md).
 */
const PUBLISHES_PER_SECOND = 1000;

/** A batch of clicks one viewer object forwards; `session` and `seq` make a retry harmless. */
export interface ClickBatch {
  /** Random per life of the viewer object: its `seq` starts again at 1 with a new one. */
  session: string;
  seq: number;
  clicks: number;
}

/** What a viewer object says of itself, when its sockets change and in answer to a publish. */
export interface ViewerReport {
  sockets: number;
  /** The most it has held at once since it was last loaded. */
  peak: number;
}

/** For the owner: the count, and every viewer object with its sockets now and at most. */
export interface CounterStats extends CounterState {
  objects: ({ shard: number } & ViewerReport)[];
}

/** Publishes the count to one viewer object; the object answers with its own figures. */
export type Publish = (shard: number, state: CounterState) => Promise<ViewerReport> | ViewerReport;

/**
 * The one authoritative count of a counter, kept by the object named after the counter. It
 * stores the count with each accepted batch (a restart loses nothing that was acknowledged, a
 * retried batch is not counted twice), remembers which viewer objects hold sockets, and
 * publishes the count to them, at most `COUNTER_FRAMES_PER_SECOND` times a second.
 */
export class Tally {
  private count: number;
  /** Viewer objects that hold sockets, by shard number; kept in storage so a restart still reaches them. */
  private readonly objects: Map<number, ViewerReport>;
  private lastPublish = 0;
  private publishTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly env: Env,
    private readonly publish: Publish,
  ) {
    this.count = storage.kv.get<number>("count") ?? 0;
    this.objects = new Map(storage.kv.get<[number, ViewerReport][]>("objects") ?? []);
    // A roll call after a restart: the objects listed may have lost their sockets with it, and
    // those that did say so when this publish reaches them.
    if (this.objects.size > 0) queueMicrotask(() => this.publishSoon());
  }

  state(): CounterState {
    let viewers = 0;
    for (const { sockets } of this.objects.values()) viewers += sockets;
    return { count: this.count, viewers, spread: spreadFor(this.env, viewers) };
  }

  stats(): CounterStats {
    return { ...this.state(), objects: [...this.objects].map(([shard, report]) => ({ shard, ...report })).sort((a, b) => a.shard - b.shard) };
  }

  /** Counts a batch once, however often it is sent. */
  add(shard: number, batch: ClickBatch): CounterState {
    const key = `batch:${shard}`;
    const last = this.storage.kv.get<{ session: string; seq: number }>(key);
    if (last?.session === batch.session && last.seq >= batch.seq) return this.state();
    this.count += batch.clicks;
    // Both writes commit together, and before any answer or frame leaves the object: no viewer
    // sees a count that a crash could take back, and a retry after a crash finds its batch.
    this.storage.kv.put("count", this.count);
    this.storage.kv.put(key, { session: batch.session, seq: batch.seq });
    this.publishSoon();
    return this.state();
  }

  /** A viewer object's sockets changed: it is reached by every publish while it holds any. */
  report(shard: number, report: ViewerReport): CounterState {
    const before = this.objects.get(shard);
    if (report.sockets === 0) this.objects.delete(shard);
    else this.objects.set(shard, { sockets: report.sockets, peak: Math.max(report.peak, before?.peak ?? 0) });
    // Written when an object joins or leaves the list, not for every new figure: a row written
    // is what storage bills, and the figures come back with the next publish after a restart.
    if (!before || report.sockets === 0) this.storage.kv.put("objects", [...this.objects]);
    if (report.sockets !== (before?.sockets ?? 0)) this.publishSoon();
    return this.state();
  }

  /** Leading-edge throttle: a lone change goes out at once, a burst at most once an interval. */
  private publishSoon(): void {
    if (this.publishTimer) return;
    const interval = Math.max(1000 / FRAMES_PER_SECOND.read(this.env), (this.objects.size * 1000) / PUBLISHES_PER_SECOND);
    const wait = this.lastPublish + interval - Date.now();
    if (wait <= 0) this.publishNow();
    else this.publishTimer = setTimeout(() => this.publishNow(), wait);
  }

  private publishNow(): void {
    this.publishTimer = undefined;
    this.lastPublish = Date.now();
    const state = this.state();
    for (const shard of this.objects.keys()) {
      void (async () => {
        try {
          const answer = await this.publish(shard, state);
          // Only figures: whether the object still counts is its own reports' say, which come in order.
          const known = this.objects.get(shard);
          if (known && answer.sockets > 0) this.objects.set(shard, { sockets: answer.sockets, peak: Math.max(known.peak, answer.peak) });
        } catch {
          // Counts only grow, so the next publish carries everything this one did.
          this.publishSoon();
        }
      })();
    }
  }
}
