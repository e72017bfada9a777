import type { z } from "zod";
import { Refusal, badRequest } from "./refusal.ts";

import { TOO_DEEP, readJsonText } from "./json-depth.ts";
import { NAME_PATTERN, NAME_RULE } from "../../contract/names.ts";

export function parseName(value: string | undefined, what: string): string {
  const name = value === undefined ? "" : safeDecode(value);
  if (!NAME_PATTERN.test(name)) {
    throw badRequest(`The ${what} name must be ${NAME_RULE}.`, "invalid_name");
  }
  return name;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Reads a JSON body of at most `maxBytes` and checks it against `schema`. */
export async function readJson<T>(request: Request, schema: z.ZodType<T>, maxBytes: number): Promise<T> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.toLowerCase().startsWith("application/json")) {
    throw new Refusal("unsupported_media_type", "Send the body as application/json.");
  }
  const reading = readJsonText(await readText(request, maxBytes));
  if (!reading.ok) throw jsonRefusal(reading.problem);
  return parseWith(schema, reading.value);
}

/** The 400 for a body that `readJsonText` refused. */
export const jsonRefusal = (problem: "invalid_json" | "too_deep") =>
  problem === "too_deep" ? badRequest(`The body nests too deep: ${TOO_DEEP}`, "too_deep") : badRequest("The body is not valid JSON.", "invalid_json");

/** Reads a request body as text, refusing it with 413 as soon as it passes `maxBytes`. */
export async function readText(request: Request, maxBytes: number): Promise<string> {
  const bytes = await readBytes(request, maxBytes);
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw badRequest("The body is not valid UTF-8.", "invalid_utf8");
  }
}

/**
 * Reads a request body, refusing it with 413 as soon as it passes `maxBytes`: a chunked body
 * has no length up front, so the limit is checked while reading, not after.
 */
/**
 * A body declared too large but no larger than this is read to its end and dropped before the
 * 413 goes out: a client still sending when the answer comes and the connection closes sees a
 * broken pipe instead of the refusal. Larger ones are refused at once.
 */
const DRAINED_WHEN_REFUSED = 16 * 1024 * 1024;

export async function readBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    if (declared <= DRAINED_WHEN_REFUSED && request.body) await request.body.pipeTo(new WritableStream()).catch(() => undefined);
    throw tooLarge(maxBytes);
  }
  if (!request.body) return new Uint8Array(0);
  // A declared length bounds the body (the HTTP server reads no more), so it is read in one go.
  if (request.headers.has("content-length") && Number.isSafeInteger(declared)) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
    return bytes;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

const tooLarge = (maxBytes: number) =>
  new Refusal("payload_too_large", `The body is larger than ${maxBytes} bytes.`);

/** Checks `data` against `schema`; the first problem becomes a 400 a person can act on. */
export function parseWith<T>(schema: z.ZodType<T>, data: unknown): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw badRequest(describeIssue(result.error), "invalid_request");
}

export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "The request is not valid.";
  const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
  return `${where}${issue.message}`;
}

/**
 * `true` only when A and B are the same type, field for field, optional ones too. A schema's
 * output is held to the contract type it checks with `true satisfies SameType<…>`, so neither
 * changes without the other.
 */
export type SameType<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
