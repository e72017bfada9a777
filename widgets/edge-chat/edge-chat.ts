import { html, nothing, type CSSResultGroup, type PropertyValues } from "lit";
import { property, query, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import type { ChatClientFrame, ChatMessage, ChatServerFrame, Person } from "../../contract/chat.ts";
import { MAX_NAME_CHARS, MAX_TEXT_CHARS, chars } from "../../contract/chat-limits.ts";
import type { ErrorFrame } from "../../contract/socket.ts";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { NAME_PATTERN, apiUrl, socketUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { theme } from "../internal/theme.ts";
import { unhandledFrame, type ReconnectingSocket } from "../internal/reconnecting-socket.ts";
import { styles } from "./edge-chat.styles.ts";
import { StoredOutbox, type StoredMessage } from "./outbox-store.ts";

export type { ChatMessage, Person as ChatPerson } from "../../contract/chat.ts";

/** Every piece of text the widget shows; set `strings` to translate any of them. */
export interface ChatStrings {
  nameLegend: string;
  nameLabel: string;
  join: string;
  changeName: string;
  messageLabel: string;
  placeholder: string;
  send: string;
  loadOlder: string;
  loading: string;
  olderLater: (seconds: number) => string;
  beginning: string;
  empty: string;
  people: (count: number) => string;
  you: string;
  verified: string;
  newMessages: (count: number) => string;
  typing: (names: string[]) => string;
  pending: string;
  sent: string;
  waiting: (seconds: number) => string;
  refused: (reason: string) => string;
  stale: string;
  retry: string;
  discard: string;
  queued: (count: number) => string;
  reconnecting: string;
  unavailable: (reason: string) => string;
  busy: (reason: string) => string;
  tooLong: (max: number) => string;
  badName: (max: number) => string;
  badRoom: string;
  badEndpoint: (reason: string) => string;
}

export const DEFAULT_STRINGS: ChatStrings = {
  nameLegend: "Join the chat",
  nameLabel: "Your name",
  join: "Join",
  changeName: "Change name",
  messageLabel: "Message",
  placeholder: "Write a message… (Enter sends, Shift+Enter for a new line)",
  send: "Send",
  loadOlder: "Load older messages",
  loading: "Loading…",
  olderLater: (seconds) => `Too many older pages at once: try again in ${seconds} s.`,
  beginning: "This is the beginning of the room.",
  empty: "No messages yet. Say hello!",
  people: (count) => (count === 1 ? "1 person here" : `${count} people here`),
  you: "you",
  verified: "verified",
  newMessages: (count) => (count === 1 ? "1 new message" : `${count} new messages`),
  typing: (names) =>
    names.length === 1
      ? `${names[0]} is typing…`
      : names.length <= 3
        ? `${names.slice(0, -1).join(", ")} and ${names.at(-1)} are typing…`
        : "Several people are typing…",
  pending: "Sending…",
  sent: "Sent",
  waiting: (seconds) => `Sending too fast: retrying in ${seconds} s`,
  refused: (reason) => `Not sent: ${reason}`,
  stale: "written over a week ago",
  retry: "Retry",
  discard: "Discard",
  queued: (count) => (count === 1 ? "Offline: 1 message will be sent when the connection is back." : `Offline: ${count} messages will be sent when the connection is back.`),
  reconnecting: "Reconnecting…",
  unavailable: (reason) => `Chat unavailable: ${reason}`,
  busy: (reason) => `Chat busy: ${reason}`,
  tooLong: (max) => `Messages are at most ${max} characters.`,
  badName: (max) => `Names are 1–${max} characters.`,
  badRoom: "This chat needs a room name of 1–64 letters, digits, dots, dashes or underscores, not dots alone.",
  badEndpoint: (reason) => `Bad endpoint: ${reason}`,
};

declare global {
  interface HTMLElementTagNameMap {
    "edge-chat": EdgeChat;
  }
  interface GlobalEventHandlersEventMap {
    /** A message arrived or was confirmed (`own` for the user's own, once stored). */
    "edge-message": CustomEvent<{ room: string; message: ChatMessage; own: boolean }>;
    /** The room refused a message; `retryAfterMs` is set for a rate limit (it is retried then). */
    "edge-refused": CustomEvent<{ code: string; message: string; retryAfterMs?: number }>;
  }
}

/** A message of the user's that the room has not confirmed yet (kept in storage too). */
interface Outgoing extends StoredMessage {
  retryAt?: number;
}

const NAME_KEY = "edge-chat:name";
const TYPING_SEND_EVERY_MS = 2000;
const TYPING_SHOWN_MS = 3500;
const PAGE = 50;
/**
 * A stored message older than this comes back refused (with Retry and Discard) instead of
 * going out by itself: the conversation has moved on, and the visitor should decide.
 */
const MAX_UNSENT_AGE_MS = 7 * 24 * 3600 * 1000;
/** Messages kept on screen while the view follows the newest ones. */
const MAX_SHOWN = 1000;
/** Within this many pixels of the bottom the view counts as pinned there. */
const PIN_SLACK = 24;
const LINK = /\bhttps?:\/\/[^\s<>"']+/g;

const newId = () => crypto.randomUUID().replaceAll("-", "");

/** The `sub` of a JWT, read without checking it (the room checks it): whose messages these are. */
function tokenSubject(token: string): string {
  try {
    const payload = JSON.parse(atob((token.split(".")[1] ?? "").replaceAll("-", "+").replaceAll("_", "/"))) as { sub?: unknown };
    return typeof payload.sub === "string" ? payload.sub : "";
  } catch {
    return "";
  }
}

function storedName(): string {
  try {
    return localStorage.getItem(NAME_KEY) ?? "";
  } catch {
    return "";
  }
}

/**
 * A chat room: history, live messages, who is here and who is typing. Messages sent while
 * offline wait and are delivered exactly once when the connection is back, even after a
 * reload (they are kept in localStorage until the room confirms them); a reconnect picks up
 * exactly the messages missed.
 *
 * @tag edge-chat
 * @attr room - The room (1–64 of `A-Z a-z 0-9 . _ -`, not dots alone).
 * @attr name - The user's display name; asked for (and remembered on this site) when absent.
 * @attr user-token - A short-lived HS256 token signed by the host site: a verified name.
 * @attr endpoint - The backend origin (default: the script's origin).
 * @attr strings - JSON object overriding UI text, e.g. `{"send":"Senden"}` (also a property).
 * @csspart messages - The message list (a polite log region).
 * @csspart message - One message (also `own`, `pending`, `refused` parts on the same element).
 * @csspart name - A sender's name in a message.
 * @csspart input - The message text area.
 * @csspart send - The send button.
 * @csspart roster - The list of people in the room.
 * @csspart typing - Who is typing.
 * @csspart new-messages - The "new messages" pill shown when scrolled up.
 * @csspart status - Connection problems and refusals.
 * @csspart name-form - The form asking for a display name.
 * @cssprop --edge-chat-height - Height of the whole widget (default 28rem).
 * @cssprop --edge-chat-own-background - Background of the user's own messages.
 * @cssprop --edge-chat-message-background - Background of other messages.
 * @fires edge-message - A message arrived (or one's own was stored).
 * @fires edge-refused - A message was refused.
 * @fires edge-connection - The connection state changed.
 */
export class EdgeChat extends EdgeElement {
  static override styles: CSSResultGroup = [theme, styles];

  /** The room: 1–64 of `A-Z a-z 0-9 . _ -`, not dots alone. */
  @property({ reflect: true }) room = "";
  /** The display name (1–32 characters); when absent the widget asks and remembers it. */
  @property({ reflect: true }) name: string | null = null;
  /** A verified identity: an HS256 token signed by the host site (see the README). */
  @property({ attribute: "user-token" }) userToken: string | null = null;
  /**
   * Overrides of the UI text, e.g. `{ send: "Senden" }`. As an attribute, a JSON object of the
   * plain-text entries; the counted ones (`people`, `newMessages`…) are functions, set them as a property.
   */
  @property({ converter: { fromAttribute: parseStrings } }) strings: Partial<ChatStrings> = {};

  @state() private messages: ChatMessage[] = [];
  @state() private outbox: Outgoing[] = [];
  /** Who is here, while the room sends names (it stops above its list size; then only `count`). */
  @state() private people: Person[] | undefined = [];
  @state() private count = 0;
  @state() private typing = new Map<string, number>();
  @state() private me: Person | undefined;
  @state() private hasMore = false;
  @state() private loadingOlder = false;
  /** The id of the history request under way: a refusal names it, and the button comes back. */
  private olderRef: string | undefined;
  @state() private pinned = true;
  @state() private unseen = 0;
  @state() private problem = "";
  @state() private askName = false;
  @state() private nameError = "";

  @query("[part~=messages]") private list!: HTMLElement | null;
  @query("textarea") private textarea!: HTMLTextAreaElement | null;

  private socket: ReconnectingSocket<ChatServerFrame, ChatClientFrame> | undefined;
  /** Where the outbox is kept across reloads: one per endpoint, room and author. */
  private store: StoredOutbox | undefined;
  /** One per element: a reconnect of the same session keeps its name in the room. */
  private readonly session = newId();
  private lastId: number | undefined;
  /** Client ids of the messages sent from this element, to mark them as the user's own. */
  private readonly ownIds = new Set<string>();
  private lastTypingSent = 0;
  private typingTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Set while older messages are prepended: the scroll height to keep the view still against. */
  private anchorHeight: number | undefined;
  private readonly time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });

  private get text(): ChatStrings {
    return { ...DEFAULT_STRINGS, ...this.strings };
  }

  /**
   * Whose unsent messages these are: a verified user's, a name the host page gave, or the
   * visitor's own (whatever they rename to). On a shared browser a message kept from an
   * earlier visit never goes out under someone else's name.
   */
  private get author(): string {
    if (this.userToken) return `user:${tokenSubject(this.userToken)}`;
    const given = (this.name ?? "").trim();
    return given ? `name:${given}` : "visitor";
  }

  /** The name the user joins with: the attribute, else the one remembered on this site. */
  private get wantedName(): string {
    return (this.name ?? "").trim() || storedName();
  }

  protected static override readonly restartOn = ["room", "userToken", "name"];

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Another room starts from nothing; another name or token keeps what is shown.
    if (!this.hasUpdated || changed.has("room")) this.reset();
    super.willUpdate(changed);
  }

  /** Sends a message, as Enter in the text area does. Returns false when it was not accepted. */
  sendMessage(text: string): boolean {
    if (!text.trim()) return false;
    if (chars(text) > MAX_TEXT_CHARS) {
      this.problem = this.text.tooLong(MAX_TEXT_CHARS);
      return false;
    }
    const item: Outgoing = { clientId: newId(), text, at: Date.now(), state: "pending" };
    this.ownIds.add(item.clientId);
    // The message ends this bout of typing; the next keystroke starts a new one.
    this.lastTypingSent = 0;
    this.setOutbox([...this.outbox, item]);
    this.problem = "";
    this.pinned = true;
    this.transmit(item);
    return true;
  }

  private reset(): void {
    this.messages = [];
    // Not through setOutbox: the stored copy stays, to go out when this room is open again.
    this.outbox = [];
    this.people = [];
    this.count = 0;
    this.typing = new Map();
    this.lastId = undefined;
    this.hasMore = false;
    this.unseen = 0;
    this.pinned = true;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
  }

  protected override start(): void {
    this.stop();
    this.problem = "";
    this.askName = false;
    if (!NAME_PATTERN.test(this.room)) {
      this.problem = this.text.badRoom;
      this.setConnection("closed");
      return;
    }
    if (!this.userToken && !this.wantedName) {
      this.askName = true;
      this.setConnection("closed");
      return;
    }
    let base: URL;
    let roomUrl: URL;
    try {
      base = socketUrl(this.endpointUrl, `/api/rooms/${this.room}/ws`);
      roomUrl = apiUrl(this.endpointUrl, `/api/rooms/${this.room}`);
    } catch (error) {
      this.problem = this.text.badEndpoint((error as Error).message);
      this.setConnection("closed");
      return;
    }
    this.useStore(`edge-chat:outbox:${roomUrl.href} ${this.author}`);
    this.socket = this.createSocket<ChatServerFrame, ChatClientFrame>({
      url: () => {
        const url = new URL(base);
        // The token goes in the first frame: URLs end up in request logs.
        if (this.userToken) url.searchParams.set("identify", "1");
        else url.searchParams.set("name", this.wantedName);
        url.searchParams.set("session", this.session);
        if (this.lastId !== undefined) url.searchParams.set("after", String(this.lastId));
        return url;
      },
      firstFrame: () => (this.userToken ? { type: "identify", token: this.userToken } : undefined),
      onFrame: (frame) => this.onFrame(frame),
      onState: (state, close) => {
        if (state === "closed" && close) this.problem = this.text.unavailable(close.reason || `closed (${close.code})`);
        if (state === "reconnecting" && close) this.problem = this.text.busy(close.reason || "try again later");
        this.requestUpdate();
      },
    });
    this.socket.start();
  }

  protected override stop(): void {
    this.socket?.stop();
    this.socket = undefined;
    clearTimeout(this.typingTimer);
  }

  /**
   * Switches to the stored outbox of `key` and shows what it holds as pending, in the order it
   * was written; the next "ready" sends it, as for any unconfirmed message. What the page
   * already holds stays, and is stored under `key` too: a new name or token in the same page
   * does not take back what was written.
   */
  private useStore(key: string): void {
    if (this.store?.key === key) return;
    this.store = new StoredOutbox(key);
    const held = new Set(this.outbox.map((item) => item.clientId));
    const now = Date.now();
    const restored = this.store
      .load()
      .filter((entry) => !held.has(entry.clientId))
      .map((entry): Outgoing => {
        this.ownIds.add(entry.clientId);
        if (entry.state === "refused") return entry;
        if (now - entry.at > MAX_UNSENT_AGE_MS) return { ...entry, state: "refused", reason: this.text.stale };
        // A rate limit's wait ended with the page: the next "ready" sends it again.
        return { ...entry, state: "pending" };
      });
    this.setOutbox([...this.outbox, ...restored].sort((a, b) => a.at - b.at));
  }

  /** Changes the outbox and its stored copy: an item that leaves it was confirmed or discarded. */
  private setOutbox(next: Outgoing[]): void {
    const kept = new Set(next.map((item) => item.clientId));
    const gone = this.outbox.filter((item) => !kept.has(item.clientId)).map((item) => item.clientId);
    this.outbox = next;
    this.store?.save(next, gone);
  }

  /** Confirms what the room shows it holds: an ack lost in a drop, or a send from another tab. */
  private settle(messages: ChatMessage[]): void {
    const stored = new Set(messages.map((message) => message.clientId));
    if (this.outbox.some((item) => stored.has(item.clientId))) this.setOutbox(this.outbox.filter((item) => !stored.has(item.clientId)));
  }

  /** Sends now when the room is ready; otherwise the item waits and goes out on the next "ready". */
  private transmit(item: Outgoing): void {
    if (this.socket?.state === "open") this.socket.send({ type: "send", id: item.clientId, text: item.text });
  }

  private onFrame(frame: ChatServerFrame): void {
    switch (frame.type) {
      case "history":
        this.onHistory(frame);
        break;
      case "roster":
        this.people = frame.people;
        this.count = frame.count;
        break;
      case "presence":
        this.onPresence(frame);
        break;
      case "ready":
        this.me = frame.you;
        this.problem = "";
        // Everything not yet confirmed goes (again): the room drops resends it already has.
        for (const item of this.outbox) if (item.state === "pending") this.transmit(item);
        break;
      case "message":
      case "messages": {
        const messages = frame.type === "message" ? [frame.message] : frame.messages;
        for (const message of messages) this.typing.delete(message.name);
        // Decide by where the view is now: the scroll event of a recent scroll may not have come yet.
        if (this.list) this.pinned = this.atBottom(this.list);
        this.add(messages);
        this.settle(messages);
        for (const message of messages) emit(this, "edge-message", { room: this.room, message, own: false });
        break;
      }
      case "ack": {
        const { message } = frame;
        const known = this.outbox.some((item) => item.clientId === message.clientId);
        this.setOutbox(this.outbox.filter((item) => item.clientId !== message.clientId));
        if (frame.deleted !== true) {
          this.add([message]);
          if (known) emit(this, "edge-message", { room: this.room, message, own: true });
        }
        break;
      }
      case "deleted":
        this.messages = this.messages.filter((message) => message.id !== frame.id);
        break;
      case "page": {
        const older = frame.messages;
        this.hasMore = frame.hasMore;
        this.loadingOlder = false;
        this.olderRef = undefined;
        this.anchorHeight = this.list?.scrollHeight;
        this.add(older, false);
        break;
      }
      case "typing":
        this.typing = new Map(this.typing).set(frame.name, Date.now() + TYPING_SHOWN_MS);
        this.expireTyping();
        break;
      case "error":
        this.onError(frame);
        break;
      default:
        unhandledFrame(frame);
    }
  }

  /** The net joins and leaves of an interval; applying one twice changes nothing. */
  private onPresence({ count, joined = [], left = [] }: Extract<ChatServerFrame, { type: "presence" }>): void {
    this.count = count;
    if (this.people === undefined) return;
    const same = (a: Person) => (b: Person) => a.name === b.name && a.verified === b.verified;
    const people = this.people.filter((p) => !left.some(same(p)));
    for (const person of joined) if (!people.some(same(person))) people.push(person);
    this.people = people.sort((a, b) => a.name.localeCompare(b.name));
    if (left.some((p) => this.typing.has(p.name))) this.typing = new Map([...this.typing].filter(([name]) => !left.some((p) => p.name === name)));
  }

  private onHistory(frame: Extract<ChatServerFrame, { type: "history" }>): void {
    const gone = new Set(frame.deleted);
    if (frame.resumed) {
      this.messages = this.messages.filter((message) => !gone.has(message.id));
    } else {
      this.messages = [];
      this.lastId = undefined;
      this.hasMore = frame.hasMore;
    }
    this.add(frame.messages, frame.resumed);
    // A message confirmed while the confirmation itself was lost is confirmed now.
    this.settle(this.messages);
  }

  /** Merges messages by id, in id order; new ones at the end count as unseen when scrolled up. */
  private add(incoming: ChatMessage[], live = true): void {
    if (incoming.length === 0) return;
    const byId = new Map(this.messages.map((message) => [message.id, message]));
    let fresh = 0;
    for (const message of incoming) {
      if (!byId.has(message.id)) fresh += 1;
      byId.set(message.id, message);
      if (this.lastId === undefined || message.id > this.lastId) this.lastId = message.id;
    }
    this.messages = [...byId.values()].sort((a, b) => a.id - b.id);
    if (live && !this.pinned) this.unseen += fresh;
    // A long session keeps a bounded list; what falls off the top can be loaded again.
    if (live && this.pinned && this.messages.length > MAX_SHOWN) {
      this.messages = this.messages.slice(-MAX_SHOWN);
      this.hasMore = true;
    }
  }

  private onError({ code, message, retryAfterMs, ref }: ErrorFrame): void {
    emit(this, "edge-refused", { code, message, retryAfterMs });
    if (ref !== undefined && ref === this.olderRef) {
      // Loading older messages was refused (too many pages at once): say so, and let it be asked again.
      this.loadingOlder = false;
      this.olderRef = undefined;
      this.problem = retryAfterMs === undefined ? message : this.text.olderLater(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      return;
    }
    const item = this.outbox.find((entry) => entry.clientId === ref);
    if (!item) {
      this.problem = message;
      return;
    }
    if (code === "blocked_word") {
      this.keepAsDraft(item, message);
      return;
    }
    // Slow mode says when this member may send again, as a rate limit does: it goes out then.
    if ((code === "rate_limited" || code === "slow_mode") && retryAfterMs !== undefined) {
      this.patch(item, { state: "waiting", retryAt: Date.now() + retryAfterMs });
      this.scheduleRetry(item.clientId, retryAfterMs);
    } else {
      this.patch(item, { state: "refused", reason: message });
    }
  }

  /**
   * A message the room refuses for its words goes back into the composer to be edited, unless
   * something new is being written there; then it stays in the list as refused, its text intact.
   */
  private keepAsDraft(item: Outgoing, reason: string): void {
    const area = this.textarea;
    if (!area || area.value.trim() !== "") {
      this.patch(item, { state: "refused", reason });
      return;
    }
    area.value = item.text;
    this.problem = reason;
    this.discard(item);
  }

  private patch(item: Outgoing, change: Partial<Outgoing>): void {
    this.setOutbox(this.outbox.map((entry) => (entry.clientId === item.clientId ? { ...entry, ...change } : entry)));
  }

  /** Counts the wait down once a second, then sends again. */
  private scheduleRetry(clientId: string, ms: number): void {
    clearTimeout(this.retryTimers.get(clientId));
    const tick = () => {
      const item = this.outbox.find((entry) => entry.clientId === clientId);
      if (!item || item.state !== "waiting") return;
      const left = (item.retryAt ?? 0) - Date.now();
      if (left > 0) {
        this.requestUpdate();
        this.retryTimers.set(clientId, setTimeout(tick, Math.min(1000, left)));
        return;
      }
      this.retryTimers.delete(clientId);
      this.patch(item, { state: "pending", retryAt: undefined });
      this.transmit(item);
    };
    this.retryTimers.set(clientId, setTimeout(tick, Math.min(1000, ms)));
  }

  private retry(item: Outgoing): void {
    this.patch(item, { state: "pending", reason: undefined });
    this.transmit(item);
  }

  private discard(item: Outgoing): void {
    this.setOutbox(this.outbox.filter((entry) => entry.clientId !== item.clientId));
  }

  private expireTyping(): void {
    clearTimeout(this.typingTimer);
    const now = Date.now();
    const live = new Map([...this.typing].filter(([, until]) => until > now));
    if (live.size !== this.typing.size) this.typing = live;
    if (live.size === 0) return;
    const next = Math.min(...live.values()) - now;
    this.typingTimer = setTimeout(() => this.expireTyping(), next);
  }

  private loadOlder(): void {
    const oldest = this.messages[0];
    if (!this.hasMore || this.loadingOlder || !oldest || this.socket?.state !== "open") return;
    this.loadingOlder = true;
    this.olderRef = newId();
    this.socket.send({ type: "history", before: oldest.id, limit: PAGE, id: this.olderRef });
  }

  private onScroll(): void {
    const list = this.list;
    if (!list) return;
    this.pinned = this.atBottom(list);
    if (this.pinned) this.unseen = 0;
    if (list.scrollTop < 48) this.loadOlder();
  }

  private atBottom(list: HTMLElement): boolean {
    return list.scrollTop + list.clientHeight >= list.scrollHeight - PIN_SLACK;
  }

  private scrollToBottom(): void {
    const list = this.list;
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    this.pinned = true;
    this.unseen = 0;
  }

  protected override updated(): void {
    const list = this.list;
    if (!list) return;
    if (this.anchorHeight !== undefined) {
      // Older messages went in above: move down by what they added, so nothing jumps.
      list.scrollTop += list.scrollHeight - this.anchorHeight;
      this.anchorHeight = undefined;
    } else if (this.pinned && list.scrollTop + list.clientHeight < list.scrollHeight) {
      list.scrollTop = list.scrollHeight;
    }
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    this.submit();
  }

  private submit(): void {
    const area = this.textarea;
    if (!area) return;
    if (this.sendMessage(area.value)) area.value = "";
    area.focus();
  }

  private onInput(): void {
    const now = Date.now();
    if (this.socket?.state !== "open" || now - this.lastTypingSent < TYPING_SEND_EVERY_MS || !this.textarea?.value) return;
    this.lastTypingSent = now;
    this.socket.send({ type: "typing" });
  }

  private chooseName(event: SubmitEvent): void {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem("name") as HTMLInputElement;
    const value = input.value.trim().replace(/\s+/g, " ");
    if (value.length === 0 || chars(value) > MAX_NAME_CHARS) {
      this.nameError = this.text.badName(MAX_NAME_CHARS);
      return;
    }
    this.nameError = "";
    try {
      localStorage.setItem(NAME_KEY, value);
    } catch {
      // Storage may be off; the name still holds for this page.
    }
    this.start();
    void this.updateComplete.then(() => this.textarea?.focus());
  }

  private changeName(): void {
    this.stop();
    try {
      localStorage.removeItem(NAME_KEY);
    } catch {
      // Nothing remembered, then.
    }
    this.name = null;
    this.start();
  }

  protected override render() {
    const t = this.text;
    if (this.askName) return this.renderNameForm();
    const connection = this.socket?.state ?? "closed";
    const typing = [...this.typing.keys()].filter((name) => name !== this.me?.name);
    const waiting = this.outbox.filter((item) => item.state === "pending").length;
    return html`
      <section class="chat">
        <header>
          <details part="roster">
            <summary>${t.people(this.count)}</summary>
            <ul>
              ${(this.people ?? []).map(
                (person) =>
                  html`<li>${person.name}${person.verified ? html` <span class="badge">${t.verified}</span>` : nothing}${person.name === this.me?.name
                    ? html` <span class="badge">${t.you}</span>`
                    : nothing}</li>`,
              )}
            </ul>
          </details>
          ${this.userToken || this.name || this.me === undefined
            ? nothing
            : html`<button type="button" class="link" @click=${() => this.changeName()}>${t.changeName}</button>`}
        </header>
        <div class="scroller">
          <ol part="messages" role="log" aria-live="polite" aria-relevant="additions" aria-busy=${this.loadingOlder} tabindex="0" @scroll=${() => this.onScroll()}>
            <li class="top">
              ${this.hasMore
                ? html`<button type="button" class="link" ?disabled=${this.loadingOlder} @click=${() => this.loadOlder()}>
                    ${this.loadingOlder ? t.loading : t.loadOlder}
                  </button>`
                : html`<span>${this.messages.length === 0 && this.outbox.length === 0 ? t.empty : t.beginning}</span>`}
            </li>
            ${repeat(this.messages, (message) => message.id, (message) => this.renderMessage(message))}
            ${repeat(this.outbox, (item) => item.clientId, (item) => this.renderOutgoing(item))}
          </ol>
          ${this.unseen > 0 && !this.pinned
            ? html`<button type="button" part="new-messages" @click=${() => this.scrollToBottom()}>${t.newMessages(this.unseen)} ↓</button>`
            : nothing}
        </div>
        <p part="typing" aria-live="polite">${typing.length > 0 ? t.typing(typing) : ""}</p>
        <form class="composer" @submit=${(event: Event) => (event.preventDefault(), this.submit())}>
          <label class="visually-hidden" for="text">${t.messageLabel}</label>
          <textarea
            id="text"
            part="input"
            rows="2"
            placeholder=${t.placeholder}
            ?disabled=${connection === "closed"}
            @keydown=${(event: KeyboardEvent) => this.onKeyDown(event)}
            @input=${() => this.onInput()}
          ></textarea>
          <button part="send" type="submit" ?disabled=${connection === "closed"}>${t.send}</button>
        </form>
        <p part="status" role="status">
          ${this.problem || (connection === "reconnecting" ? (waiting > 0 ? t.queued(waiting) : t.reconnecting) : "")}
        </p>
      </section>
    `;
  }

  private renderNameForm() {
    const t = this.text;
    return html`
      <form part="name-form" class="name-form" @submit=${(event: SubmitEvent) => this.chooseName(event)}>
        <fieldset>
          <legend>${t.nameLegend}</legend>
          <label for="name">${t.nameLabel}</label>
          <input id="name" name="name" autocomplete="nickname" maxlength="64" required .value=${storedName()} aria-describedby="name-error" />
          <button type="submit">${t.join}</button>
          <p id="name-error" part="status" role="status">${this.nameError || this.problem}</p>
        </fieldset>
      </form>
    `;
  }

  private renderMessage({ id, clientId, name, text, at, verified, ...unshown }: ChatMessage) {
    // A field the contract adds to a message is a compile error here until it is shown.
    unshown satisfies Record<string, never>;
    const own = this.ownIds.has(clientId);
    return html`
      <li part=${own ? "message own" : "message"} class=${own ? "own" : ""} data-id=${id}>
        <span part="name" class="name">${name}${verified ? html` <span class="badge" title=${this.text.verified}>✓</span>` : nothing}</span>
        <time datetime=${new Date(at).toISOString()}>${this.time.format(at)}</time>
        <div class="text">${linkify(text)}</div>
        ${own ? html`<small class="note">${this.text.sent}</small>` : nothing}
      </li>
    `;
  }

  private renderOutgoing(item: Outgoing) {
    const t = this.text;
    const seconds = Math.max(1, Math.ceil(((item.retryAt ?? 0) - Date.now()) / 1000));
    const note = item.state === "pending" ? t.pending : item.state === "waiting" ? t.waiting(seconds) : t.refused(item.reason ?? "");
    return html`
      <li part=${item.state === "refused" ? "message own refused" : "message own pending"} class="own ${item.state}" data-client-id=${item.clientId}>
        <span part="name" class="name">${this.me?.name ?? this.wantedName}</span>
        <div class="text">${linkify(item.text)}</div>
        <small class="note">${note}</small>
        ${item.state === "refused"
          ? html`<span class="actions">
              <button type="button" class="link" @click=${() => this.retry(item)}>${t.retry}</button>
              <button type="button" class="link" @click=${() => this.discard(item)}>${t.discard}</button>
            </span>`
          : nothing}
      </li>
    `;
  }
}

function parseStrings(value: string | null): Partial<ChatStrings> {
  try {
    const parsed: unknown = JSON.parse(value ?? "{}");
    if (typeof parsed !== "object" || parsed === null) return {};
    return Object.fromEntries(Object.entries(parsed).filter(([key, text]) => key in DEFAULT_STRINGS && typeof text === "string"));
  } catch {
    return {};
  }
}

/** Text with its http(s) links made clickable; everything else stays text. */
function linkify(text: string) {
  const parts: unknown[] = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    // Trailing punctuation is almost always the sentence's, not the link's.
    const url = match[0].replace(/[.,;:!?)\]]+$/, "");
    const start = match.index;
    if (start > at) parts.push(text.slice(at, start));
    parts.push(html`<a href=${url} target="_blank" rel="noopener noreferrer">${url}</a>`);
    at = start + url.length;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}

define("edge-chat", EdgeChat);
