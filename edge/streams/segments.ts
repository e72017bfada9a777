import { advance } from "./offsets.ts";

/**
 * A cold segment: an immutable R2 object holding a run of messages that left the hot SQLite
 * log. The body is each message as a 4-byte big-endian length and its bytes; offsets are not
 * stored, since each one follows from the segment's start offset (see `advance`).
 */
export interface StoredMessage {
  offset: string;
  data: Uint8Array;
}

export function encodeSegment(messages: Uint8Array[]): Uint8Array {
  const size = messages.reduce((sum, m) => sum + 4 + m.byteLength, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const message of messages) {
    view.setUint32(at, message.byteLength);
    out.set(message, at + 4);
    at += 4 + message.byteLength;
  }
  return out;
}

export function decodeSegment(body: Uint8Array, startOffset: string): StoredMessage[] {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const messages: StoredMessage[] = [];
  let offset = startOffset;
  for (let at = 0; at < body.byteLength; ) {
    const length = view.getUint32(at);
    const data = body.slice(at + 4, at + 4 + length);
    offset = advance(offset, length);
    messages.push({ offset, data });
    at += 4 + length;
  }
  return messages;
}

/** R2 keys: one folder per stream and incarnation, so a re-created stream never sees old data. */
export const segmentKey = (stream: string, generation: string, start: string, end: string) =>
  `${stream}/${generation}/${start}-${end}.seg`;
export const generationPrefix = (stream: string, generation: string) => `${stream}/${generation}/`;
