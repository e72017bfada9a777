/**
 * JSON mode of the protocol: a stream of type `application/json` stores each append as its
 * values joined by commas with a trailing comma (`{"a":1},{"b":2},`), so a read is `[` + the
 * concatenation without the last comma + `]`.
 */
import { TOO_DEEP, readJsonText } from "../http/json-depth.ts";
import { refuse } from "./refusals.ts";

/** `application/json; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? "").split(";")[0]!.trim().toLowerCase();
}

export const isJsonType = (contentType: string) => mediaType(contentType) === "application/json";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The stored fragment of one JSON append. An array body appends its elements; an empty array
 * is refused except on create. Throws a Refusal for a body that is not JSON.
 */
export function jsonFragment(body: Uint8Array, onCreate: boolean): Uint8Array {
  if (onCreate && body.byteLength === 0) return body;
  const reading = readJsonText(decoder.decode(body));
  if (!reading.ok) {
    throw reading.problem === "too_deep"
      ? refuse("too_deep", `The body nests too deep: ${TOO_DEEP}`)
      : refuse("invalid_json", "The body is not valid JSON.");
  }
  const parsed = reading.value;
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) {
      if (onCreate) return new Uint8Array(0);
      throw refuse("empty_array", "Empty arrays are not allowed.");
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

/** The values of one stored fragment, for a fork that splits a message at a sub-offset. */
export function fragmentValues(fragment: Uint8Array): unknown[] {
  const text = decoder.decode(fragment);
  return JSON.parse(`[${text.endsWith(",") ? text.slice(0, -1) : text}]`) as unknown[];
}

/** The fragment of `values`, as `jsonFragment` would store them. */
export const valuesFragment = (values: unknown[]): Uint8Array => encoder.encode(values.map((v) => JSON.stringify(v)).join(",") + ",");
