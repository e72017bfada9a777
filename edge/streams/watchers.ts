/**
 * The subscriptions that follow one stream (by pattern or by name), kept in its `watchers`
 * table and told the new tail on each append. A subscription that cannot be reached is retried
 * by the stream's alarm; the append itself is stored either way.
 */
import type { Env } from "../env.ts";
import type { Database } from "../storage/database.ts";
import { directoryFor, followerOf } from "./followers.ts";
import type { WatcherRow } from "./schema.ts";
import type { StreamRecord } from "./stream-state.ts";

/**
 * After a subscription could not be told of an append, try again a second later, and every
 * second while it fails: a notice only carries the tail, so a retry is cheap, and a prompt one
 * keeps the subscription's wake prompt.
 */
const NOTICE_RETRY_MS = 1_000;
const RETRY_KEY = "notify-retry";

export class Watchers {
  private readonly ids = new Set<string>();
  private appendsSeen = 0;
  private notifiedThrough = 0;
  private notifying: Promise<void> | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly db: Database,
    private readonly record: StreamRecord,
    /** Sets the object's one alarm after a retry was scheduled. */
    private readonly setAlarm: () => Promise<void>,
  ) {
    for (const row of db.all<WatcherRow>("SELECT subscription FROM watchers")) this.ids.add(row.subscription);
  }

  private get path(): string | undefined {
    return this.ctx.id.name;
  }

  /** When a retry of a missed notice is due, if one is. */
  get retryAt(): number | undefined {
    return this.ctx.storage.kv.get<number>(RETRY_KEY);
  }

  /** The alarm fired: retries a missed notice if one is due. */
  async retry(): Promise<void> {
    if (this.retryAt === undefined) return;
    this.ctx.storage.kv.delete(RETRY_KEY);
    await this.notify();
  }

  add(subscription: string): void {
    if (this.ids.has(subscription)) return;
    this.ids.add(subscription);
    this.db.run("INSERT OR IGNORE INTO watchers (subscription) VALUES (?)", subscription);
  }

  remove(subscription: string): void {
    this.ids.delete(subscription);
    this.db.run("DELETE FROM watchers WHERE subscription = ?", subscription);
  }

  /**
   * Tells every watching subscription the current tail. Concurrent appends share rounds: a
   * caller waits for the first round that began after its append, so it never waits on
   * appends that came later.
   */
  async notify(): Promise<void> {
    if (this.ids.size === 0) return;
    const mine = ++this.appendsSeen;
    while (this.notifiedThrough < mine) {
      if (!this.notifying) {
        const through = this.appendsSeen;
        this.notifying = this.sendTail().finally(() => {
          this.notifiedThrough = Math.max(this.notifiedThrough, through);
          this.notifying = undefined;
        });
      }
      await this.notifying;
    }
  }

  private async sendTail(): Promise<void> {
    const path = this.path;
    const meta = this.record.meta;
    if (path === undefined || !meta || meta.softDeleted) return;
    let failed = false;
    await Promise.all(
      [...this.ids].map(async (id) => {
        try {
          if (!(await followerOf(this.env, id).streamChanged(path, meta.tail))) this.remove(id);
        } catch (error) {
          failed = true;
          console.warn(`stream ${path}: could not tell subscription ${id} of an append: ${(error as Error).message}`);
        }
      }),
    );
    if (!failed) return;
    this.ctx.storage.kv.put(RETRY_KEY, Date.now() + NOTICE_RETRY_MS);
    await this.setAlarm();
  }

  /** Tells the directory this stream exists, and adopts the subscriptions whose pattern matches it. */
  async register(): Promise<void> {
    const path = this.path;
    if (path === undefined) return;
    for (const id of await directoryFor(this.env, path).streamCreated(path)) this.add(id);
  }

  /**
   * A stream made before the subscription registry existed registers on its first append, so
   * pattern subscriptions find it from then on. A registry that cannot be reached is asked
   * again on the next append; the append itself is stored either way.
   */
  async registerOnce(): Promise<void> {
    const meta = this.record.meta;
    const path = this.path;
    if (!meta || meta.registered || path === undefined) return;
    try {
      await this.register();
      meta.registered = true;
      this.record.save(meta);
    } catch (error) {
      console.warn(`stream ${path}: could not register with the subscription registry: ${(error as Error).message}`);
    }
  }

  /** The stream is gone: the directory forgets it, and its subscriptions drop their links. */
  async forget(): Promise<void> {
    const path = this.path;
    if (path === undefined) return;
    const watchers = [...this.ids];
    this.ids.clear();
    this.db.run("DELETE FROM watchers");
    this.ctx.storage.kv.delete(RETRY_KEY);
    try {
      await Promise.all([directoryFor(this.env, path).streamRemoved(path), ...watchers.map((id) => followerOf(this.env, id).streamGone(path))]);
    } catch (error) {
      // A subscription that missed this drops the link when the path is appended to again.
      console.warn(`stream ${path}: could not tell subscriptions it is gone: ${(error as Error).message}`);
    }
  }
}
