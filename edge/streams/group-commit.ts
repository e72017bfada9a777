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
 * So an append that comes with company (the Worker has other appends to the stream under way,
 * or appends are already gathering here) first waits for the storage to confirm what was
 * written before it (`sync()`: one turn of the loop, some microseconds, or the end of a commit
 * still under way where commits are asynchronous), and the appends that reach the object
 * meanwhile are written with it, one after the other in arrival order, all before the next
 * commit: they share it. An append without company is written at once, exactly as without
 * this: the object cannot tell a lone writer's next append from one that queued behind a commit
 * (both arrive just after it), and the wait would cost a lone writer a turn for nothing. Each
 * writer's answer and each live reader's frame still wait in the output gate for the commit
 * that holds the append.
 */

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
  readonly counts: CommitCounts = { appends: 0, turns: 0 };

  /** The object's storage; typed by the one method used, as the benches read this file's types without the Workers ones. */
  constructor(private readonly storage: { sync(): Promise<unknown> }) {}

  /** Runs `write` at once, or, with company, in the turn it shares with the others arriving now. */
  run<T>(write: () => Promise<T>, company: boolean): Promise<T> {
    this.counts.appends += 1;
    if (!company && !this.waiting && !this.writing) {
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
    // A failed sync is not the writes' failure: each write then succeeds or fails on its own, to its own caller.
    await this.storage.sync().catch(() => undefined);
    const jobs = this.waiting!;
    this.waiting = undefined;
    this.counts.turns += 1;
    const turn = (async () => {
      for (const job of jobs) await job();
    })();
    this.writing = turn;
    await turn;
    if (this.writing === turn) this.writing = undefined;
  }
}
