/**
 * The copy of `<edge-chat>`'s unconfirmed messages that outlives the page.
 *
 * It lives in localStorage, not sessionStorage: sessionStorage ends with the tab, and a message
 * typed offline must still go out when the visitor comes back later in a new tab. The price is
 * that every tab of the site shares the list, so writes merge into what is stored (by client
 * id) rather than replace it, and one tab never wipes another's messages. A message resent
 * from two tabs is still stored once: the room drops a client id it already has.
 */

import { CLIENT_ID_PATTERN, MAX_TEXT_CHARS, chars } from "../../contract/chat-limits.ts";

/** A message as it is kept until the room confirms it. */
export interface StoredMessage {
  /** The id the room deduplicates by. */
  clientId: string;
  text: string;
  /** When the visitor sent it (this browser's clock): the order the messages come back in. */
  at: number;
  state: "pending" | "waiting" | "refused";
  /** Why the room refused it, for a refused one. */
  reason?: string;
}

/** At most this many messages are kept per room… */
export const MAX_STORED = 50;
/** …in at most this many characters of JSON: a small share of the quota the host site lives on. */
export const MAX_STORED_CHARS = 64 * 1024;

const STATES: ReadonlySet<unknown> = new Set(["pending", "waiting", "refused"]);

/**
 * One room's stored outbox, under `key`. Storage that is blocked, full or holds something else
 * never throws out of here: reads skip what is malformed, and a failed write leaves the page
 * holding its messages in memory, as it did before anything was stored.
 */
export class StoredOutbox {
  constructor(readonly key: string) {}

  /** The stored messages, oldest first, without any malformed or repeated entry. */
  load(): StoredMessage[] {
    return [...read(this.key).values()].sort(byTime);
  }

  /**
   * Records `items` (the page's unconfirmed messages, as they are now) and forgets `gone` (the
   * ones the room confirmed or the visitor discarded); entries of other tabs stay. Past the
   * bounds, the newest messages are the ones left out: they still go out from this page, but
   * a reload loses them, while what comes back is always the oldest, in order, with no gap.
   */
  save(items: readonly StoredMessage[], gone: Iterable<string> = []): void {
    const merged = read(this.key);
    for (const clientId of gone) merged.delete(clientId);
    for (const { clientId, text, at, state, reason } of items) merged.set(clientId, reason === undefined ? { clientId, text, at, state } : { clientId, text, at, state, reason });
    const kept: StoredMessage[] = [];
    let size = 2;
    for (const entry of [...merged.values()].sort(byTime)) {
      size += JSON.stringify(entry).length + 1;
      if (kept.length === MAX_STORED || size > MAX_STORED_CHARS) break;
      kept.push(entry);
    }
    try {
      if (kept.length === 0) localStorage.removeItem(this.key);
      else localStorage.setItem(this.key, JSON.stringify(kept));
    } catch {
      // Blocked or full: the stored copy stays as it was; the page still holds every message.
    }
  }
}

const byTime = (a: StoredMessage, b: StoredMessage) => a.at - b.at;

function read(key: string): Map<string, StoredMessage> {
  const entries = new Map<string, StoredMessage>();
  try {
    const list: unknown = JSON.parse(localStorage.getItem(key) ?? "[]");
    if (!Array.isArray(list)) return entries;
    for (const entry of list) if (isStored(entry) && !entries.has(entry.clientId)) entries.set(entry.clientId, entry);
  } catch {
    // Unreadable (blocked, or not JSON): as if nothing were stored; the next write replaces it.
  }
  return entries;
}

/** Only what the room could accept goes back out: anything else in storage is ignored. */
function isStored(value: unknown): value is StoredMessage {
  if (typeof value !== "object" || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.clientId === "string" &&
    CLIENT_ID_PATTERN.test(entry.clientId) &&
    typeof entry.text === "string" &&
    entry.text.trim().length > 0 &&
    chars(entry.text) <= MAX_TEXT_CHARS &&
    typeof entry.at === "number" &&
    Number.isFinite(entry.at) &&
    STATES.has(entry.state) &&
    (entry.reason === undefined || typeof entry.reason === "string")
  );
}
