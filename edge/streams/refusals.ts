/**
 * How a stream object says no: plain data with a code from the catalogue below, because class
 * identity does not survive RPC. The object never picks an HTTP status or header name; the
 * protocol handler turns a refusal into both (`http-refusals.ts`).
 */

/** Every code a stream object refuses with; the HTTP layer gives each its status. */
export type StreamRefusalCode =
  | "not_found"
  | "stream_gone"
  | "unauthorized"
  | "stream_exists"
  | "stream_has_forks"
  | "stream_closed"
  | "content_type_mismatch"
  | "sequence_conflict"
  | "stale_producer_epoch"
  | "invalid_producer_seq"
  | "producer_sequence_gap"
  | "source_not_found"
  | "source_deleted"
  | "fork_not_public"
  | "invalid_fork_offset"
  | "invalid_fork_sub_offset"
  | "invalid_json"
  | "too_deep"
  | "empty_array";

/** Facts a refusal carries so the caller can recover (the protocol sends them as headers). */
export interface RefusalDetail {
  /** The stream's tail, on a write to a closed stream. */
  tail?: string;
  /** The producer epoch that superseded the caller's. */
  currentEpoch?: number;
  /** The `Producer-Seq` the stream expected, and the one it got. */
  expectedSeq?: number;
  receivedSeq?: number;
}

export interface Refusal {
  refused: {
    code: string;
    message: string;
    detail?: RefusalDetail;
    /**
     * Set only on a refusal the Worker decided before asking the object (a fork caller's
     * access to a private source), which the object hands back unchanged.
     */
    status?: number;
    headers?: Record<string, string>;
  };
}

export const refuse = (code: StreamRefusalCode, message: string, detail?: RefusalDetail): Refusal => ({
  refused: detail === undefined ? { code, message } : { code, message, detail },
});

/** Thrown inside the object to unwind a write; its RPC method returns the refusal as data. */
export class Refused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.refused.message);
  }
}

/** What a read of a private stream without a read token gets. */
export const privateStream = () => refuse("unauthorized", "This stream is private: send a read token as Authorization: Bearer.");
