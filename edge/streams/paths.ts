import { badRequest } from "../http/errors.ts";
import { NAME_PATTERN } from "../http/validate.ts";

/**
 * Stream paths. The Durable Streams protocol names a stream by the rest of its URL, and
 * subscriptions match streams by path segments (`events/*`), so a stream is named by 1–8
 * segments joined by `/`, each a name as everywhere else in the API (1–64 of
 * `A-Z a-z 0-9 . _ -`). A plain name is the one-segment case. `__ds` as the first segment
 * is reserved for the protocol's control routes (`/v1/stream/__ds/...`).
 */
export const MAX_SEGMENTS = 8;
export const RESERVED_SEGMENT = "__ds";
export const STREAM_PREFIX = "/v1/stream/";

export function isStreamPath(path: string): boolean {
  const segments = path.split("/");
  return segments.length <= MAX_SEGMENTS && segments[0] !== RESERVED_SEGMENT && segments.every((segment) => NAME_PATTERN.test(segment));
}

/** Checks a stream path as it came in a URL (percent-encoded or not). */
export function parseStreamPath(raw: string | undefined, what = "stream"): string {
  let path = raw ?? "";
  try {
    path = decodeURIComponent(path);
  } catch {
    // Left as it came; the check below refuses it.
  }
  if (!isStreamPath(path)) {
    throw badRequest(
      `The ${what} path must be 1–${MAX_SEGMENTS} names joined by "/", each 1–64 characters of A-Z a-z 0-9 . _ - (and not starting with ${RESERVED_SEGMENT}).`,
      "invalid_name",
    );
  }
  return path;
}
