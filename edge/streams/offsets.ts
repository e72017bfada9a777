/**
 * Offsets of the Durable Streams protocol as this server writes them: `<read seq>_<byte
 * position>`, both zero-padded to 16 digits so that offsets compare as plain strings. Each
 * message moves the position by its length plus a fixed 5-byte frame, the same arithmetic as
 * the reference server, so a segment can rebuild every offset from its first one.
 */
import { HttpError } from "../http/errors.ts";
import { readJsonText } from "../http/json-depth.ts";
import { jsonRefusal } from "../http/validate.ts";

export const ZERO_OFFSET = "0000000000000000_0000000000000000";
export const FRAME_OVERHEAD = 5;

/** What a client may send as `offset=`. */
export const OFFSET_PARAM = /^(-1|now|\d+_\d+)$/;
export const CONCRETE_OFFSET = /^\d+_\d+$/;

export function advance(offset: string, bytes: number): string {
  const [seq = "0", position = "0"] = offset.split("_");
  return `${seq.padStart(16, "0")}_${String(Number(position) + FRAME_OVERHEAD + bytes).padStart(16, "0")}`;
}

/** Cursors keep CDN caches of long-polls from looping (protocol §cursors): 20 s intervals. */
const CURSOR_EPOCH = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_S = 20;

export function responseCursor(clientCursor: string | null | undefined): string {
  const current = Math.floor((Date.now() - CURSOR_EPOCH) / (CURSOR_INTERVAL_S * 1000));
  if (!clientCursor) return String(current);
  const client = Number.parseInt(clientCursor, 10);
  if (Number.isNaN(client) || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(client + Math.max(1, Math.ceil(jitterSeconds / CURSOR_INTERVAL_S)));
}

/** `application/json; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

export const isJsonType = (contentType: string) => mediaType(contentType) === "application/json";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * JSON mode stores each append as its values joined by commas with a trailing comma
 * (`{"a":1},{"b":2},`), so a read is `[` + the concatenation without the last comma + `]`.
 * An array body appends its elements; an empty array is refused except on create.
 */
export function jsonFragment(body: Uint8Array, onCreate: boolean): Uint8Array {
  if (onCreate && body.byteLength === 0) return body;
  const reading = readJsonText(decoder.decode(body));
  if (!reading.ok) throw jsonRefusal(reading.problem);
  const parsed = reading.value;
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) {
      if (onCreate) return new Uint8Array(0);
      throw new HttpError(400, "empty_array", "Empty arrays are not allowed.");
    }
    return encoder.encode(parsed.map((item) => JSON.stringify(item)).join(",") + ",");
  }
  return encoder.encode(JSON.stringify(parsed) + ",");
}

/** Joins stored JSON fragments into one JSON array body. */
export function jsonArray(fragments: Uint8Array[]): string {
  const parts: string[] = [];
  for (const fragment of fragments) {
    const text = decoder.decode(fragment).trimEnd();
    parts.push(text.endsWith(",") ? text.slice(0, -1) : text);
  }
  return `[${parts.filter((p) => p.length > 0).join(",")}]`;
}

/** An HttpError raised inside the stream log, carried across RPC as plain data (class identity does not survive RPC). */
export interface Refusal {
  refused: { status: number; code: string; message: string; headers: Record<string, string> };
}

export const refusal = (error: HttpError): Refusal => ({
  refused: { status: error.status, code: error.code, message: error.message, headers: error.headers },
});

export const isRefusal = (value: unknown): value is Refusal =>
  typeof value === "object" && value !== null && "refused" in value;

export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
