import { DEFAULT_TOKEN_SECONDS, signPlaybackToken, type SigningKey } from "./sign-playback-token.ts";

/**
 * An RS256 signature costs about a millisecond of CPU, and a listing signs one token per video,
 * which alone would use up a small CPU budget per request. Tokens are not per viewer, so each
 * isolate reuses a video's token for up to REUSE_SECONDS: every token handed out is still
 * valid for at least DEFAULT_TOKEN_SECONDS - REUSE_SECONDS (50 minutes).
 */
const REUSE_SECONDS = 10 * 60;
const MAX_ENTRIES = 2000;
const cache = new Map<string, { token: string; exp: number }>();

export interface CachedToken {
  token: string;
  /** Seconds since the epoch. */
  exp: number;
}

export async function playbackToken(key: SigningKey, uid: string, options: { downloadable?: boolean; now?: number } = {}): Promise<CachedToken> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const id = `${key.kid}:${uid}:${options.downloadable === true}`;
  const cached = cache.get(id);
  if (cached && cached.exp - now >= DEFAULT_TOKEN_SECONDS - REUSE_SECONDS) return cached;
  const fresh = { token: await signPlaybackToken(key, uid, { now, downloadable: options.downloadable }), exp: now + DEFAULT_TOKEN_SECONDS };
  cache.delete(id);
  if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(id, fresh);
  return fresh;
}
