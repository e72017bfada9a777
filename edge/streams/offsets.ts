/**
 * Offsets of the Durable Streams protocol as this server writes them: `<read seq>_<byte
 * position>`, both zero-padded to 16 digits so that offsets compare as plain strings. Each
 * message moves the position by its length plus a fixed 5-byte frame, the same arithmetic as
 * the reference server, so a segment can rebuild every offset from its first one.
 */
export const ZERO_OFFSET = "0000000000000000_0000000000000000";
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
