/**
 * Group commit: concurrent appends to one stream share one SQLite commit.
 *
 * The storage opens an implicit transaction at an object's first write and commits it once the
 * runtime's event loop gets to it; under workerd (`npm run serve`) that COMMIT, with its fsync,
 * runs synchronously on the one thread that serves every request. A request reaches the object
 * only over several turns of that loop (the HTTP request, the Worker's route, the call), so an
 * append written the moment it arrives is committed before the next one gets there, however
 * many are on their way: measured with 16 writers, one fsync per append, and the thread spent
 * most of its time blocked in them.
 *
 * So an append that arrives while the stream is busy first lets the loop run what is queued
 * (one turn, some microseconds), and the appends that reach the object meanwhile are written
 * with it, one after the other in arrival order, all before that commit: they share it. Busy
 * means another append arrived in the same millisecond, or the last shared turn did gather
 * several and appends keep coming. An append to a stream that is not busy, a lone writer's
 * included, is written at once, exactly as without this. Each writer's answer and each live
 * reader's frame still wait in the output gate for the commit that holds the append.
 */

/** A stream that last gathered several appends stays busy while appends come closer than this. */
const BUSY_MS = 10;

/**
 * Resolves after one turn of the runtime's event loop, unlike a resolved promise (a microtask,
 * before any other request can move) or a timer (whose 0 ms is a whole millisecond here):
 * reading a body, even an empty one, is I/O the runtime settles from its loop.
 */
const nextTurn = () => new Response("").arrayBuffer();

/** How the appends were written so far: `turns` is how many commits they took. */
export interface CommitCounts {
  appends: number;
  turns: number;
}

export class GroupCommit {
  /** Writes waiting for the next shared turn, in arrival order. */
  private waiting: (() => Promise<void>)[] | undefined;
  /** The shared turn under way; the next starts after it, so writes keep arrival order. */
  private writing: Promise<void> | undefined;
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** How many appends the last turn wrote. */
  private lastTurn = 0;
  readonly counts: CommitCounts = { appends: 0, turns: 0 };

  /** Runs `write` at once on a stream that is not busy, else in the turn it shares with the others arriving now. */
  run<T>(write: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const since = now - this.lastArrival;
    this.lastArrival = now;
    this.counts.appends += 1;
    const busy = since < 1 || (this.lastTurn > 1 && since < BUSY_MS) || this.waiting !== undefined || this.writing !== undefined;
    if (!busy) {
      this.lastTurn = 1;
      this.counts.turns += 1;
      return write();
    }
    return new Promise<T>((resolve, reject) => {
      const job = () => write().then(resolve, reject);
      if (this.waiting) this.waiting.push(job);
      else {
        this.waiting = [job];
        void this.writeTogether();
      }
    });
  }

  private async writeTogether(): Promise<void> {
    await this.writing;
    await nextTurn();
    const jobs = this.waiting!;
    this.waiting = undefined;
    this.lastTurn = jobs.length;
    this.counts.turns += 1;
    const turn = (async () => {
      for (const job of jobs) await job();
    })();
    this.writing = turn;
    await turn;
    if (this.writing === turn) this.writing = undefined;
  }
}
