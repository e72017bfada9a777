/**
 * The chat socket, `GET /api/rooms/{room}/ws` (docs/protocol.md, "Chat"): the message as every
 * client sees it and every frame in both directions. The limits are in `chat-limits.ts`.
 */
import type { ErrorFrame } from "./socket.ts";

/** A stored chat message as every client sees it. */
export interface ChatMessage {
  /** Positive, increasing in the order the room accepted messages. */
  id: number;
  /** The sender's own id for it: a resend with the same id is stored once. */
  clientId: string;
  name: string;
  text: string;
  /** Server time, milliseconds since the epoch. */
  at: number;
  /** True when the name comes from a token the host site signed. */
  verified: boolean;
}

/** Someone in the room: one entry per name (and verification). */
export interface Person {
  name: string;
  verified: boolean;
}

/** Every frame a member may send. */
export type ChatClientFrame =
  /** A message; `id` is the client's id for it, `[A-Za-z0-9_-]{1,64}`. */
  | { type: "send"; id: string; text: string }
  | { type: "typing" }
  /** A page of older messages; `id` comes back as `ref` in the answer or the refusal. */
  | { type: "history"; before?: number; limit?: number; id?: string }
  /** The first frame of a socket opened with `identify=1`: a token the host site signed. */
  | { type: "identify"; token: string };

/** Every frame the room sends: on join `history`, `roster`, `ready`; then any of the rest. */
export type ChatServerFrame =
  /** A first join gets the latest messages; a resume exactly the ones after `after`. Oldest first. */
  | ({ type: "history"; messages: ChatMessage[]; deleted: number[] } & ({ resumed: true } | { resumed: false; hasMore: boolean }))
  /**
   * Who is here when joining, and again whenever the room crosses its people-list size: `count`
   * people, and `people` (sorted) only while there are at most `CHAT_PEOPLE_LIST_MAX` of them.
   */
  | { type: "roster"; count: number; people?: Person[] }
  /**
   * The net arrivals and departures of the last presence interval, in one frame. `joined` and
   * `left` only while the room sends its people list; `count` always.
   */
  | { type: "presence"; count: number; joined?: Person[]; left?: Person[] }
  | { type: "ready"; you: Person; limits: { maxNameChars: number; maxTextChars: number; maxPage: number } }
  /** To the sender only, once its message is stored (also for a resend); `deleted` when a moderator removed it. */
  | { type: "ack"; ref: string; message: ChatMessage; deleted?: true }
  | { type: "message"; message: ChatMessage }
  /** Several messages stored in the same instant, in id order: as that many `message` frames. */
  | { type: "messages"; messages: ChatMessage[] }
  /** The answer to a `history` request; `ref` is its `id`. */
  | { type: "page"; before: number | null; messages: ChatMessage[]; hasMore: boolean; ref?: string }
  /** A moderator removed a message. */
  | { type: "deleted"; id: number }
  /** Someone is typing; rooms above `CHAT_TYPING_MAX_PEOPLE` people send none. */
  | { type: "typing"; name: string }
  /** Slow mode: `retryAfter` whole seconds (and `retryAfterMs`) until this member may send again. */
  | (ErrorFrame & { code: "slow_mode"; retryAfter: number })
  | ErrorFrame;

/** Body and answer of the blocked-words routes (`/api/rooms/{room}/blocked-words`, `/api/chat/blocked-words`). */
export interface BlockedWords {
  words: string[];
}

/** Body and answer of `/api/rooms/{room}/slow-mode`: 0 is off. */
export interface SlowMode {
  seconds: number;
}
