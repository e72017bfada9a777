/**
 * Caching reads of public streams (protocol §10). A range that ends before the tail never
 * changes, so it goes out `public, immutable` and the Worker keeps it in the Cache API: many
 * readers of the same range cost the object one read (per data centre on Cloudflare, per
 * process on `npm run serve`). A long-poll's 200 is kept briefly under its offset and
 * `Stream-Cursor`, so readers that follow the cursor collapse onto one answer. A read that
 * reaches the tail is never kept (a writer must read its own append), and a private stream's
 * read never lands in a shared cache: each reader's token is checked before the cache is asked,
 * and only public streams' answers are stored.
 */
import type { Env } from "../env.ts";
import { positiveNumber } from "../settings.ts";
import { CURSOR_INTERVAL_S } from "./cursors.ts";
import { CONCRETE_OFFSET, offsetParts } from "./offsets.ts";
import type { StreamRequest } from "./reads.ts";
import type { ReadResult } from "./stream-log.ts";
import type { StreamInfo } from "./stream-state.ts";

const CACHE_SECONDS = positiveNumber("STREAMS_CACHE_SECONDS", 60, "s");

/**
 * How long caches may keep a public answer: the setting, cut to what is left of the stream's
 * life (a TTL stream lives at least its TTL after this read). Only a reader still holding an
 * offset of a deleted stream may be answered from caches with its old data for this long.
 */
function freshFor(env: Env, info: StreamInfo, cap = Number.POSITIVE_INFINITY): number {
  let seconds = Math.min(CACHE_SECONDS.read(env), cap);
  if (info.ttlSeconds !== undefined) seconds = Math.min(seconds, info.ttlSeconds);
  if (info.expiresAt !== undefined) seconds = Math.min(seconds, Math.floor((Date.parse(info.expiresAt) - Date.now()) / 1000));
  return Math.max(0, Math.floor(seconds));
}

/**
 * Whether `offset` names a place in this incarnation of the stream: offsets carry their
 * incarnation's read seq (offsets.ts), which the tail shares. `-1` and `now` name no
 * incarnation, and neither does an offset of an earlier stream of the same name (nor, on a
 * fork, one of the range it inherits), so their answers are never kept: a re-created stream
 * would be answered with the old one's data.
 */
function ofThisIncarnation(offset: string, info: StreamInfo): boolean {
  return CONCRETE_OFFSET.test(offset) && offsetParts(offset).seq === offsetParts(info.tail).seq;
}

/** A catch-up read: immutable when it ends before the tail; at the tail, revalidated every time. */
export function catchUpCacheControl(env: Env, result: ReadResult, offset: string): string {
  if (!result.info.public) return "private, no-cache";
  const seconds = freshFor(env, result.info);
  if (result.upToDate || seconds === 0 || !ofThisIncarnation(offset, result.info)) return "no-cache";
  return `public, max-age=${seconds}, immutable`;
}

/** A long-poll's 200: briefly, keyed by its cursor; never for `-1` or `now`, which name no incarnation. */
export function longPollCacheControl(env: Env, result: ReadResult, offset: string): string {
  if (!result.info.public) return "private, no-cache";
  const seconds = freshFor(env, result.info, CURSOR_INTERVAL_S);
  if (!ofThisIncarnation(offset, result.info) || seconds === 0) return "no-cache";
  return `public, max-age=${seconds}`;
}

/** The cache key: the stream's URL with only the parameters that choose the answer, in order. */
function cacheKey(url: URL): string {
  const key = new URL(url.pathname, url.origin);
  for (const name of ["cursor", "live", "offset"]) {
    const value = url.searchParams.get(name);
    if (value !== null) key.searchParams.set(name, value);
  }
  return key.toString();
}

/** What the cache holds for this read, answered as a 304 when the reader already has it. */
export async function fromCache({ request, url }: StreamRequest): Promise<Response | undefined> {
  const cached = await caches.default.match(cacheKey(url));
  if (!cached) return undefined;
  const tag = cached.headers.get("ETag");
  if (tag !== null && request.headers.get("If-None-Match") === tag) {
    await cached.body?.cancel();
    return new Response(null, { status: 304, headers: { ETag: tag } });
  }
  return new Response(cached.body, cached);
}

/** Keeps a public answer for the next readers of the same range (in the background). */
export function keep({ url, ctx }: StreamRequest, response: Response): void {
  if (response.status !== 200 || !response.headers.get("Cache-Control")?.startsWith("public")) return;
  ctx.waitUntil(caches.default.put(cacheKey(url), response.clone()).catch(() => undefined));
}
