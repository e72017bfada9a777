/**
 * The Durable Streams protocol's header names, and the limits this server sets on it. Only the
 * HTTP layer (routes, reads, long-poll, SSE) speaks in these; the stream object does not.
 */
import type { Env } from "../env.ts";
import { positiveNumber } from "../settings.ts";

export const Header = {
  ContentType: "Content-Type",
  NextOffset: "Stream-Next-Offset",
  UpToDate: "Stream-Up-To-Date",
  Closed: "Stream-Closed",
  Cursor: "Stream-Cursor",
  Seq: "Stream-Seq",
  Ttl: "Stream-TTL",
  ExpiresAt: "Stream-Expires-At",
  ForkedFrom: "Stream-Forked-From",
  ForkOffset: "Stream-Fork-Offset",
  ForkSubOffset: "Stream-Fork-Sub-Offset",
  SseDataEncoding: "Stream-SSE-Data-Encoding",
  ProducerId: "Producer-Id",
  ProducerEpoch: "Producer-Epoch",
  ProducerSeq: "Producer-Seq",
  ProducerExpectedSeq: "Producer-Expected-Seq",
  ProducerReceivedSeq: "Producer-Received-Seq",
} as const;

/** One message is one SQLite row, and a row holds at most 2 MB. */
export const MAX_BODY_BYTES = 1536 * 1024;
/** About how much one read asks of the object. */
export const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const LONG_POLL_MS = positiveNumber("STREAMS_LONG_POLL_MS", 20_000, "ms");

/** How long a long-poll (and an idle SSE keep-alive) waits. */
export const longPollMs = (env: Env): number => LONG_POLL_MS.read(env);
