import type { Env } from "../env.ts";
import { Refusal, badRequest, carry, errorResponse, type Carried } from "../http/refusal.ts";
import { withHeaders } from "../http/response-headers.ts";
import { readBytes } from "../http/validate.ts";
import { admin } from "../http/admin.ts";
import type { Handler, Routes } from "../router.ts";
import { authOff, authorize } from "./auth.ts";
import type { SourceAccess } from "./forks.ts";
import { unwrapStream } from "./http-refusals.ts";
import { serveLongPoll } from "./long-poll.ts";
import { fromCache, keep } from "./read-cache.ts";
import { CONCRETE_OFFSET, OFFSET_PARAM } from "./offsets.ts";
import { STREAM_PREFIX, parseStreamPath } from "./paths.ts";
import { Header, MAX_BODY_BYTES } from "./protocol.ts";
import { etag, infoHeaders, serveCatchUp, type StreamRequest } from "./reads.ts";
import { privateStream } from "./refusals.ts";
import { serveSse } from "./sse.ts";
import type { Appended, Created } from "./stream-log.ts";

/**
 * The Durable Streams protocol at `/v1/stream/{stream}` (a stream path, see paths.ts): this
 * file is the route table and the writes (PUT, POST, DELETE) and HEAD; reads.ts, long-poll.ts
 * and sse.ts serve GET. It checks and translates HTTP; the stream's object (`StreamLog`)
 * decides, in its own terms, and http-refusals.ts turns the refusals it carries back into HTTP. Live reads
 * wait here, on the bridge, so the object can hibernate while nothing is written.
 */

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
  return withHeaders(response, (headers) => headers.set("Cross-Origin-Resource-Policy", "cross-origin"));
};

export const STREAM_METHODS = Object.fromEntries(Object.keys(handlers).map((method) => [method, streamRoute]));

/** The owner's view of what reached one stream's object (object-load.ts). */
export const routes: Routes = {
  "/api/streams/load": {
    GET: admin(async ({ env, url }) => {
      const name = parseStreamPath(url.searchParams.get("stream") ?? "");
      return Response.json(await env.STREAMS.getByName(name).load());
    }),
  },
};

const readBody = (request: Request) => readBytes(request, MAX_BODY_BYTES);

const NON_NEGATIVE = /^(0|[1-9]\d*)$/;

async function createStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const headers = request.headers;
  const forkedFromHeader = headers.get(Header.ForkedFrom);
  let contentType: string | undefined = headers.get(Header.ContentType) ?? "";
  if (!contentType.trim() || !/^[\w-]+\/[\w-]+/.test(contentType)) contentType = forkedFromHeader ? undefined : "application/octet-stream";

  const ttl = headers.get(Header.Ttl);
  const expiresAt = headers.get(Header.ExpiresAt);
  if (ttl !== null && expiresAt !== null) throw badRequest("Send Stream-TTL or Stream-Expires-At, not both.", "invalid_ttl");
  if (ttl !== null && !NON_NEGATIVE.test(ttl)) throw badRequest("Stream-TTL must be a whole number of seconds.", "invalid_ttl");
  if (expiresAt !== null && Number.isNaN(Date.parse(expiresAt))) throw badRequest("Stream-Expires-At must be an RFC 3339 time.", "invalid_expires_at");

  const forkOffset = headers.get(Header.ForkOffset);
  if (forkOffset !== null && !CONCRETE_OFFSET.test(forkOffset)) throw badRequest("Stream-Fork-Offset is not an offset.", "invalid_fork_offset");
  const subOffset = headers.get(Header.ForkSubOffset);
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
    closed: headers.get(Header.Closed)?.toLowerCase() === "true",
    public: isPublic,
    body,
    ...(forkedFrom !== undefined && { forkedFrom }),
    ...(sourceAccess !== undefined && { sourceAccess }),
    ...(forkOffset !== null && { forkOffset }),
    ...(subOffset !== null && { forkSubOffset: Number(subOffset) }),
  });
  return created(result, `${url.origin}${url.pathname}`);
}

/** 201 with its `Location` for a new stream, 200 for an idempotent repeat of the create. */
function created(answer: Created | Carried, location: string): Response {
  const result = unwrapStream(answer);
  const { info } = result;
  const headers: Record<string, string> = { [Header.ContentType]: info.contentType, [Header.NextOffset]: info.tail };
  if (info.closed) headers[Header.Closed] = "true";
  if (result.created) headers.Location = location;
  return new Response(null, { status: result.created ? 201 : 200, headers });
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
    if (!(await authorize(env, request, source, "read"))) access.refusal = carry(privateStream());
  } catch (error) {
    // The write check passed with this token, so what is left is a token for another stream.
    if (!(error instanceof Refusal)) throw error;
    access.refusal = carry(error);
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

/**
 * Appends under way in this isolate, per stream. One that has company when it reaches the
 * stream's object is gathered with the others into one commit (group-commit.ts); a lone
 * writer's is written at once. In memory only, and a hint: what counts is the object's order.
 */
const appendsUnderWay = new Map<string, number>();

async function appendToStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const headers = request.headers;
  const id = headers.get(Header.ProducerId);
  const epoch = headers.get(Header.ProducerEpoch);
  const seq = headers.get(Header.ProducerSeq);
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
  const close = headers.get(Header.Closed)?.toLowerCase() === "true";

  appendsUnderWay.set(name, (appendsUnderWay.get(name) ?? 0) + 1);
  try {
    await authorize(env, request, name, "write");
    const body = await readBody(request);
    if (body.byteLength === 0 && !close) throw badRequest("An append needs a body.", "empty_body");
    const contentType = headers.get(Header.ContentType);
    if (body.byteLength > 0 && !contentType) throw badRequest("An append needs a Content-Type.", "missing_content_type");
    const streamSeq = headers.get(Header.Seq);
    const result = await stub.append({
      body,
      ...(contentType !== null && { contentType }),
      ...(streamSeq !== null && { seq: streamSeq }),
      close,
      ...(all && { producer: { id, epoch: Number(epoch), seq: Number(seq) } }),
      company: appendsUnderWay.get(name)! > 1,
    });
    return appended(result);
  } finally {
    const left = appendsUnderWay.get(name)! - 1;
    if (left === 0) appendsUnderWay.delete(name);
    else appendsUnderWay.set(name, left);
  }
}

/** 200 for an idempotent producer's stored append, 204 for the rest (plain, duplicate, close). */
function appended(answer: Appended | Carried): Response {
  const result = unwrapStream(answer);
  const headers: Record<string, string> = {};
  if (result.tail !== undefined) headers[Header.NextOffset] = result.tail;
  if (result.producer) {
    headers[Header.ProducerEpoch] = String(result.producer.epoch);
    headers[Header.ProducerSeq] = String(result.producer.seq);
  }
  if (result.closed) headers[Header.Closed] = "true";
  return new Response(null, { status: result.producerStored ? 200 : 204, headers });
}

async function deleteStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  await authorize(env, request, name, "write");
  unwrapStream(await stub.remove());
  return new Response(null, { status: 204 });
}

async function headStream({ request, env, url, name, stub }: StreamRequest): Promise<Response> {
  const authorized = await authorize(env, request, name, "read");
  const result = unwrapStream(await stub.head(authorized));
  const headers = infoHeaders(result);
  headers["Cache-Control"] = "no-store";
  headers.ETag = etag(name, "-1", result.tail, result.closed);
  return new Response(null, { status: 200, headers });
}

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
  // Only public streams' answers are in the cache, and this reader's token was checked above.
  const cached = offset !== undefined && CONCRETE_OFFSET.test(offset) ? await fromCache(request) : undefined;
  if (cached) return cached;
  const response = live === "long-poll" ? await serveLongPoll(request, offset!, authorized) : await serveCatchUp(request, offset ?? "-1", authorized);
  keep(request, response);
  return response;
}

