/**
 * Forks (protocol §forks): a fork reads its source's messages up to the fork offset, then its
 * own. The source pins that data while any fork remains (its `refCount`): deleting or expiring
 * it then only hides it, and the last fork to go finishes the delete.
 */
import type { Env } from "../env.ts";
import { fragmentValues, isJsonType, mediaType, valuesFragment } from "./json-mode.ts";
import type { Collected, LogStorage } from "./log-storage.ts";
import { ZERO_OFFSET } from "./offsets.ts";
import { revive, type Carried } from "../http/refusal.ts";
import { refuse } from "./refusals.ts";
import type { StoredMessage } from "./segments.ts";
import type { Meta } from "./stream-state.ts";

/** A fork's caller and its source: the source decides, since only it knows whether it is public. */
export interface SourceAccess {
  /** What a read of the source would answer this caller if the source is private; absent when their token reads it. */
  refusal?: Carried;
  /** The fork is to be public (never set with stream auth off, where every stream is). */
  public: boolean;
}

export interface ForkRequest {
  forkOffset?: string;
  forkSubOffset?: number;
  contentType?: string;
  access?: SourceAccess;
}

/** What a source grants a new fork. */
export interface ForkGrant {
  contentType: string;
  forkOffset: string;
  ttlSeconds?: number;
  expiresAt?: string;
  /** The first values (or bytes) of the message at the fork offset, when the fork splits it. */
  prefix?: Uint8Array;
}

/** What the fork starts with, if `source` may be forked as asked; throws the refusal if not. */
export async function grantFork(
  source: Meta,
  request: ForkRequest,
  messageAt: (offset: string) => Promise<StoredMessage | undefined>,
): Promise<ForkGrant> {
  if (source.softDeleted) throw refuse("source_deleted", "The source stream was deleted but still has active forks.");
  if (!source.public && request.access?.refusal) throw revive(request.access.refusal);
  if (!source.public && request.access?.public) {
    throw refuse("fork_not_public", "A fork of a private stream is private: create it without ?public=true.");
  }
  if (request.contentType !== undefined && mediaType(request.contentType) !== mediaType(source.contentType)) {
    throw refuse("content_type_mismatch", "The fork's content type differs from its source's.");
  }
  const forkOffset = request.forkOffset ?? source.tail;
  if (forkOffset < ZERO_OFFSET || source.tail < forkOffset) {
    throw refuse("invalid_fork_offset", "The fork offset is beyond the source stream's length.");
  }
  const grant: ForkGrant = { contentType: source.contentType, forkOffset };
  if (source.ttlSeconds !== undefined) grant.ttlSeconds = source.ttlSeconds;
  if (source.expiresAt !== undefined) grant.expiresAt = source.expiresAt;
  const split = request.forkSubOffset;
  if (split && split > 0) {
    const first = await messageAt(forkOffset);
    if (!first) throw refuse("invalid_fork_sub_offset", "There is no message at the fork offset to split.");
    if (isJsonType(source.contentType)) {
      const values = fragmentValues(first.data);
      if (split > values.length) throw refuse("invalid_fork_sub_offset", "The sub-offset passes the message's values.");
      grant.prefix = valuesFragment(values.slice(0, split));
    } else {
      if (split > first.data.byteLength) throw refuse("invalid_fork_sub_offset", "The sub-offset passes the message's bytes.");
      grant.prefix = first.data.slice(0, split);
    }
  }
  return grant;
}

/** A fork's lifetime is its own if given, else the source's (never capped by it). */
export function forkLifetime(
  own: { ttlSeconds?: number; expiresAt?: string },
  grant: ForkGrant | undefined,
): { ttlSeconds?: number; expiresAt?: string } {
  const ttl = own.ttlSeconds ?? (own.expiresAt === undefined ? grant?.ttlSeconds : undefined);
  const expires = own.expiresAt ?? (own.ttlSeconds === undefined && grant?.ttlSeconds === undefined ? grant?.expiresAt : undefined);
  return { ...(ttl !== undefined && { ttlSeconds: ttl }), ...(expires !== undefined && { expiresAt: expires }) };
}

/** Reads a fork's inherited range first (from its source chain), then the stream's own log. */
export async function readThroughSource(
  env: Env,
  meta: Meta,
  log: LogStorage,
  after: string,
  cap: string | undefined,
  maxBytes: number,
): Promise<Collected> {
  const messages: StoredMessage[] = [];
  let from = after;
  if (meta.forkedFrom !== undefined && meta.forkOffset !== undefined && from < meta.forkOffset) {
    const limit = cap !== undefined && cap < meta.forkOffset ? cap : meta.forkOffset;
    const inherited = await env.STREAMS.getByName(meta.forkedFrom).readRange(from, limit, maxBytes);
    messages.push(...inherited.messages);
    if (!inherited.complete || limit !== meta.forkOffset) return { messages, complete: inherited.complete };
    from = meta.forkOffset;
  }
  const used = messages.reduce((sum, m) => sum + m.data.byteLength, 0);
  const own = await log.read(from, cap, Math.max(1, maxBytes - used));
  messages.push(...own.messages);
  return { messages, complete: own.complete };
}
