import { badRequest } from "../http/refusal.ts";
import { MAX_STREAM_SEGMENTS, NAME_RULE, RESERVED_SEGMENT, isStreamPath } from "../../contract/names.ts";

export const STREAM_PREFIX = "/v1/stream/";

/** Checks a stream path as it came in a URL (percent-encoded or not); see `contract/names.ts`. */
export function parseStreamPath(raw: string | undefined, what = "stream"): string {
  let path = raw ?? "";
  try {
    path = decodeURIComponent(path);
  } catch {
    // Left as it came; the check below refuses it.
  }
  if (!isStreamPath(path)) {
    throw badRequest(
      `The ${what} path must be 1–${MAX_STREAM_SEGMENTS} names joined by "/", each ${NAME_RULE}, and not starting with ${RESERVED_SEGMENT}.`,
      "invalid_name",
    );
  }
  return path;
}
