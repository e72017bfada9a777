/**
 * Idempotent producers (protocol §producers): a writer that sends `Producer-Id`, `-Epoch` and
 * `-Seq` has each append stored exactly once, however often it retries. The stream keeps each
 * producer's epoch and last sequence in its `producers` table for a week after its last write.
 */
import type { Database } from "../storage/database.ts";
import { refuse } from "./refusals.ts";
import type { ProducerRow } from "./schema.ts";
import type { Meta } from "./stream-state.ts";

export interface Producer {
  id: string;
  epoch: number;
  seq: number;
}

/** What the stream makes of a producer's append before storing anything; an append it refuses throws. */
export type ProducerVerdict = { kind: "accepted" } | { kind: "duplicate"; lastSeq: number };

const PRODUCER_TTL_MS = 7 * 24 * 3600 * 1000;

/** Forgetting expired producers is a table scan: done at most this often, not on every append. */
const FORGET_EVERY_MS = 60 * 60 * 1000;

export class Producers {
  private forgotAt = 0;

  constructor(private readonly db: Database) {}

  check(producer: Producer): ProducerVerdict {
    const now = Date.now();
    if (now - this.forgotAt >= FORGET_EVERY_MS) {
      this.forgotAt = now;
      this.db.run("DELETE FROM producers WHERE updated < ?", now - PRODUCER_TTL_MS);
    }
    // A producer past its week is gone even while its row waits for the next sweep.
    const state = this.db.one<Pick<ProducerRow, "epoch" | "last_seq">>(
      "SELECT epoch, last_seq FROM producers WHERE id = ? AND updated >= ?",
      producer.id,
      now - PRODUCER_TTL_MS,
    );
    if (!state) {
      if (producer.seq === 0) return { kind: "accepted" };
      throw gap(0, producer);
    }
    if (producer.epoch < state.epoch) {
      throw refuse("stale_producer_epoch", "A newer epoch of this producer exists.", { currentEpoch: state.epoch });
    }
    if (producer.epoch > state.epoch) {
      if (producer.seq === 0) return { kind: "accepted" };
      throw refuse("invalid_producer_seq", "A new producer epoch must start at sequence 0.");
    }
    if (producer.seq <= state.last_seq) return { kind: "duplicate", lastSeq: state.last_seq };
    if (producer.seq === state.last_seq + 1) return { kind: "accepted" };
    throw gap(state.last_seq + 1, producer);
  }

  /** Remembers an append that was stored. */
  accept(producer: Producer): void {
    this.db.run(
      "INSERT OR REPLACE INTO producers (id, epoch, last_seq, updated) VALUES (?, ?, ?, ?)",
      producer.id,
      producer.epoch,
      producer.seq,
      Date.now(),
    );
  }

  clear(): void {
    this.db.run("DELETE FROM producers");
  }
}

const gap = (expected: number, producer: Producer) =>
  refuse("producer_sequence_gap", `Expected Producer-Seq ${expected}.`, { expectedSeq: expected, receivedSeq: producer.seq });

/** A producer's retry of the very append that closed the stream, which answers as it did then. */
export function retriesClose(meta: Meta, producer: Producer | undefined): producer is Producer {
  const by = meta.closedBy;
  return !!producer && !!by && by.producerId === producer.id && by.epoch === producer.epoch && by.seq === producer.seq;
}
