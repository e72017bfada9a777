/**
 * Offsets of the Durable Streams protocol as this server writes them: `<read seq>_<byte
 * position>`, both zero-padded to 16 digits so that offsets compare as plain strings. Each
 * message moves the position by its length plus a fixed 5-byte frame, the same arithmetic as
 * the reference server, so a segment can rebuild every offset from its first one. A stream
 * starts at its incarnation's read seq (`incarnationOffset`); streams created before that
 * start at ZERO_OFFSET, which stays below every offset of every stream.
 */
export const ZERO_OFFSET = "0000000000000000_0000000000000000";

/**
 * The first offset of a stream's incarnation `seq` at byte position `position`. Each new
 * stream (and each re-creation of a deleted name) gets its own read seq, so no offset of an
 * earlier stream of the same name names the same place in a new one: an answer a cache kept
 * for `?offset=` of the old stream is never the answer for the new one.
 */
export function incarnationOffset(seq: number, position = 0): string {
  return `${String(seq).padStart(16, "0")}_${String(position).padStart(16, "0")}`;
}

/** The read seq and byte position of a concrete offset. */
export function offsetParts(offset: string): { seq: number; position: number } {
  const [seq = "0", position = "0"] = offset.split("_");
  return { seq: Number(seq), position: Number(position) };
}
export const FRAME_OVERHEAD = 5;

/** What a client may send as `offset=`. */
export const OFFSET_PARAM = /^(-1|now|\d+_\d+)$/;
export const CONCRETE_OFFSET = /^\d+_\d+$/;

/** The offset after a message of `bytes` bytes that follows `offset`. */
export function advance(offset: string, bytes: number): string {
  const [seq = "0", position = "0"] = offset.split("_");
  return `${seq.padStart(16, "0")}_${String(Number(position) + FRAME_OVERHEAD + bytes).padStart(16, "0")}`;
}

/** The offset just before a message that ends at `end` and holds `bytes` bytes. */
export function startOf(end: string, bytes: number): string {
  const [seq = "0", position = "0"] = end.split("_");
  return `${seq}_${String(Number(position) - bytes - FRAME_OVERHEAD).padStart(16, "0")}`;
}
