/**
 * How a stream object says no: it throws a Refusal (http/refusal.ts) with a code from the
 * catalogue (contract/errors.ts), and its RPC methods hand it back carried, since class
 * identity does not survive RPC. The object never names a header: what the caller can recover
 * with travels as the refusal's detail, and http-refusals.ts turns it into the protocol's headers.
 */
import type { ErrorCode } from "../../contract/errors.ts";
import { Refusal } from "../http/refusal.ts";

/** Facts a stream's refusal carries so the caller can recover (the protocol sends them as headers). */
export type StreamRefusalDetail = {
  /** The stream's tail, on a write to a closed stream. */
  tail?: string;
  /** The producer epoch that superseded the caller's. */
  currentEpoch?: number;
  /** The `Producer-Seq` the stream expected, and the one it got. */
  expectedSeq?: number;
  receivedSeq?: number;
};

export const refuse = (code: ErrorCode, message: string, detail?: StreamRefusalDetail): Refusal =>
  new Refusal(code, message, detail === undefined ? {} : { detail });

/** What a read of a private stream without a read token gets. */
export const privateStream = () => refuse("unauthorized", "This stream is private: send a read token as Authorization: Bearer.");
