/**
 * What reached one stream's object since it last started: the requests (every call from the
 * Worker, bridge sockets included) and the bridge sockets it holds. The owner reads it through
 * the admin route `GET /api/streams/load?stream=…`, to see that live readers cost the object per
 * Worker isolate, not per reader, and how many commits the appends took. Kept in memory only:
 * counting must not cost a write.
 */
import type { CommitCounts } from "./group-commit.ts";

export interface ObjectLoad {
  /** Calls that reached the object: reads, appends, HEADs, creates, deletes and bridge opens. */
  requests: number;
  reads: number;
  bridgesOpened: number;
  /** Bridge sockets open now, and the most at once. */
  sockets: number;
  peakSockets: number;
  /** Appends that reached the object, and the commits they were written in: appends arriving together share one (group-commit.ts). */
  appends: number;
  appendCommits: number;
}

export class LoadCounter {
  private readonly counts = { requests: 0, reads: 0, bridgesOpened: 0, peakSockets: 0 };

  constructor(
    private readonly ctx: { getWebSockets(): unknown[] },
    private readonly commits: CommitCounts,
  ) {}

  request(): void {
    this.counts.requests += 1;
  }

  read(): void {
    this.counts.requests += 1;
    this.counts.reads += 1;
  }

  bridgeOpened(): void {
    this.counts.requests += 1;
    this.counts.bridgesOpened += 1;
    this.counts.peakSockets = Math.max(this.counts.peakSockets, this.ctx.getWebSockets().length);
  }

  get now(): ObjectLoad {
    return { ...this.counts, sockets: this.ctx.getWebSockets().length, appends: this.commits.appends, appendCommits: this.commits.turns };
  }
}
