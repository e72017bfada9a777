/**
 * Names in URLs, as the Worker checks them and the widgets and scripts check them before
 * asking. Counters, rooms, subscriptions and each segment of a stream path are 1–64 of
 * `A-Z a-z 0-9 . _ -`, and not dots alone: `.` and `..` mean "here" and "up" to anything that
 * reads a name as a path or a storage key, so no such name is ever made.
 *
 * A stream is named by a path: 1–8 such names joined by `/` (`news`, `events/eu/42`), since
 * the Durable Streams protocol addresses a stream by the rest of its URL and subscriptions
 * match streams segment by segment. `__ds` as the first segment is reserved for the
 * protocol's control routes (`/v1/stream/__ds/...`).
 */
export const NAME_PATTERN = /^(?!\.+$)[A-Za-z0-9._-]{1,64}$/;

/** How the rule reads in error messages. */
export const NAME_RULE = "1–64 characters of A-Z a-z 0-9 . _ - (not dots alone)";

export const MAX_STREAM_SEGMENTS = 8;
export const RESERVED_SEGMENT = "__ds";

export function isStreamPath(path: string): boolean {
  const segments = path.split("/");
  return segments.length <= MAX_STREAM_SEGMENTS && segments[0] !== RESERVED_SEGMENT && segments.every((segment) => NAME_PATTERN.test(segment));
}
