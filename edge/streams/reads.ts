/**
 * Reading a stream over HTTP: what every read shares (one read of the object, the 200 with its
 * ETag and flags) and the plain catch-up read. Live reads build on it: long-poll.ts, sse.ts.
 */
import type { Env } from "../env.ts";
import type { Carried } from "../http/refusal.ts";
import { concatBytes } from "../http/validate.ts";
import type { RouteContext } from "../router.ts";
import { unwrapStream } from "./http-refusals.ts";
import { isJsonType, jsonArray } from "./json-mode.ts";
import { Header, READ_CHUNK_BYTES } from "./protocol.ts";
import type { StoredMessage } from "./segments.ts";
import { catchUpCacheControl } from "./read-cache.ts";
import { SharedReads } from "./shared-reads.ts";
import type { ReadResult } from "./stream-log.ts";
import type { StreamInfo } from "./stream-state.ts";

export type Stub = ReturnType<Env["STREAMS"]["getByName"]>;

/** A request on one stream's path, with its object. */
export interface StreamRequest extends RouteContext {
  name: string;
  stub: Stub;
}

const sharedReads = new SharedReads<ReadResult | Carried>();

/**
 * One read of the object; a refusal becomes the HTTP error it stands for. Readers here asking
 * for the same offset at once share it (shared-reads.ts). Whether the reader holds a read token
 * is part of what they share, so the object checks a private stream for each kind of reader.
 */
export async function read(stub: Stub, offset: string, authorized: boolean): Promise<ReadResult> {
  const key = `${stub.id.toString()} ${offset} ${authorized}`;
  return unwrapStream(await sharedReads.read(key, () => stub.read(offset, READ_CHUNK_BYTES, authorized)));
}

/** The headers that describe a stream (HEAD, and every create). */
export function infoHeaders(info: StreamInfo): Record<string, string> {
  const headers: Record<string, string> = { [Header.ContentType]: info.contentType, [Header.NextOffset]: info.tail };
  if (info.closed) headers[Header.Closed] = "true";
  if (info.ttlSeconds !== undefined) headers[Header.Ttl] = String(info.ttlSeconds);
  if (info.expiresAt !== undefined) headers[Header.ExpiresAt] = info.expiresAt;
  return headers;
}

export const etag = (name: string, start: string, end: string, closed: boolean) => `"${btoa(name)}:${start}:${end}${closed ? ":c" : ""}"`;

function body(info: StreamInfo, messages: StoredMessage[]): Uint8Array | string {
  if (isJsonType(info.contentType)) return jsonArray(messages.map((m) => m.data));
  return concatBytes(messages.map((m) => m.data));
}

export async function serveCatchUp({ stub, name, request, env }: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const result = await read(stub, offset, authorized);
  const { info } = result;
  const headers: Record<string, string> = { [Header.ContentType]: info.contentType, [Header.NextOffset]: result.next };
  if (offset === "now") {
    headers[Header.UpToDate] = "true";
    headers["Cache-Control"] = "no-store";
    if (info.closed) headers[Header.Closed] = "true";
    return new Response(isJsonType(info.contentType) ? "[]" : "", { status: 200, headers });
  }
  headers["Cache-Control"] = catchUpCacheControl(env, result, offset);
  return dataResponse(name, request, offset, result, headers);
}

/** A 200 with messages (or an empty catch-up), its ETag and the up-to-date and closed flags. */
export function dataResponse(name: string, request: Request, start: string, result: ReadResult, headers: Record<string, string>): Response {
  const atTail = result.next === result.info.tail;
  if (result.upToDate) headers[Header.UpToDate] = "true";
  const closed = result.info.closed && atTail && result.upToDate;
  if (closed) headers[Header.Closed] = "true";
  const tag = etag(name, start, result.next, closed);
  headers.ETag = tag;
  // Private streams must not land in shared caches.
  if (!result.info.public) headers["Cache-Control"] = "private, no-cache";
  if (request.headers.get("If-None-Match") === tag) return new Response(null, { status: 304, headers: { ETag: tag } });
  return new Response(body(result.info, result.messages), { status: 200, headers });
}
