import type { ChatClientFrame, ChatMessage, ChatServerFrame, Person } from "../../contract/chat.ts";
import { MAX_NAME_CHARS, MAX_PAGE, MAX_TEXT_CHARS } from "../../contract/chat-limits.ts";
import * as CloseCode from "../../contract/close-codes.ts";
import type { Env } from "../env.ts";
import { forwardedIp } from "../http/client-ip.ts";
import { Refusal } from "../http/refusal.ts";
import { maxTokenLifetime, verifyToken } from "../http/tokens.ts";
import { describeIssue } from "../http/validate.ts";
import { BatchedRateCheck } from "../rate-limiter/rate-limiter.ts";
import { wholeNumber } from "../settings.ts";
import { SocketRoom } from "../socket/socket-room.ts";
import { Database } from "../storage/database.ts";
import { ClientMessage, DEFAULT_PAGE, IdentityClaims, JoinQuery, type Ban } from "./messages.ts";
import { CHAT_ROOM_MIGRATIONS, type MessageRow } from "./schema.ts";
import { Listing } from "../admin/directory.ts";
import { WordList } from "./blocked-words.ts";
import { Presence } from "./presence.ts";

/** What each socket remembers across hibernation. */
interface Member {
  ip: string;
  name: string;
  verified: boolean;
  /** The verified subject, or the anonymous session: a reconnect of the same one keeps its name. */
  session: string;
  /** The last message id the client saw when it joined, if it said. */
  after?: number;
  /** Waiting for its identify frame: not in the room yet (no history, presence or sends). */
  pending?: true;
}

/** Tag of an anonymous session's sockets, so a reconnect finds the one it replaces without walking the room. */
const SESSION_TAG = "session:";

/** A socket that asked to identify and sends no identify frame within this long is closed. */
const IDENTIFY_WITHIN_MS = 5000;


/** Typing frames from one socket are passed on at most this often. */
const TYPING_EVERY_MS = 2000;
/** A reconnect that missed more than this gets the latest messages instead, and resets. */
const MAX_RESUME = 1000;

/** History frames kept for joiners to share; past it they are made again (each up to `MAX_RESUME` messages). */
const HISTORY_FRAMES_KEPT = 16;

/** Messages kept per room; older ones are deleted. */
const HISTORY_LIMIT = wholeNumber("CHAT_HISTORY_LIMIT", 10_000);
/** Messages a client gets when it joins. */
const JOIN_HISTORY = wholeNumber("CHAT_JOIN_HISTORY", 100);
/**
 * Joins and leaves go out as one frame per this many ms, so a crowd arriving at once (a
 * reconnect after a deploy) costs each member a few frames, not one per arrival.
 */
const PRESENCE_EVERY_MS = wholeNumber("CHAT_PRESENCE_EVERY_MS", 500, "ms");
/** Above this many people a room sends how many are here, not who: the list would cost more than it tells. */
const PEOPLE_LIST_MAX = wholeNumber("CHAT_PEOPLE_LIST_MAX", 100, "people");
/**
 * A crowd is told its size at most this often: a count nobody reads to the person needs no
 * faster updates, and each update is a frame to every member.
 */
const CROWD_COUNT_EVERY_MS = 5000;
/** Above this many people nobody is shown typing: in a crowd it is noise, and a frame to everyone per keystroke bout. */
const TYPING_MAX_PEOPLE = wholeNumber("CHAT_TYPING_MAX_PEOPLE", 50, "people");

/**
 * The object that holds the list of words blocked in every room: a name no room can have, in
 * the rooms' own namespace. Rooms read it at most once per `ALL_ROOMS_WORDS_TTL_MS`, so a
 * change reaches every room within that time.
 */
export const ALL_ROOMS = "*";
export const ALL_ROOMS_WORDS_TTL_MS = 10_000;

const toMessage = (row: MessageRow): ChatMessage => ({
  id: row.id,
  clientId: row.client_id,
  name: row.name,
  text: row.text,
  at: row.at,
  verified: row.verified === 1,
});

/**
 * One chat room. History lives in the object's SQLite storage, trimmed to the newest
 * `CHAT_HISTORY_LIMIT` messages; every member holds a hibernatable WebSocket, so an idle room
 * costs nothing and no timer keeps it awake. Each message is stored before it is acknowledged
 * or broadcast, and a client's own message id makes a resend after a reconnect harmless.
 */
export class ChatRoom extends SocketRoom<Env, Member, ChatClientFrame, ChatServerFrame> {
  protected readonly route = "chat";
  protected override readonly joins = "chat-join";
  protected readonly maxFrameBytes = 16 * 1024;
  protected readonly messages = ClientMessage;

  private readonly db: Database;
  private readonly retention: number;
  private readonly joinHistory: number;
  private readonly lastTyping = new WeakMap<WebSocket, number>();
  /** Messages from one IP that arrive while its limiter is being asked go in its next call. */
  private readonly sends = new BatchedRateCheck(this.env, "chat-message");
  /** Pages of history cost what the HTTP route charges for them, whichever way they are asked for. */
  private readonly reads = new BatchedRateCheck(this.env, "chat-read");
  private readonly listing = new Listing(this.env, "rooms", () => this.ctx.id.name);
  private outgoing: { message: ChatMessage; sender: WebSocket }[] = [];
  /**
   * Sockets waiting for their identify frame, held out of broadcasts. In memory is enough: each
   * has a timer running, and an object with a timer running does not hibernate.
   */
  private readonly pending = new Set<WebSocket>();
  /** Who is here, kept in step with every join and leave; filled from the sockets when the object wakes. */
  private readonly presence = new Presence();
  /** Whether members were last told the people list (else only the count). */
  private listed: boolean;
  private presenceTimer: ReturnType<typeof setTimeout> | undefined;
  private presenceDue = 0;
  private readonly presenceEvery: number;
  private readonly peopleListMax: number;
  private readonly typingMax: number;
  /**
   * History frames by the last id their joiners saw (none for a first join), while no message
   * has changed since: a crowd joining, or reconnecting from the same place, shares one.
   */
  private readonly historyFrames = new Map<number | undefined, string>();
  /** The bans, by kind and value, read once per wake and kept in step with every change. */
  private banned: Map<string, Ban> | undefined;
  /** This room's own blocked words and slow mode, read from storage once per wake. */
  private ownWords: WordList | undefined;
  private slowSeconds: number | undefined;
  /** Every room's blocked words, as last read from the `ALL_ROOMS` object. */
  private allRoomsWords: { list: WordList; until: number } | undefined;
  private allRoomsReading: Promise<WordList> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Database(ctx.storage, CHAT_ROOM_MIGRATIONS);
    this.retention = HISTORY_LIMIT.read(env);
    this.joinHistory = Math.min(MAX_RESUME, JOIN_HISTORY.read(env));
    this.presenceEvery = PRESENCE_EVERY_MS.read(env);
    this.peopleListMax = PEOPLE_LIST_MAX.read(env);
    this.typingMax = TYPING_MAX_PEOPLE.read(env);
    // Once per wake, the one walk over every socket: after it, joins and leaves are counted.
    for (const ws of ctx.getWebSockets()) {
      const member = ws.deserializeAttachment() as Member | null;
      if (member && !member.pending && ws.readyState === WebSocket.OPEN) this.presence.add(ws, member);
    }
    this.presence.takeChanges();
    this.listed = this.presence.count <= this.peopleListMax;
  }

  protected async attach(request: Request): Promise<Member> {
    const url = new URL(request.url);
    // Request logs keep URLs: a token there has leaked, so it is refused even when valid.
    if (url.searchParams.has("token")) {
      throw new Refusal("bad_request", 'send the user token in a first frame {"type":"identify","token":…}, not in the URL');
    }
    const query = JoinQuery.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) throw new Refusal("invalid_request", describeIssue(query.error));
    const ip = forwardedIp(request);
    const { name, session, after, identify } = query.data;
    let member: Member;
    if (identify) {
      member = { ip, name: "", verified: false, session: "", after, pending: true };
    } else {
      if (name === undefined) throw new Refusal("bad_request", "a name is required");
      const key = `anon:${session ?? crypto.randomUUID()}`;
      member = { ip, name: this.uniqueName(name, key), verified: false, session: key, after };
    }
    const ban = this.activeBan(member.ip, member.name);
    if (ban) throw new Refusal("forbidden", banReason(ban));
    return member;
  }

  protected override tags(member: Member): string[] {
    return member.pending ? [] : [SESSION_TAG + member.session];
  }

  private async verifyToken(token: string): Promise<{ sub: string; name: string }> {
    const secret = this.env.CHAT_IDENTITY_SECRET;
    if (!secret) throw new Refusal("unauthorized", "verified identities are not configured on this backend");
    const verdict = await verifyToken(secret, "chatIdentity", token, { maxLifetime: maxTokenLifetime(this.env), requiredClaims: ["sub"] });
    if (!verdict.ok) throw new Refusal("unauthorized", `user token: ${verdict.message}`);
    const claims = IdentityClaims.safeParse(verdict.payload);
    if (!claims.success) throw new Refusal("unauthorized", `user token: ${describeIssue(claims.error)}`);
    return claims.data;
  }

  /** An anonymous name nobody else in the room holds: "Ann", else "Ann 2", "Ann 3"… */
  private uniqueName(wanted: string, session: string): string {
    if (!this.presence.isTaken(wanted, session)) return wanted;
    for (let n = 2; ; n++) {
      const suffix = ` ${n}`;
      const candidate = [...wanted].slice(0, MAX_NAME_CHARS - suffix.length).join("").trimEnd() + suffix;
      if (!this.presence.isTaken(candidate, session)) return candidate;
    }
  }

  protected onOpen(ws: WebSocket, member: Member): void {
    if (member.pending) {
      this.pending.add(ws);
      setTimeout(() => {
        if (!this.pending.delete(ws)) return;
        ws.close(CloseCode.unauthorized, `no identify frame within ${IDENTIFY_WITHIN_MS / 1000} s`);
      }, IDENTIFY_WITHIN_MS);
      return;
    }
    // The same anonymous session reconnecting (its old socket may linger half-open) replaces the
    // old socket, once the new one is admitted. A socket still to identify has no session yet:
    // it replaces nothing.
    for (const old of this.ctx.getWebSockets(SESSION_TAG + member.session)) {
      if (old === ws) continue;
      this.leave(old);
      old.close(CloseCode.normal, "replaced by a new connection");
    }
    this.welcome(ws, member);
  }

  protected override hears(ws: WebSocket): boolean {
    return !this.pending.has(ws);
  }

  /** Verifies a waiting socket's token; it joins under the token's name, or is closed with why not. */
  private async identify(ws: WebSocket, token: string, waiting: Member): Promise<void> {
    let member: Member;
    try {
      const identity = await this.verifyToken(token);
      member = { ip: waiting.ip, name: identity.name, verified: true, session: `user:${identity.sub}`, after: waiting.after };
      const ban = this.activeBan(member.ip, member.name);
      if (ban) throw new Refusal("forbidden", banReason(ban));
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      this.pending.delete(ws);
      ws.close(error.closeCode, error.message.slice(0, 120));
      return;
    }
    if (!this.pending.delete(ws)) return; // Timed out while the token was checked.
    ws.serializeAttachment(member);
    this.welcome(ws, member);
  }

  /**
   * A member arrives: the history, the roster and `ready` to it; the others hear of it with the
   * next presence frame. Nothing here walks the room's sockets.
   */
  private welcome(ws: WebSocket, member: Member): void {
    this.flushOutgoing(ws);
    this.sendHistory(ws, member.after);
    this.presence.add(ws, member);
    this.presenceChanged();
    this.send(ws, this.roster());
    this.send(ws, {
      type: "ready",
      you: { name: member.name, verified: member.verified },
      limits: { maxNameChars: MAX_NAME_CHARS, maxTextChars: MAX_TEXT_CHARS, maxPage: MAX_PAGE },
    });
  }

  /**
   * A first join gets the latest messages. A reconnect that names the last id it saw gets
   * exactly the messages after it (and the ids deleted meanwhile), unless it missed so many
   * that starting over is cheaper.
   */
  private sendHistory(ws: WebSocket, after: number | undefined): void {
    let frame = this.historyFrames.get(after);
    if (frame === undefined) {
      frame = this.historyFrame(after);
      if (this.historyFrames.size >= HISTORY_FRAMES_KEPT) this.historyFrames.clear();
      this.historyFrames.set(after, frame);
    }
    try {
      ws.send(frame);
    } catch {
      // Closed already; its close handler cleans up.
    }
  }

  private historyFrame(after: number | undefined): string {
    const deleted = this.db.all<{ id: number }>("SELECT id FROM messages WHERE deleted = 1 ORDER BY id DESC LIMIT 500").map((row) => row.id);
    // An `after` beyond the last id ever assigned comes from a room that was since reset.
    if (after !== undefined && after <= this.lastAssignedId()) {
      const missed = this.db.all<MessageRow>("SELECT * FROM messages WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?", after, MAX_RESUME + 1);
      if (missed.length <= MAX_RESUME) return JSON.stringify({ type: "history", resumed: true, messages: missed.map(toMessage), deleted } satisfies ChatServerFrame);
    }
    const { messages, hasMore } = this.page(undefined, this.joinHistory);
    return JSON.stringify({ type: "history", resumed: false, messages, hasMore, deleted } satisfies ChatServerFrame);
  }

  private lastAssignedId(): number {
    return this.db.one<{ seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'messages'")?.seq ?? 0;
  }

  /** Messages before `before` (or the newest), oldest first, and whether older ones remain. */
  page(before: number | undefined, limit = DEFAULT_PAGE): { messages: ChatMessage[]; hasMore: boolean } {
    const rows = this.db.all<MessageRow>(
      "SELECT * FROM messages WHERE id < ? AND deleted = 0 ORDER BY id DESC LIMIT ?",
      before ?? Number.MAX_SAFE_INTEGER,
      limit + 1,
    );
    const hasMore = rows.length > limit;
    return { messages: rows.slice(0, limit).reverse().map(toMessage), hasMore };
  }

  protected async onMessage(ws: WebSocket, message: ChatClientFrame, member: Member): Promise<void> {
    if (member.pending) {
      if (message.type === "identify") return this.identify(ws, message.token, member);
      throw new Refusal("not_identified", "Send the identify frame first.");
    }
    switch (message.type) {
      case "identify":
        throw new Refusal("already_identified", "This socket has already joined; open a new one to change who you are.");
      case "send":
        return this.post(ws, message.id, message.text, member);
      case "typing": {
        if (this.presence.count > this.typingMax) return;
        const now = Date.now();
        if (now - (this.lastTyping.get(ws) ?? 0) < TYPING_EVERY_MS) return;
        this.lastTyping.set(ws, now);
        this.broadcast({ type: "typing", name: member.name }, ws);
        return;
      }
      case "history": {
        const decision = await this.reads.check(member.ip);
        if (!decision.ok) {
          throw new Refusal("rate_limited", "Too many history requests; wait a moment.", { retryAfterMs: decision.retryAfterMs, ref: message.id });
        }
        const { messages, hasMore } = this.page(message.before, message.limit);
        this.send(ws, { type: "page", before: message.before ?? null, messages, hasMore, ...(message.id && { ref: message.id }) });
        return;
      }
    }
  }

  private async post(ws: WebSocket, clientId: string, text: string, member: Member): Promise<void> {
    // A resend of a message the room already has is answered from storage and costs nothing.
    const known = this.byClientId(clientId);
    if (known) return this.acknowledge(ws, known);
    // Every send waits for the same things in the same order, so messages are still stored in
    // the order they came: the list of every room's words (cached), then the IP's limiter.
    const everyRoom = await this.allRoomsBlockedWords();
    const decision = await this.sends.check(member.ip);
    if (!decision.ok) {
      throw new Refusal("rate_limited", "You are sending too fast; wait a moment.", { retryAfterMs: decision.retryAfterMs, ref: clientId });
    }
    const blocked = this.roomWords().find(text) ?? everyRoom.find(text);
    if (blocked !== undefined) {
      throw new Refusal("blocked_word", `Not sent: "${blocked}" is not allowed in this room. Edit the message and send it again.`, { ref: clientId });
    }
    const wait = this.slowModeWait(member);
    if (wait > 0) {
      const retryAfter = Math.ceil(wait / 1000);
      const refusal = new Refusal("slow_mode", `Slow mode: one message per ${this.slowMode()} s; you can send again in ${retryAfter} s.`, { retryAfterMs: wait, ref: clientId });
      this.send(ws, { ...refusal.frame, code: "slow_mode", retryAfter });
      return;
    }
    const inserted = this.db.one<MessageRow>(
      `INSERT INTO messages (client_id, name, text, at, verified, ip, sender) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO NOTHING
       RETURNING id, client_id, name, text, at, verified`,
      clientId,
      member.name,
      text,
      Date.now(),
      member.verified ? 1 : 0,
      member.ip,
      member.session,
    );
    // Lost a race with the same resend arriving on another socket while we asked the limiter.
    if (!inserted) return this.acknowledge(ws, this.byClientId(clientId)!);
    this.db.run("DELETE FROM messages WHERE id <= ?", inserted.id - this.retention);
    this.figures.count("chat_messages");
    this.listing.active();
    this.historyFrames.clear();
    const stored = toMessage(inserted);
    this.fanOut(stored, ws);
    // Others stop showing this person as typing when the message arrives; typing again is news.
    this.lastTyping.delete(ws);
  }

  /**
   * Messages stored in the same turn of the event loop go out to each member as one frame, in id
   * order, so a busy room sends far fewer frames; a lone message still leaves at once. The
   * storage write is confirmed before any of it leaves the object (output gate).
   */
  private fanOut(message: ChatMessage, sender: WebSocket): void {
    this.outgoing.push({ message, sender });
    if (this.outgoing.length === 1) setTimeout(() => this.flushOutgoing(), 0);
  }

  /** Sends what waits; `joining` gets none of it, as its history already holds it. */
  private flushOutgoing(joining?: WebSocket): void {
    const batch = this.outgoing;
    if (batch.length === 0) return;
    this.outgoing = [];
    const frame = (items: typeof batch): ChatServerFrame =>
      items.length === 1 ? { type: "message", message: items[0]!.message } : { type: "messages", messages: items.map((item) => item.message) };
    const senders = new Set(batch.map((item) => item.sender));
    const shared = JSON.stringify(frame(batch));
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === joining || ws.readyState !== WebSocket.OPEN || !this.hears(ws)) continue;
      try {
        if (!senders.has(ws)) {
          ws.send(shared);
          continue;
        }
        // A sender gets the others' messages, then an ack for each of its own. Should it drop
        // before an ack, its resend of that message is answered from storage.
        const others = batch.filter((item) => item.sender !== ws);
        if (others.length > 0) ws.send(JSON.stringify(frame(others)));
        for (const { message, sender } of batch) {
          if (sender === ws) ws.send(JSON.stringify({ type: "ack", ref: message.clientId, message } satisfies ChatServerFrame));
        }
      } catch {
        // Closed between the check and the send.
      }
    }
  }

  private byClientId(clientId: string): { row: MessageRow; deleted: boolean } | undefined {
    const row = this.db.one<MessageRow & { deleted: number }>("SELECT * FROM messages WHERE client_id = ?", clientId);
    return row ? { row, deleted: row.deleted === 1 } : undefined;
  }

  private acknowledge(ws: WebSocket, known: { row: MessageRow; deleted: boolean }): void {
    const message = toMessage(known.row);
    this.send(ws, known.deleted ? { type: "ack", ref: message.clientId, message, deleted: true } : { type: "ack", ref: message.clientId, message });
  }

  protected override onClose(ws: WebSocket): void {
    this.pending.delete(ws);
    this.leave(ws);
  }

  /** A socket leaves the room's presence (again is harmless); the others hear with the next presence frame. */
  private leave(ws: WebSocket): void {
    this.presence.remove(ws);
    this.presenceChanged();
  }

  /** Who is here as a joining member sees it: the people while they are few, always the count. */
  private roster(): ChatServerFrame {
    const count = this.presence.count;
    return count <= this.peopleListMax ? { type: "roster", count, people: this.presence.list() } : { type: "roster", count };
  }

  /** Arranges for the joins and leaves of the next interval to go out as one frame. */
  private presenceChanged(): void {
    if (!this.presence.changed) return;
    // A room that shrank back to a list size is told at the usual pace, so names come back soon.
    const crowd = !this.listed && this.presence.count > this.peopleListMax;
    const due = Date.now() + (crowd ? Math.max(this.presenceEvery, CROWD_COUNT_EVERY_MS) : this.presenceEvery);
    if (this.presenceTimer !== undefined) {
      if (due >= this.presenceDue) return;
      clearTimeout(this.presenceTimer);
    }
    this.presenceDue = due;
    this.presenceTimer = setTimeout(() => this.tellPresence(), due - Date.now());
  }

  /**
   * One frame to everyone for all the joins and leaves since the last: their net effect while
   * the room sends its list, the count alone above `CHAT_PEOPLE_LIST_MAX`, or the whole roster
   * when the room just crossed that size (one way or the other).
   */
  private tellPresence(): void {
    this.presenceTimer = undefined;
    if (!this.presence.changed) return;
    const { joined, left } = this.presence.takeChanges();
    const count = this.presence.count;
    const listed = count <= this.peopleListMax;
    if (listed !== this.listed) {
      this.listed = listed;
      this.broadcast(this.roster());
      return;
    }
    this.broadcast(listed ? { type: "presence", count, joined, left } : { type: "presence", count });
  }

  // --- moderation (reached only through the admin routes) ---

  /** Deletes a message for everyone, live. Its client id stays known, so a resend cannot revive it. */
  deleteMessage(id: number): boolean {
    const changed = this.db.run("UPDATE messages SET deleted = 1, text = '' WHERE id = ? AND deleted = 0", id);
    if (changed === 0) return false;
    this.historyFrames.clear();
    this.flushOutgoing();
    this.broadcast({ type: "deleted", id });
    return true;
  }

  /** Bans a name or an IP until a time, and closes the sockets it covers. */
  ban(kind: "name" | "ip", value: string, seconds: number, reason: string): Ban {
    const stored = kind === "name" ? value.toLowerCase() : value;
    const until = Date.now() + seconds * 1000;
    this.db.run(
      "INSERT INTO bans (kind, value, until, reason) VALUES (?, ?, ?, ?) ON CONFLICT (kind, value) DO UPDATE SET until = excluded.until, reason = excluded.reason",
      kind,
      stored,
      until,
      reason,
    );
    const ban: Ban = { kind, value: stored, until, reason };
    this.banned = undefined;
    for (const ws of this.ctx.getWebSockets()) {
      const member = ws.deserializeAttachment() as Member;
      if (kind === "ip" ? member.ip === stored : member.name.toLowerCase() === stored) {
        this.leave(ws);
        ws.close(CloseCode.forbidden, banReason(ban));
      }
    }
    return ban;
  }

  unban(kind: "name" | "ip", value: string): boolean {
    const stored = kind === "name" ? value.toLowerCase() : value;
    this.banned = undefined;
    return this.db.run("DELETE FROM bans WHERE kind = ? AND value = ?", kind, stored) > 0;
  }

  bans(): Ban[] {
    this.db.run("DELETE FROM bans WHERE until <= ?", Date.now());
    return this.db.all<Ban>("SELECT kind, value, until, reason FROM bans ORDER BY until");
  }

  /** Who is connected, with their IPs, for a moderator deciding on a ban. */
  /** For the console's list of rooms: who is here now, the messages kept, the latest one's time. */
  summary(): { members: number; messages: number; lastMessageAt: string | null } {
    const row = this.db.one<{ n: number; last: number | null }>("SELECT count(*) AS n, max(at) AS last FROM messages WHERE deleted = 0")!;
    return { members: this.presence.count, messages: row.n, lastMessageAt: row.last === null ? null : new Date(row.last).toISOString() };
  }

  people(): (Person & { ip: string })[] {
    return this.ctx.getWebSockets().flatMap((ws) => {
      const { name, verified, ip, pending } = ws.deserializeAttachment() as Member;
      if (ws.readyState !== WebSocket.OPEN || pending) return [];
      return [{ name, verified, ip }];
    });
  }

  /** This room's blocked words (on the `ALL_ROOMS` object: every room's), in compared form. */
  blockedWords(): string[] {
    return JSON.parse(this.setting("blocked_words") ?? "[]") as string[];
  }

  /** Replaces the list; it applies to the next message. `words` come checked and in compared form. */
  setBlockedWords(words: string[]): string[] {
    this.db.run("INSERT INTO room_settings (key, value) VALUES ('blocked_words', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", JSON.stringify(words));
    this.ownWords = new WordList(words);
    return words;
  }

  /** Seconds a member waits between two messages; 0 is off. */
  slowMode(): number {
    this.slowSeconds ??= Number(this.setting("slow_mode") ?? 0);
    return this.slowSeconds;
  }

  setSlowMode(seconds: number): number {
    this.db.run("INSERT INTO room_settings (key, value) VALUES ('slow_mode', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", String(seconds));
    this.slowSeconds = seconds;
    return seconds;
  }

  private setting(key: string): string | undefined {
    return this.db.one<{ value: string }>("SELECT value FROM room_settings WHERE key = ?", key)?.value;
  }

  private roomWords(): WordList {
    this.ownWords ??= new WordList(this.blockedWords());
    return this.ownWords;
  }

  /**
   * Every room's list, read from its object at most once per `ALL_ROOMS_WORDS_TTL_MS`; sends in
   * the meantime share the one read. Should that object not answer, the last list read holds
   * (none at first) and the next send asks again: chat does not stop for it.
   */
  private allRoomsBlockedWords(): WordList | Promise<WordList> {
    const cached = this.allRoomsWords;
    if (cached && cached.until > Date.now()) return cached.list;
    this.allRoomsReading ??= this.env.CHAT_ROOMS.getByName(ALL_ROOMS)
      .blockedWords()
      .then(
        (words) => {
          const list = new WordList(words);
          this.allRoomsWords = { list, until: Date.now() + ALL_ROOMS_WORDS_TTL_MS };
          return list;
        },
        (error: unknown) => {
          console.error("could not read the blocked words of every room", error);
          return cached?.list ?? new WordList([]);
        },
      )
      .finally(() => (this.allRoomsReading = undefined));
    return this.allRoomsReading;
  }

  /**
   * How long `member` must still wait under slow mode, in ms; 0 when it may send. The wait runs
   * from the last message of its session or of its address, whichever came later: a visitor
   * picks a new session by reconnecting, not a new address, so members behind one address share
   * one pace.
   */
  private slowModeWait(member: Member): number {
    const seconds = this.slowMode();
    if (seconds === 0) return 0;
    const lastAt = (column: "sender" | "ip", value: string) => this.db.one<{ at: number }>(`SELECT at FROM messages WHERE ${column} = ? ORDER BY id DESC LIMIT 1`, value)?.at ?? 0;
    const last = Math.max(lastAt("sender", member.session), lastAt("ip", member.ip));
    return last === 0 ? 0 : Math.max(0, last + seconds * 1000 - Date.now());
  }

  private activeBan(ip: string, name: string): Ban | null {
    this.banned ??= new Map(this.db.all<Ban>("SELECT kind, value, until, reason FROM bans").map((ban) => [`${ban.kind}:${ban.value}`, ban]));
    const now = Date.now();
    for (const key of [`ip:${ip}`, `name:${name.toLowerCase()}`]) {
      const ban = this.banned.get(key);
      if (ban && ban.until > now) return ban;
    }
    return null;
  }
}

function banReason(ban: Ban): string {
  const base = `banned from this room until ${new Date(ban.until).toISOString()}`;
  return (ban.reason ? `${base}: ${ban.reason}` : base).slice(0, 120);
}
