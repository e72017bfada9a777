/**
 * The chat limits both ends enforce: the room refuses past them, and `<edge-chat>` says so
 * before sending.
 */

/** Display names: 1–32 characters (code points), no control characters, no edge spaces. */
export const MAX_NAME_CHARS = 32;
/** Message text: 1–2,000 characters (code points). */
export const MAX_TEXT_CHARS = 2000;
/** Client message ids: opaque, chosen by the client (a UUID), unique per message. */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** A page of history (`history` frame, `GET .../messages`) holds at most this many messages. */
export const MAX_PAGE = 200;

/** Length in characters (code points), as both ends count it. */
export const chars = (text: string) => [...text].length;

/** A blocked-words list (one room's, or every room's) holds at most this many entries… */
export const MAX_BLOCKED_WORDS = 1000;
/** …each 1–64 characters (code points): a word or a short phrase. */
export const MAX_BLOCKED_WORD_CHARS = 64;
/** Slow mode: at most one message per member per this many seconds, at the longest (6 h). */
export const MAX_SLOW_MODE_SECONDS = 6 * 3600;
