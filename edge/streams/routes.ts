import type { Env } from "../env.ts";
import { HttpError, badRequest, errorResponse } from "../http/errors.ts";
import { concatBytes, readBytes } from "../http/validate.ts";
import type { Handler, RouteContext } from "../router.ts";
import { authOff, authorize } from "./auth.ts";
import { Bridge, type BridgeEvent } from "./bridge.ts";
import { CONCRETE_OFFSET, OFFSET_PARAM, ZERO_OFFSET, isJsonType, jsonArray, mediaType, refusal, responseCursor, toBase64, type Refusal } from "./offsets.ts";
import type { StoredMessage } from "./segments.ts";
import { STREAM_PREFIX, parseStreamPath } from "./paths.ts";
import { privateStream, type ReadResult, type Reply, type SourceAccess, type StreamInfo } from "./stream-log.ts";

/**
 * The Durable Streams protocol at `/v1/stream/{stream}` (a stream path, see paths.ts): this file checks and translates HTTP,
 * the stream's object (`StreamLog`) decides. Live reads (long-poll, SSE) wait here, on the
 * bridge, so the object can hibernate while nothing is written.
 */
/** One message is one SQLite row, and a row holds at most 2 MB. */
const MAX_BODY_BYTES = 1536 * 1024;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
const DEFAULT_LONG_POLL_MS = 20_000;


type Stub = ReturnType<Env["STREAMS"]["getByName"]>;

interface StreamRequest extends RouteContext {
  name: string;
  stub: Stub;
}

const handlers: Record<string, (request: StreamRequest) => Promise<Response>> = {
  PUT: createStream,
  POST: appendToStream,
  GET: readStream,
  HEAD: headStream,
  DELETE: deleteStream,
};

/**
 * Every answer on this path, errors included, may be read by pages of any origin (the protocol's
 * readers live anywhere); the Worker's entry makes every API answer inert (http/inert.ts).
 */
export const streamRoute: Handler = async (route) => {
  let response: Response;
  try {
    const name = parseStreamPath(route.url.pathname.slice(STREAM_PREFIX.length));
    const handler = handlers[route.request.method]!;
    response = await handler({ ...route, name, stub: route.env.STREAMS.getByName(name) });
  } catch (error) {
    response = errorResponse(error);
  }
  const copy = new Response(response.body, response);
  copy.headers.set("Cross-Origin-Resource-Policy", "cross-origin");
  return copy;
};

export const STREAM_METHODS = Object.fromEntries(Object.keys(handlers).map((method) => [method, streamRoute]));

function longPollMs(env: Env): number {
  const configured = Number(env.STREAMS_LONG_POLL_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_LONG_POLL_MS;
}

function fail(refused: Refusal): never {
  const { status, code, message, headers } = refused.refused;
  throw new HttpError(status, code, message, headers);
}

function reply(result: Reply | Refusal, extra: Record<string, string> = {}): Response {
  if ("refused" in result) fail(result);
  return new Response(null, { status: result.status, headers: { ...result.headers, ...extra } });
}

const readBody = (request: Request) => readBytes(request, MAX_BODY_BYTES);

const NON_NEGATIVE = /^(0|[1-9]\d*)$/;

async function createStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const headers = request.headers;
  const forkedFromHeader = headers.get("Stream-Forked-From");
  let contentType: string | undefined = headers.get("Content-Type") ?? "";
  if (!contentType.trim() || !/^[\w-]+\/[\w-]+/.test(contentType)) contentType = forkedFromHeader ? undefined : "application/octet-stream";

  const ttl = headers.get("Stream-TTL");
  const expiresAt = headers.get("Stream-Expires-At");
  if (ttl !== null && expiresAt !== null) throw badRequest("Send Stream-TTL or Stream-Expires-At, not both.", "invalid_ttl");
  if (ttl !== null && !NON_NEGATIVE.test(ttl)) throw badRequest("Stream-TTL must be a whole number of seconds.", "invalid_ttl");
  if (expiresAt !== null && Number.isNaN(Date.parse(expiresAt))) throw badRequest("Stream-Expires-At must be an RFC 3339 time.", "invalid_expires_at");

  const forkOffset = headers.get("Stream-Fork-Offset");
  if (forkOffset !== null && !CONCRETE_OFFSET.test(forkOffset)) throw badRequest("Stream-Fork-Offset is not an offset.", "invalid_fork_offset");
  const subOffset = headers.get("Stream-Fork-Sub-Offset");
  if (subOffset !== null) {
    if (!forkedFromHeader) throw badRequest("Stream-Fork-Sub-Offset needs Stream-Forked-From.", "invalid_fork_sub_offset");
    if (!NON_NEGATIVE.test(subOffset)) throw badRequest("Stream-Fork-Sub-Offset must be a whole number.", "invalid_fork_sub_offset");
  }
  const forkedFrom = forkedFromHeader === null ? undefined : sourceName(forkedFromHeader);

  await authorize(env, request, name, "write");
  const isPublic = url.searchParams.get("public") === "true";
  const sourceAccess = forkedFrom === undefined ? undefined : await accessToSource(env, request, forkedFrom, isPublic);
  const body = await readBody(request);
  const result = await stub.create({
    ...(contentType !== undefined && { contentType }),
    ...(ttl !== null && { ttlSeconds: Number(ttl) }),
    ...(expiresAt !== null && { expiresAt }),
    closed: headers.get("Stream-Closed")?.toLowerCase() === "true",
    public: isPublic,
    body,
    ...(forkedFrom !== undefined && { forkedFrom }),
    ...(sourceAccess !== undefined && { sourceAccess }),
    ...(forkOffset !== null && { forkOffset }),
    ...(subOffset !== null && { forkSubOffset: Number(subOffset) }),
  });
  if ("refused" in result) fail(result);
  return reply(result, result.created ? { Location: `${url.origin}${url.pathname}` } : {});
}

/**
 * A fork shows its source's data to the fork's readers, so it takes read access to the source
 * with the same credentials: what a read of the source would answer this caller is the fork's
 * answer too, should the source be private (the source alone knows, so it decides).
 */
async function accessToSource(env: Env, request: Request, source: string, isPublic: boolean): Promise<SourceAccess> {
  // With stream auth off every stream is readable by anyone, so no fork reveals anything.
  const access: SourceAccess = { public: isPublic && !authOff(env) };
  try {
    if (!(await authorize(env, request, source, "read"))) access.refusal = privateStream();
  } catch (error) {
    // The write check passed with this token, so what is left is a token for another stream.
    if (!(error instanceof HttpError)) throw error;
    access.refusal = refusal(error);
  }
  return access;
}

/** `Stream-Forked-From` names the source by URL path (`/v1/stream/a/b`) or by stream path (`a/b`). */
function sourceName(value: string): string {
  let path = value.trim();
  try {
    if (/^https?:/i.test(path)) path = new URL(path).pathname;
  } catch {
    // Not a URL; treat it as a path or name.
  }
  if (path.startsWith(STREAM_PREFIX)) path = path.slice(STREAM_PREFIX.length);
  return parseStreamPath(path, "source stream");
}

const INTEGER = /^\d+$/;

async function appendToStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const headers = request.headers;
  const id = headers.get("Producer-Id");
  const epoch = headers.get("Producer-Epoch");
  const seq = headers.get("Producer-Seq");
  const some = id !== null || epoch !== null || seq !== null;
  const all = id !== null && epoch !== null && seq !== null;
  if (some && !all) throw badRequest("Send Producer-Id, Producer-Epoch and Producer-Seq together.", "invalid_producer");
  if (all && id === "") throw badRequest("Producer-Id must not be empty.", "invalid_producer");
  if (all && (!INTEGER.test(epoch) || !Number.isSafeInteger(Number(epoch)))) {
    throw badRequest("Producer-Epoch must be a non-negative integer.", "invalid_producer");
  }
  if (all && (!INTEGER.test(seq) || !Number.isSafeInteger(Number(seq)))) {
    throw badRequest("Producer-Seq must be a non-negative integer.", "invalid_producer");
  }
  const close = headers.get("Stream-Closed")?.toLowerCase() === "true";

  await authorize(env, request, name, "write");
  const body = await readBody(request);
  if (body.byteLength === 0 && !close) throw badRequest("An append needs a body.", "empty_body");
  const contentType = headers.get("Content-Type");
  if (body.byteLength > 0 && !contentType) throw badRequest("An append needs a Content-Type.", "missing_content_type");
  const streamSeq = headers.get("Stream-Seq");
  const result = await stub.append({
    body,
    ...(contentType !== null && { contentType }),
    ...(streamSeq !== null && { seq: streamSeq }),
    close,
    ...(all && { producer: { id, epoch: Number(epoch), seq: Number(seq) } }),
  });
  return reply(result);
}

async function deleteStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  await authorize(env, request, name, "write");
  return reply(await stub.remove());
}

async function headStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const authorized = await authorize(env, request, name, "read");
  const result = await stub.head(authorized);
  if ("refused" in result) fail(result);
  const headers = infoHeaders(result);
  headers["Cache-Control"] = "no-store";
  headers.ETag = etag(name, "-1", result.tail, result.closed);
  return new Response(null, { status: 200, headers });
}

function infoHeaders(info: StreamInfo): Record<string, string> {
  const headers: Record<string, string> = { "Content-Type": info.contentType, "Stream-Next-Offset": info.tail };
  if (info.closed) headers["Stream-Closed"] = "true";
  if (info.ttlSeconds !== undefined) headers["Stream-TTL"] = String(info.ttlSeconds);
  if (info.expiresAt !== undefined) headers["Stream-Expires-At"] = info.expiresAt;
  return headers;
}

const etag = (name: string, start: string, end: string, closed: boolean) => `"${btoa(name)}:${start}:${end}${closed ? ":c" : ""}"`;

async function readStream(request: StreamRequest): Promise<Response> {
  const { url } = request;
  const offsets = url.searchParams.getAll("offset");
  const offset = offsets[0];
  if (offset !== undefined) {
    if (offset === "") throw badRequest("The offset parameter is empty.", "invalid_offset");
    if (offsets.length > 1) throw badRequest("Send one offset parameter.", "invalid_offset");
    if (!OFFSET_PARAM.test(offset)) throw badRequest("The offset must be -1, now or an offset this server returned.", "invalid_offset");
  }
  const live = url.searchParams.get("live");
  if ((live === "long-poll" || live === "sse") && offset === undefined) {
    throw badRequest(`${live === "sse" ? "SSE" : "Long-poll"} needs an offset parameter.`, "missing_offset");
  }
  const authorized = await authorize(request.env, request.request, request.name, "read");
  if (live === "sse") return serveSse(request, offset!, authorized);
  if (live === "long-poll") return serveLongPoll(request, offset!, authorized);
  return serveCatchUp(request, offset ?? "-1", authorized);
}

async function read(stub: Stub, offset: string, authorized: boolean): Promise<ReadResult> {
  const result = (await stub.read(offset, READ_CHUNK_BYTES, authorized)) as ReadResult | Refusal;
  if ("refused" in result) fail(result);
  return result;
}

function body(info: StreamInfo, messages: StoredMessage[]): Uint8Array | string {
  if (isJsonType(info.contentType)) return jsonArray(messages.map((m) => m.data));
  const size = messages.reduce((sum, m) => sum + m.data.byteLength, 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const message of messages) {
    out.set(message.data, at);
    at += message.data.byteLength;
  }
  return out;
}

async function serveCatchUp({ stub, name, request }: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const result = await read(stub, offset, authorized);
  const { info } = result;
  const headers: Record<string, string> = { "Content-Type": info.contentType, "Stream-Next-Offset": result.next };
  if (offset === "now") {
    headers["Stream-Up-To-Date"] = "true";
    headers["Cache-Control"] = "no-store";
    if (info.closed) headers["Stream-Closed"] = "true";
    return new Response(isJsonType(info.contentType) ? "[]" : "", { status: 200, headers });
  }
  return dataResponse(name, request, offset, result, headers);
}

/** A 200 with messages (or an empty catch-up), its ETag and the up-to-date and closed flags. */
function dataResponse(name: string, request: Request, start: string, result: ReadResult, headers: Record<string, string>): Response {
  const atTail = result.next === result.info.tail;
  if (result.upToDate) headers["Stream-Up-To-Date"] = "true";
  const closed = result.info.closed && atTail && result.upToDate;
  if (closed) headers["Stream-Closed"] = "true";
  const tag = etag(name, start, result.next, closed);
  headers.ETag = tag;
  // Private streams must not land in shared caches.
  if (!result.info.public) headers["Cache-Control"] = "private, no-cache";
  if (request.headers.get("If-None-Match") === tag) return new Response(null, { status: 304, headers: { ETag: tag } });
  return new Response(body(result.info, result.messages), { status: 200, headers });
}

async function serveLongPoll(route: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const { stub, name, request, url, env } = route;
  const cursor = url.searchParams.get("cursor");
  let result = await read(stub, offset, authorized);
  const from = result.next;
  // Data already there, or a first read of the stream (`-1`), answers at once.
  if (result.messages.length > 0 || !result.upToDate || offset === "-1") {
    return dataResponse(name, request, offset, result, longPollHeaders(result.info, result.next, cursor));
  }
  if (result.info.closed) return noContent(result.info.tail, cursor, true);

  const deadline = Date.now() + longPollMs(env);
  let bridge = await Bridge.open(stub);
  try {
    // Anything appended between the first read and the subscription.
    result = await read(stub, from, authorized);
    for (;;) {
      if (result.messages.length > 0) return dataResponse(name, request, offset, result, longPollHeaders(result.info, result.next, cursor));
      if (result.info.closed) return noContent(result.info.tail, cursor, true);
      const event: BridgeEvent = await bridge.next(Math.max(0, deadline - Date.now()));
      if (event.type === "timeout") return noContent(from, cursor, false);
      if (event.type === "closed") return noContent(event.offset, cursor, true);
      if (event.type === "gone") fail({ refused: { status: 404, code: "not_found", message: "The stream was deleted.", headers: {} } });
      if (event.type === "dropped") bridge = await Bridge.open(stub);
      if (event.type === "append" && event.after === from) {
        const last = event.messages.at(-1)!;
        result = {
          info: { ...result.info, tail: last.offset, closed: event.closed },
          messages: event.messages,
          next: last.offset,
          upToDate: true,
        };
        continue;
      }
      result = await read(stub, from, authorized);
    }
  } finally {
    bridge.close();
  }
}

function longPollHeaders(info: StreamInfo, next: string, cursor: string | null): Record<string, string> {
  return { "Content-Type": info.contentType, "Stream-Next-Offset": next, "Stream-Cursor": responseCursor(cursor) };
}

function noContent(offset: string, cursor: string | null, closed: boolean): Response {
  const headers: Record<string, string> = { "Stream-Next-Offset": offset, "Stream-Up-To-Date": "true", "Stream-Cursor": responseCursor(cursor) };
  if (closed) headers["Stream-Closed"] = "true";
  return new Response(null, { status: 204, headers });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One SSE event; every line of the payload gets its own `data:` line (no CR/LF injection). */
function sseEvent(type: string, payload: string): Uint8Array {
  const lines = payload.split(/\r\n|\r|\n/).map((line) => `data:${line}`);
  return encoder.encode(`event: ${type}\n${lines.join("\n")}\n\n`);
}

async function serveSse(route: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const { stub, url, env } = route;
  const clientCursor = url.searchParams.get("cursor");
  // Subscribe first, then read: nothing appended in between can be missed.
  let bridge = await Bridge.open(stub);
  let first: ReadResult;
  try {
    first = await read(stub, offset, authorized);
  } catch (error) {
    bridge.close();
    throw error;
  }
  const type = mediaType(first.info.contentType);
  const json = type === "application/json";
  const base64 = !json && !type.startsWith("text/");
  const payload = (message: StoredMessage) =>
    json ? jsonArray([message.data]) : base64 ? toBase64(message.data) : decoder.decode(message.data);

  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  const keepAliveMs = longPollMs(env);

  const control = (offset: string, upToDate: boolean, closed: boolean): Uint8Array => {
    const data: Record<string, unknown> = { streamNextOffset: offset };
    if (closed) data.streamClosed = true;
    else {
      data.streamCursor = responseCursor(clientCursor);
      if (upToDate) data.upToDate = true;
    }
    return sseEvent("control", JSON.stringify(data));
  };
  /** Each data event goes out with its control event in one chunk. Returns the new cursor. */
  const send = async (messages: StoredMessage[], upToDate: boolean, closedAtEnd: boolean): Promise<string> => {
    const parts: Uint8Array[] = [];
    messages.forEach((message, i) => {
      const last = i === messages.length - 1;
      parts.push(sseEvent("data", payload(message)), control(message.offset, last && upToDate, last && closedAtEnd));
    });
    await writer.write(concatBytes(parts));
    return messages.at(-1)!.offset;
  };

  const pump = async () => {
    let cursor = offset === "now" ? first.next : offset === "-1" ? ZERO_OFFSET : offset;
    let pending: ReadResult | undefined = first;
    try {
      for (;;) {
        const result: ReadResult = pending ?? (await read(stub, cursor, authorized));
        pending = undefined;
        const fresh = result.messages.filter((m) => m.offset > cursor);
        if (fresh.length === 0 && result.upToDate) cursor = result.next;
        const last = fresh.at(-1)?.offset ?? cursor;
        const closedAtEnd = result.info.closed && last === result.info.tail && result.upToDate;
        if (fresh.length > 0) {
          cursor = await send(fresh, result.upToDate, closedAtEnd);
        } else {
          await writer.write(control(cursor, result.upToDate, closedAtEnd));
        }
        if (closedAtEnd) return;
        if (!result.upToDate) continue;

        // Up to date: wait on the bridge until something happens.
        for (;;) {
          const event: BridgeEvent = await bridge.next(keepAliveMs);
          if (event.type === "timeout") {
            const alive = { streamNextOffset: cursor, streamCursor: responseCursor(clientCursor), upToDate: true };
            await writer.write(sseEvent("control", JSON.stringify(alive)));
            continue;
          }
          if (event.type === "gone") return;
          if (event.type === "dropped") {
            bridge = await Bridge.open(stub);
            break;
          }
          if (event.type === "closed") {
            if (event.offset !== cursor) break;
            await writer.write(control(cursor, true, true));
            return;
          }
          if (event.after > cursor) break; // A gap: read it from the log.
          const fresh = event.messages.filter((m) => m.offset > cursor);
          if (fresh.length === 0) continue;
          cursor = await send(fresh, true, event.closed);
          if (event.closed) return;
        }
      }
    } catch {
      // The reader went away (a write failed) or the stream vanished mid-read.
    } finally {
      bridge.close();
      await writer.close().catch(() => undefined);
    }
  };
  route.ctx.waitUntil(pump());

  const headers: Record<string, string> = { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" };
  if (base64) headers["Stream-SSE-Data-Encoding"] = "base64";
  return new Response(readable, { status: 200, headers });
}
