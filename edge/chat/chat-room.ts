import type { ChatClientFrame, ChatMessage, ChatServerFrame, Person } from "../../contract/chat.ts";
import { MAX_NAME_CHARS, MAX_PAGE, MAX_TEXT_CHARS } from "../../contract/chat-limits.ts";
import * as CloseCode from "../../contract/close-codes.ts";
import type { Env } from "../env.ts";
import { forwardedIp } from "../http/client-ip.ts";
import { Refusal } from "../http/refusal.ts";
import { maxTokenLifetime, verifyToken } from "../http/tokens.ts";
import { describeIssue } from "../http/validate.ts";
import { BatchedRateCheck, checkRate } from "../rate-limiter/rate-limiter.ts";
import { wholeNumber } from "../settings.ts";
import { SocketRoom } from "../socket/socket-room.ts";
import { Database } from "../storage/database.ts";
import { ClientMessage, DEFAULT_PAGE, IdentityClaims, JoinQuery, type Ban } from "./messages.ts";
import { CHAT_ROOM_MIGRATIONS, type MessageRow } from "./schema.ts";
import { Listing } from "../admin/directory.ts";

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

/** A socket that asked to identify and sends no identify frame within this long is closed. */
const IDENTIFY_WITHIN_MS = 5000;


/** Typing frames from one socket are passed on at most this often. */
const TYPING_EVERY_MS = 2000;
/** A reconnect that missed more than this gets the latest messages instead, and resets. */
const MAX_RESUME = 1000;

/** Messages kept per room; older ones are deleted. */
const HISTORY_LIMIT = wholeNumber("CHAT_HISTORY_LIMIT", 10_000);
/** Messages a client gets when it joins. */
const JOIN_HISTORY = wholeNumber("CHAT_JOIN_HISTORY", 100);

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

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Database(ctx.storage, CHAT_ROOM_MIGRATIONS);
    this.retention = HISTORY_LIMIT.read(env);
    this.joinHistory = Math.min(MAX_RESUME, JOIN_HISTORY.read(env));
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
    const join = await checkRate(this.env, ip, "chat-join");
    if (!join.ok) throw new Refusal("rate_limited", `too many joins; retry in ${Math.ceil(join.retryAfterMs / 1000)} s`);

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
    // The same anonymous session reconnecting (its old socket may linger half-open) replaces the
    // old socket. A socket still to identify has no session yet: it replaces nothing.
    if (!identify) {
      for (const ws of this.ctx.getWebSockets()) {
        if ((ws.deserializeAttachment() as Member).session === member.session) ws.close(CloseCode.normal, "replaced by a new connection");
      }
    }
    return member;
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
    const taken = new Set<string>();
    for (const ws of this.ctx.getWebSockets()) {
      const other = ws.deserializeAttachment() as Member;
      if (other.session !== session && ws.readyState === WebSocket.OPEN) taken.add(other.name.toLowerCase());
    }
    if (!taken.has(wanted.toLowerCase())) return wanted;
    for (let n = 2; ; n++) {
      const suffix = ` ${n}`;
      const candidate = [...wanted].slice(0, MAX_NAME_CHARS - suffix.length).join("").trimEnd() + suffix;
      if (!taken.has(candidate.toLowerCase())) return candidate;
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

  /** A member arrives: the history, the roster and `ready` to it, the news to the others. */
  private welcome(ws: WebSocket, member: Member): void {
    this.flushOutgoing(ws);
    this.sendHistory(ws, member.after);
    const present = this.present(ws);
    if (!present.some((p) => p.name === member.name && p.verified === member.verified)) this.broadcast({ type: "join", name: member.name, verified: member.verified }, ws);
    this.send(ws, { type: "roster", people: this.roster() });
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
    const deleted = this.db.all<{ id: number }>("SELECT id FROM messages WHERE deleted = 1 ORDER BY id DESC LIMIT 500").map((row) => row.id);
    // An `after` beyond the last id ever assigned comes from a room that was since reset.
    if (after !== undefined && after <= this.lastAssignedId()) {
      const missed = this.db.all<MessageRow>("SELECT * FROM messages WHERE id > ? AND deleted = 0 ORDER BY id LIMIT ?", after, MAX_RESUME + 1);
      if (missed.length <= MAX_RESUME) {
        this.send(ws, { type: "history", resumed: true, messages: missed.map(toMessage), deleted });
        return;
      }
    }
    const { messages, hasMore } = this.page(undefined, this.joinHistory);
    this.send(ws, { type: "history", resumed: false, messages, hasMore, deleted });
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
    // Checks are answered in arrival order, so messages are stored in the order they came.
    const decision = await this.sends.check(member.ip);
    if (!decision.ok) {
      throw new Refusal("rate_limited", "You are sending too fast; wait a moment.", { retryAfterMs: decision.retryAfterMs, ref: clientId });
    }
    const inserted = this.db.one<MessageRow>(
      `INSERT INTO messages (client_id, name, text, at, verified, ip) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (client_id) DO NOTHING
       RETURNING id, client_id, name, text, at, verified`,
      clientId,
      member.name,
      text,
      Date.now(),
      member.verified ? 1 : 0,
      member.ip,
    );
    // Lost a race with the same resend arriving on another socket while we asked the limiter.
    if (!inserted) return this.acknowledge(ws, this.byClientId(clientId)!);
    this.db.run("DELETE FROM messages WHERE id <= ?", inserted.id - this.retention);
    this.figures.count("chat_messages");
    this.listing.active();
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

  protected override onClose(ws: WebSocket, member: Member): void {
    if (!this.present(ws).some((p) => p.name === member.name && p.verified === member.verified)) {
      this.broadcast({ type: "leave", name: member.name, verified: member.verified }, ws);
    }
  }

  /** Everyone connected but `except`, one entry per name. */
  private present(except?: WebSocket): Person[] {
    const people = new Map<string, Person>();
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      const { name, verified, pending } = ws.deserializeAttachment() as Member;
      if (pending) continue;
      people.set(`${verified}:${name}`, { name, verified });
    }
    return [...people.values()];
  }

  private roster(): Person[] {
    return this.present().sort((a, b) => a.name.localeCompare(b.name));
  }

  // --- moderation (reached only through the admin routes) ---

  /** Deletes a message for everyone, live. Its client id stays known, so a resend cannot revive it. */
  deleteMessage(id: number): boolean {
    const changed = this.db.run("UPDATE messages SET deleted = 1, text = '' WHERE id = ? AND deleted = 0", id);
    if (changed === 0) return false;
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
    for (const ws of this.ctx.getWebSockets()) {
      const member = ws.deserializeAttachment() as Member;
      if (kind === "ip" ? member.ip === stored : member.name.toLowerCase() === stored) {
        ws.close(CloseCode.forbidden, banReason(ban));
      }
    }
    return ban;
  }

  unban(kind: "name" | "ip", value: string): boolean {
    const stored = kind === "name" ? value.toLowerCase() : value;
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
    return { members: this.present().length, messages: row.n, lastMessageAt: row.last === null ? null : new Date(row.last).toISOString() };
  }

  people(): (Person & { ip: string })[] {
    return this.ctx.getWebSockets().flatMap((ws) => {
      const { name, verified, ip, pending } = ws.deserializeAttachment() as Member;
      if (ws.readyState !== WebSocket.OPEN || pending) return [];
      return [{ name, verified, ip }];
    });
  }

  private activeBan(ip: string, name: string): Ban | null {
    return this.db.one<Ban>(
      "SELECT kind, value, until, reason FROM bans WHERE until > ? AND ((kind = 'ip' AND value = ?) OR (kind = 'name' AND value = ?)) LIMIT 1",
      Date.now(),
      ip,
      name.toLowerCase(),
    );
  }
}

function banReason(ban: Ban): string {
  const base = `banned from this room until ${new Date(ban.until).toISOString()}`;
  return (ban.reason ? `${base}: ${ban.reason}` : base).slice(0, 120);
}
