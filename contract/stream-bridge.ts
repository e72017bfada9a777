/**
 * The internal socket from a stream's Durable Object to the Worker's live readers
 * (docs/protocol.md, "Inside the Worker"). The readers only listen: nothing goes the other way.
 */

/** Every frame the stream object sends. */
export type BridgeFrame =
  /** After each append: `data` is base64, `after` the tail before it. */
  | { type: "append"; after: string; messages: { offset: string; data: string }[]; closed: boolean }
  /** The stream was closed without data. */
  | { type: "closed"; offset: string };

/** Close code of a bridge socket whose stream was deleted or expired. */
export const STREAM_GONE = 4404;
