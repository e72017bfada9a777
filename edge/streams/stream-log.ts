import { DurableObject } from "cloudflare:workers";
import { STREAM_GONE, type BridgeFrame } from "../../contract/stream-bridge.ts";
import type { Env } from "../env.ts";
import { HttpError } from "../http/errors.ts";
import {
  ZERO_OFFSET,
  advance,
  isJsonType,
  jsonFragment,
  mediaType,
  refusal,
  toBase64,
  type Refusal,
} from "./offsets.ts";
import { decodeSegment, encodeSegment, generationPrefix, segmentKey, type StoredMessage } from "./segments.ts";
import { registryForStream } from "../subscriptions/registry.ts";

/** What a stream is, as its object keeps it (one `meta` entry in the object's KV). */
interface Meta {
  /** A fresh id per incarnation: R2 keys use it, so a re-created stream never sees old segments. */
  generation: string;
  contentType: string;
  ttlSeconds?: number;
  expiresAt?: string;
  lastAccessedAt: number;
  closed: boolean;
  closedBy?: { producerId: string; epoch: number; seq: number };
  public: boolean;
  /** The offset after the last message. */
  tail: string;
  /** The last `Stream-Seq` a writer sent (compared as a string, per the protocol). */
  lastSeq?: string;
  forkedFrom?: string;
  forkOffset?: string;
  forkSubOffset?: number;
  /** Forks reading through this stream; while any remain, delete and expiry only hide it. */
  refCount: number;
  softDeleted: boolean;
  /** Bytes in the SQLite hot log; past `STREAMS_HOT_BYTES` the oldest rotate into R2. */
  hotBytes: number;
  /** The subscription registry knows this stream (streams older than it register on append). */
  registered?: boolean;
}

/** What readers and the Worker learn about a stream. */
export interface StreamInfo {
  contentType: string;
  tail: string;
  closed: boolean;
  public: boolean;
  ttlSeconds?: number;
  expiresAt?: string;
}

/** An HTTP answer decided inside the object; the Worker adds CORS and security headers. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
}

export interface CreateInput {
  /** Undefined only for a fork that inherits its source's type. */
  contentType?: string;
  ttlSeconds?: number;
  expiresAt?: string;
  closed: boolean;
  public: boolean;
  body: Uint8Array;
  forkedFrom?: string;
  forkOffset?: string;
  forkSubOffset?: number;
  /** With `forkedFrom`: what the caller may do with the source, as the Worker checked. */
  sourceAccess?: SourceAccess;
}

/** A fork's caller and its source: the source decides, since only it knows whether it is public. */
export interface SourceAccess {
  /** What a read of the source would answer this caller if the source is private; absent when their token reads it. */
  refusal?: Refusal;
  /** The fork is to be public (never set with stream auth off, where every stream is). */
  public: boolean;
}

export interface Producer {
  id: string;
  epoch: number;
  seq: number;
}

export interface AppendInput {
  body: Uint8Array;
  contentType?: string;
  seq?: string;
  close: boolean;
  producer?: Producer;
}

export interface ReadResult {
  info: StreamInfo;
  messages: StoredMessage[];
  /** Where the next read starts: the last message's offset, or the tail when nothing was new. */
  next: string;
  upToDate: boolean;
}

interface ForkGrant {
  contentType: string;
  forkOffset: string;
  ttlSeconds?: number;
  expiresAt?: string;
  prefix?: Uint8Array;
}

interface Collected {
  messages: StoredMessage[];
  /** True when the read reached the end (the tail, or the cap of an inherited range). */
  complete: boolean;
}

interface SegmentRow extends Record<string, SqlStorageValue> {
  start_offset: string;
  end_offset: string;
  key: string;
}

const DEFAULT_HOT_BYTES = 8 * 1024 * 1024;
/** After a subscription could not be told of an append, try again this much later. */
const NOTIFY_RETRY_MS = 1000;
const PRODUCER_TTL_MS = 7 * 24 * 3600 * 1000;
const SEGMENT_CACHE = 4;

const json = (status: number, code: string, message: string, headers: Record<string, string> = {}): Refusal =>
  refusal(new HttpError(status, code, message, headers));
const NOT_FOUND = () => json(404, "not_found", "No such stream.");
const GONE = () => json(410, "stream_gone", "The stream was deleted; forks of it still read its data.");

/**
 * One Durable Streams stream: the single writer of its log. Recent messages live in SQLite
 * (the hot log); older runs rotate into immutable R2 segments and reads stitch both, and the
 * source chain of a fork, into one sequence of offsets. Live readers wait in the Worker on a
 * hibernatable WebSocket to this object (the bridge), so an idle stream costs nothing.
 */
export class StreamLog extends DurableObject<Env> {
  private meta: Meta | undefined;
  private readonly sql: SqlStorage;
  private readonly segments = new Map<string, StoredMessage[]>();
  private rotating: Promise<void> | undefined;
  /** Counts finished rotations, so a read that awaited R2 knows the hot log moved under it. */
  private rotations = 0;
  private creating: Promise<unknown> = Promise.resolve();
  /** Subscriptions that follow this stream (by pattern or by name); told the tail on each append. */
  private readonly watchers = new Set<string>();
  private appendsSeen = 0;
  private notifiedThrough = 0;
  private notifying: Promise<void> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, end_offset TEXT NOT NULL, data BLOB NOT NULL)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS messages_offset ON messages (end_offset)`);
    this.sql.exec(
      `CREATE TABLE IF NOT EXISTS segments (start_offset TEXT PRIMARY KEY, end_offset TEXT NOT NULL, key TEXT NOT NULL, messages INTEGER NOT NULL, bytes INTEGER NOT NULL)`,
    );
    this.sql.exec(`CREATE TABLE IF NOT EXISTS producers (id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL, updated INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS watchers (subscription TEXT PRIMARY KEY)`);
    for (const row of this.sql.exec<{ subscription: string }>("SELECT subscription FROM watchers")) this.watchers.add(row.subscription);
    this.meta = ctx.storage.kv.get<Meta>("meta");
  }

  /** The stream's path (its object's name). */
  private get path(): string | undefined {
    return this.ctx.id.name;
  }

  // ── RPC used by the Worker's protocol handler ─────────────────────────────────────────

  async head(authorized: boolean): Promise<StreamInfo | Refusal> {
    const meta = await this.current();
    if (!meta) return NOT_FOUND();
    if (meta.softDeleted) return GONE();
    if (!authorized && !meta.public) return privateStream();
    return info(meta);
  }

  async create(input: CreateInput): Promise<(Reply & { created: boolean }) | Refusal> {
    // Creation awaits the fork source; two PUTs of one name must not interleave.
    const run = this.creating.then(() => this.createNow(input));
    this.creating = run.catch(() => undefined);
    try {
      return await run;
    } catch (error) {
      if (error instanceof HttpError) return refusal(error);
      throw error;
    }
  }

  async append(input: AppendInput): Promise<Reply | Refusal> {
    try {
      const reply = await this.appendNow(input);
      // A watched stream answers once its subscriptions know the new tail, so a consumer
      // that hears of the append can claim and acknowledge it at once.
      if (reply.wrote) {
        await this.registerOnce();
        await this.notifyWatchers();
      }
      return { status: reply.status, headers: reply.headers };
    } catch (error) {
      if (error instanceof HttpError) return refusal(error);
      throw error;
    }
  }

  /** Reads from `offset` (`-1`, `now` or a concrete offset), at most about `maxBytes`. */
  async read(offset: string, maxBytes: number, authorized: boolean): Promise<ReadResult | Refusal> {
    const meta = await this.current();
    if (!meta) return NOT_FOUND();
    if (meta.softDeleted) return GONE();
    if (!authorized && !meta.public) return privateStream();
    this.touch(meta);
    if (offset === "now") return { info: info(meta), messages: [], next: meta.tail, upToDate: true };
    const after = offset === "-1" ? ZERO_OFFSET : offset;
    const { messages, complete } = await this.collect(after, undefined, maxBytes);
    const latest = this.meta ?? meta;
    return { info: info(latest), messages, next: messages.at(-1)?.offset ?? latest.tail, upToDate: complete };
  }

  async remove(): Promise<Reply | Refusal> {
    const meta = await this.current();
    if (!meta) return NOT_FOUND();
    if (meta.softDeleted) return GONE();
    await this.discard(meta);
    return { status: 204, headers: {} };
  }

  /**
   * Appends one JSON value as one message, creating the stream first as a public
   * `application/json` stream when it does not exist (or has expired). This is how other
   * parts of the Worker (the scheduler's `{"stream": ...}` targets) write to a stream without
   * going through HTTP or auth. An array is appended as one message holding that array.
   * Throws if the stream is closed, was deleted while forks remain, or has another type,
   * and with `create: false` if it does not exist. `expiresAt` (ISO) goes to a stream this
   * call creates, as `Stream-Expires-At` would.
   */
  async appendJson(value: unknown, options: { create?: boolean; expiresAt?: string } = {}): Promise<{ offset: string }> {
    let meta = await this.current();
    if (!meta && options.create === false) throw new Error("No such stream.");
    if (!meta) {
      const input: CreateInput = { contentType: "application/json", closed: false, public: true, body: new Uint8Array(0) };
      if (options.expiresAt !== undefined) input.expiresAt = options.expiresAt;
      const made = await this.create(input);
      if ("refused" in made) throw new Error(made.refused.message);
      meta = this.meta!;
    }
    const body = new TextEncoder().encode(JSON.stringify([value]));
    const reply = await this.append({ body, contentType: "application/json", close: false });
    if ("refused" in reply) throw new Error(reply.refused.message);
    return { offset: reply.headers["Stream-Next-Offset"]! };
  }

  // ── RPC between streams: forks ────────────────────────────────────────────────────────

  /** A fork asks its source to pin the data up to `forkOffset` (reference counted). */
  async acquireFork(request: { forkOffset?: string; forkSubOffset?: number; contentType?: string; access?: SourceAccess }): Promise<ForkGrant | Refusal> {
    const meta = await this.current();
    if (!meta) return json(404, "source_not_found", "The source stream does not exist.");
    if (meta.softDeleted) return json(409, "source_deleted", "The source stream was deleted but still has active forks.");
    if (!meta.public && request.access?.refusal) return request.access.refusal;
    if (!meta.public && request.access?.public) {
      return json(403, "fork_not_public", "A fork of a private stream is private: create it without ?public=true.");
    }
    if (request.contentType !== undefined && mediaType(request.contentType) !== mediaType(meta.contentType)) {
      return json(409, "content_type_mismatch", "The fork's content type differs from its source's.");
    }
    const forkOffset = request.forkOffset ?? meta.tail;
    if (forkOffset < ZERO_OFFSET || meta.tail < forkOffset) {
      return json(400, "invalid_fork_offset", "The fork offset is beyond the source stream's length.");
    }
    let prefix: Uint8Array | undefined;
    if (request.forkSubOffset && request.forkSubOffset > 0) {
      const { messages } = await this.collect(forkOffset, undefined, 1);
      const first = messages[0];
      if (!first) return json(400, "invalid_fork_sub_offset", "There is no message at the fork offset to split.");
      if (isJsonType(meta.contentType)) {
        const text = new TextDecoder().decode(first.data);
        const values = JSON.parse(`[${text.endsWith(",") ? text.slice(0, -1) : text}]`) as unknown[];
        if (request.forkSubOffset > values.length) return json(400, "invalid_fork_sub_offset", "The sub-offset passes the message's values.");
        prefix = new TextEncoder().encode(values.slice(0, request.forkSubOffset).map((v) => JSON.stringify(v)).join(",") + ",");
      } else {
        if (request.forkSubOffset > first.data.byteLength) return json(400, "invalid_fork_sub_offset", "The sub-offset passes the message's bytes.");
        prefix = first.data.slice(0, request.forkSubOffset);
      }
    }
    const latest = this.meta!;
    latest.refCount += 1;
    this.save(latest);
    const grant: ForkGrant = { contentType: latest.contentType, forkOffset };
    if (latest.ttlSeconds !== undefined) grant.ttlSeconds = latest.ttlSeconds;
    if (latest.expiresAt !== undefined) grant.expiresAt = latest.expiresAt;
    if (prefix) grant.prefix = prefix;
    return grant;
  }

  /** A fork is gone for good: unpin, and finish a deferred delete of this stream. */
  async releaseFork(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    meta.refCount = Math.max(0, meta.refCount - 1);
    this.save(meta);
    if (meta.refCount === 0 && (meta.softDeleted || this.expired(meta))) await this.wipe();
  }

  /** Messages after `after` up to and including `cap`, for a fork reading through its source. */
  async readRange(after: string, cap: string, maxBytes: number): Promise<Collected> {
    if (!this.meta) return { messages: [], complete: true };
    return this.collect(after, cap, maxBytes);
  }

  // ── RPC from subscriptions ────────────────────────────────────────────────────────────

  /** A subscription follows this stream from now on; answers the tail, or null if there is no stream. */
  async watch(subscription: string): Promise<{ tail: string | null }> {
    this.addWatcher(subscription);
    const meta = await this.current();
    return { tail: meta && !meta.softDeleted ? meta.tail : null };
  }

  unwatch(subscription: string): void {
    this.watchers.delete(subscription);
    this.sql.exec("DELETE FROM watchers WHERE subscription = ?", subscription);
  }

  // ── the bridge: live readers in the Worker hold a hibernatable socket each ───────────

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 426 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    if (!this.meta || this.meta.softDeleted) server.close(STREAM_GONE, "stream gone");
    return new Response(null, { status: 101, webSocket: client });
  }

  override webSocketMessage(): void {
    // Readers only listen.
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
    } catch {
      // Already closed.
    }
  }

  // ── expiry ────────────────────────────────────────────────────────────────────────────

  override async alarm(): Promise<void> {
    if (this.ctx.storage.kv.get<number>("notify-retry") !== undefined) {
      this.ctx.storage.kv.delete("notify-retry");
      await this.notifyWatchers();
    }
    const meta = this.meta;
    if (meta && !meta.softDeleted && this.expired(meta)) await this.discard(meta);
    await this.setAlarm();
  }

  /** One alarm serves expiry and retries of subscription notices: it is set to the sooner. */
  private async setAlarm(): Promise<void> {
    const meta = this.meta;
    const expiry = meta && !meta.softDeleted ? expiryTime(meta) : undefined;
    const retry = this.ctx.storage.kv.get<number>("notify-retry");
    const next = Math.min(expiry ?? Infinity, retry ?? Infinity);
    if (next === Infinity) await this.ctx.storage.deleteAlarm();
    else await this.ctx.storage.setAlarm(next);
  }

  /** Resolves once a rotation in progress has finished (tests and benchmarks wait on it). */
  async settled(): Promise<{ segments: number; hotBytes: number }> {
    while (this.rotating) await this.rotating;
    const row = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM segments").one();
    return { segments: row.n, hotBytes: this.meta?.hotBytes ?? 0 };
  }

  // ── internals ─────────────────────────────────────────────────────────────────────────

  /** The live stream, after enforcing expiry (an alarm may not have fired yet). */
  private async current(): Promise<Meta | undefined> {
    const meta = this.meta;
    if (meta && !meta.softDeleted && this.expired(meta)) await this.discard(meta);
    return this.meta;
  }

  private expired(meta: Meta): boolean {
    const at = expiryTime(meta);
    return at !== undefined && Date.now() >= at;
  }

  /** Ends a stream: wiped at once, or kept hidden for reading while forks still depend on it. */
  private async discard(meta: Meta): Promise<void> {
    if (meta.refCount > 0) {
      meta.softDeleted = true;
      this.save(meta);
      this.closeBridges();
    } else {
      await this.wipe();
    }
    await this.forgetWatchers();
  }

  private async createNow(input: CreateInput): Promise<(Reply & { created: boolean }) | Refusal> {
    const existing = await this.current();
    if (existing) {
      if (existing.softDeleted) {
        return json(409, "stream_has_forks", "The stream was deleted but still has active forks; the name cannot be reused until they are removed.");
      }
      const same =
        (mediaType(input.contentType) || "application/octet-stream") === mediaType(existing.contentType) &&
        input.ttlSeconds === existing.ttlSeconds &&
        input.expiresAt === existing.expiresAt &&
        input.closed === existing.closed &&
        input.public === existing.public &&
        input.forkedFrom === existing.forkedFrom &&
        (input.forkOffset === undefined || input.forkOffset === existing.forkOffset) &&
        (input.forkSubOffset ?? 0) === (existing.forkSubOffset ?? 0);
      if (!same) return json(409, "stream_exists", "A stream with this name exists with a different configuration.");
      return { created: false, ...created(existing, 200) };
    }

    let grant: ForkGrant | undefined;
    if (input.forkedFrom !== undefined) {
      const source = this.env.STREAMS.getByName(input.forkedFrom);
      const answer = await source.acquireFork({
        ...(input.forkOffset !== undefined && { forkOffset: input.forkOffset }),
        ...(input.forkSubOffset !== undefined && { forkSubOffset: input.forkSubOffset }),
        ...(input.contentType !== undefined && { contentType: input.contentType }),
        ...(input.sourceAccess !== undefined && { access: input.sourceAccess }),
      });
      if ("refused" in answer) return answer as Refusal;
      grant = answer as ForkGrant;
    }
    const contentType = input.contentType ?? grant?.contentType ?? "application/octet-stream";
    let first: Uint8Array;
    try {
      first = isJsonType(contentType) ? jsonFragment(input.body, true) : input.body;
    } catch (error) {
      if (grant) await this.env.STREAMS.getByName(input.forkedFrom!).releaseFork();
      throw error;
    }

    // Subscriptions whose pattern matches a new stream follow it from its first byte.
    if (this.path !== undefined) await this.register(this.path);

    const meta: Meta = {
      generation: crypto.randomUUID(),
      contentType,
      lastAccessedAt: Date.now(),
      closed: input.closed,
      public: input.public,
      tail: grant?.forkOffset ?? ZERO_OFFSET,
      refCount: 0,
      softDeleted: false,
      hotBytes: 0,
      registered: this.path !== undefined,
    };
    // A fork's lifetime is its own if given, else the source's (never capped by it).
    const ttl = input.ttlSeconds ?? (input.expiresAt === undefined ? grant?.ttlSeconds : undefined);
    const expires = input.expiresAt ?? (input.ttlSeconds === undefined && grant?.ttlSeconds === undefined ? grant?.expiresAt : undefined);
    if (ttl !== undefined) meta.ttlSeconds = ttl;
    if (expires !== undefined) meta.expiresAt = expires;
    this.clearLog();
    if (grant) {
      meta.forkedFrom = input.forkedFrom!;
      meta.forkOffset = grant.forkOffset;
      if (grant.prefix) {
        this.writeMessage(meta, grant.prefix);
        meta.forkSubOffset = input.forkSubOffset!;
      }
    }
    if (first.byteLength > 0) this.writeMessage(meta, first);
    this.meta = meta;
    this.save(meta);
    await this.setAlarm();
    await this.notifyWatchers();
    return { created: true, ...created(meta, 201) };
  }

  /** `wrote` says whether the tail moved (subscriptions are told only then). */
  private async appendNow(input: AppendInput): Promise<Reply & { wrote?: boolean }> {
    const meta = await this.current();
    if (!meta) throw new HttpError(404, "not_found", "No such stream.");
    if (meta.softDeleted) throw new HttpError(410, "stream_gone", "The stream was deleted.");
    const { producer } = input;
    const closeOnly = input.close && input.body.byteLength === 0;

    if (meta.closed) {
      const by = meta.closedBy;
      if (producer && by && by.producerId === producer.id && by.epoch === producer.epoch && by.seq === producer.seq) {
        return { status: 204, headers: { ...producerHeaders(producer.epoch, producer.seq), "Stream-Next-Offset": meta.tail, "Stream-Closed": "true" } };
      }
      // Closing again is idempotent; only writes to a closed stream are refused.
      if (closeOnly && !producer) return { status: 204, headers: { "Stream-Next-Offset": meta.tail, "Stream-Closed": "true" } };
      throw new HttpError(409, "stream_closed", "The stream is closed.", { "Stream-Closed": "true", "Stream-Next-Offset": meta.tail });
    }
    if (!closeOnly && input.contentType !== undefined && mediaType(input.contentType) !== mediaType(meta.contentType)) {
      throw new HttpError(409, "content_type_mismatch", `This stream holds ${meta.contentType}.`);
    }

    let accepted: Producer | undefined;
    if (producer) {
      const verdict = this.checkProducer(producer);
      if (verdict.kind === "duplicate") {
        return { status: 204, headers: producerHeaders(producer.epoch, verdict.lastSeq) };
      }
      if (verdict.kind === "stale") {
        throw new HttpError(403, "stale_producer_epoch", "A newer epoch of this producer exists.", { "Producer-Epoch": String(verdict.currentEpoch) });
      }
      if (verdict.kind === "bad_epoch_seq") {
        throw new HttpError(400, "invalid_producer_seq", "A new producer epoch must start at sequence 0.");
      }
      if (verdict.kind === "gap") {
        throw new HttpError(409, "producer_sequence_gap", `Expected Producer-Seq ${verdict.expected}.`, {
          "Producer-Expected-Seq": String(verdict.expected),
          "Producer-Received-Seq": String(producer.seq),
        });
      }
      accepted = producer;
    }
    if (!closeOnly && input.seq !== undefined && meta.lastSeq !== undefined && input.seq <= meta.lastSeq) {
      throw new HttpError(409, "sequence_conflict", `Stream-Seq must grow past ${meta.lastSeq}.`);
    }

    const after = meta.tail;
    const data = closeOnly ? undefined : isJsonType(meta.contentType) ? jsonFragment(input.body, false) : input.body;
    if (data) this.writeMessage(meta, data);
    if (accepted) {
      this.sql.exec(
        "INSERT OR REPLACE INTO producers (id, epoch, last_seq, updated) VALUES (?, ?, ?, ?)",
        accepted.id,
        accepted.epoch,
        accepted.seq,
        Date.now(),
      );
    }
    if (input.seq !== undefined && !closeOnly) meta.lastSeq = input.seq;
    if (input.close) {
      meta.closed = true;
      if (accepted) meta.closedBy = { producerId: accepted.id, epoch: accepted.epoch, seq: accepted.seq };
    }
    meta.lastAccessedAt = Date.now();
    this.save(meta);

    const frame: BridgeFrame | undefined = data
      ? { type: "append", after, messages: [{ offset: meta.tail, data: toBase64(data) }], closed: meta.closed }
      : input.close
        ? { type: "closed", offset: meta.tail }
        : undefined;
    if (frame) this.broadcast(frame);
    this.maybeRotate(meta);

    const headers: Record<string, string> = { "Stream-Next-Offset": meta.tail };
    if (accepted) Object.assign(headers, producerHeaders(accepted.epoch, accepted.seq));
    if (input.close) headers["Stream-Closed"] = "true";
    return { status: producer && !closeOnly ? 200 : 204, headers, wrote: data !== undefined };
  }

  private checkProducer(
    producer: Producer,
  ):
    | { kind: "accepted" }
    | { kind: "duplicate"; lastSeq: number }
    | { kind: "stale"; currentEpoch: number }
    | { kind: "bad_epoch_seq" }
    | { kind: "gap"; expected: number } {
    this.sql.exec("DELETE FROM producers WHERE updated < ?", Date.now() - PRODUCER_TTL_MS);
    const state = this.sql
      .exec<{ epoch: number; last_seq: number }>("SELECT epoch, last_seq FROM producers WHERE id = ?", producer.id)
      .toArray()[0];
    if (!state) return producer.seq === 0 ? { kind: "accepted" } : { kind: "gap", expected: 0 };
    if (producer.epoch < state.epoch) return { kind: "stale", currentEpoch: state.epoch };
    if (producer.epoch > state.epoch) return producer.seq === 0 ? { kind: "accepted" } : { kind: "bad_epoch_seq" };
    if (producer.seq <= state.last_seq) return { kind: "duplicate", lastSeq: state.last_seq };
    if (producer.seq === state.last_seq + 1) return { kind: "accepted" };
    return { kind: "gap", expected: state.last_seq + 1 };
  }

  private addWatcher(subscription: string): void {
    if (this.watchers.has(subscription)) return;
    this.watchers.add(subscription);
    this.sql.exec("INSERT OR IGNORE INTO watchers (subscription) VALUES (?)", subscription);
  }

  /**
   * Tells every watching subscription the current tail. Concurrent appends share rounds: a
   * caller waits for the first round that began after its append, so it never waits on
   * appends that came later. A subscription that cannot be reached is retried by alarm;
   * the append itself has already been stored either way.
   */
  private async notifyWatchers(): Promise<void> {
    if (this.watchers.size === 0) return;
    const mine = ++this.appendsSeen;
    while (this.notifiedThrough < mine) {
      if (!this.notifying) {
        const through = this.appendsSeen;
        this.notifying = this.sendTail().finally(() => {
          this.notifiedThrough = Math.max(this.notifiedThrough, through);
          this.notifying = undefined;
        });
      }
      await this.notifying;
    }
  }

  private async sendTail(): Promise<void> {
    const path = this.path;
    const meta = this.meta;
    if (path === undefined || !meta || meta.softDeleted) return;
    let failed = false;
    await Promise.all(
      [...this.watchers].map(async (id) => {
        try {
          if (!(await this.env.SUBSCRIPTIONS.getByName(id).streamChanged(path, meta.tail))) this.unwatch(id);
        } catch (error) {
          failed = true;
          console.warn(`stream ${path}: could not tell subscription ${id} of an append: ${(error as Error).message}`);
        }
      }),
    );
    if (failed) {
      this.ctx.storage.kv.put("notify-retry", Date.now() + NOTIFY_RETRY_MS);
      await this.setAlarm();
    }
  }

  /**
   * A stream made before the subscription registry existed registers on its first append, so
   * pattern subscriptions find it from then on. A registry that cannot be reached is asked
   * again on the next append; the append itself is stored either way.
   */
  private async registerOnce(): Promise<void> {
    const meta = this.meta;
    const path = this.path;
    if (!meta || meta.registered || path === undefined) return;
    try {
      await this.register(path);
      meta.registered = true;
      this.save(meta);
    } catch (error) {
      console.warn(`stream ${path}: could not register with the subscription registry: ${(error as Error).message}`);
    }
  }

  /** Tells the registry this stream exists, and adopts the subscriptions whose pattern matches it. */
  private async register(path: string): Promise<void> {
    for (const id of await registryForStream(this.env, path).streamCreated(path)) this.addWatcher(id);
  }

  /** The stream is gone: the registry forgets it, and its subscriptions drop their links. */
  private async forgetWatchers(): Promise<void> {
    const path = this.path;
    if (path === undefined) return;
    const watchers = [...this.watchers];
    this.watchers.clear();
    this.sql.exec("DELETE FROM watchers");
    this.ctx.storage.kv.delete("notify-retry");
    try {
      await Promise.all([
        registryForStream(this.env, path).streamRemoved(path),
        ...watchers.map((id) => this.env.SUBSCRIPTIONS.getByName(id).streamGone(path)),
      ]);
    } catch (error) {
      // A subscription that missed this drops the link when the path is appended to again.
      console.warn(`stream ${path}: could not tell subscriptions it is gone: ${(error as Error).message}`);
    }
  }

  private writeMessage(meta: Meta, data: Uint8Array): void {
    const offset = advance(meta.tail, data.byteLength);
    this.sql.exec("INSERT INTO messages (end_offset, data) VALUES (?, ?)", offset, data);
    meta.tail = offset;
    meta.hotBytes += data.byteLength;
  }

  /** Reads a fork's inherited range first (from its source chain), then this stream's own. */
  private async collect(after: string, cap: string | undefined, maxBytes: number): Promise<Collected> {
    const meta = this.meta;
    if (!meta) return { messages: [], complete: true };
    const messages: StoredMessage[] = [];
    let from = after;
    if (meta.forkedFrom !== undefined && meta.forkOffset !== undefined && from < meta.forkOffset) {
      const limit = cap !== undefined && cap < meta.forkOffset ? cap : meta.forkOffset;
      const inherited = await this.env.STREAMS.getByName(meta.forkedFrom).readRange(from, limit, maxBytes);
      messages.push(...inherited.messages);
      if (!inherited.complete || limit !== meta.forkOffset) return { messages, complete: inherited.complete };
      from = meta.forkOffset;
    }
    const used = messages.reduce((sum, m) => sum + m.data.byteLength, 0);
    const own = await this.collectOwn(from, cap, Math.max(1, maxBytes - used));
    messages.push(...own.messages);
    return { messages, complete: own.complete };
  }

  private async collectOwn(after: string, cap: string | undefined, maxBytes: number): Promise<Collected> {
    const messages: StoredMessage[] = [];
    let bytes = 0;
    let cursor = after;
    const generation = this.meta?.generation;
    // Returns true when the read must stop here (past the cap, or enough bytes).
    const take = (message: StoredMessage): "past" | "full" | "more" => {
      if (message.offset <= cursor) return "more";
      if (cap !== undefined && message.offset > cap) return "past";
      messages.push(message);
      bytes += message.data.byteLength;
      cursor = message.offset;
      return bytes >= maxBytes ? "full" : "more";
    };
    for (;;) {
      const version = this.rotations;
      const cold = this.sql
        .exec<SegmentRow>("SELECT start_offset, end_offset, key FROM segments WHERE end_offset > ? ORDER BY start_offset", cursor)
        .toArray();
      for (const segment of cold) {
        if (cap !== undefined && segment.start_offset >= cap) return { messages, complete: true };
        for (const message of await this.loadSegment(segment)) {
          const verdict = take(message);
          if (verdict === "past") return { messages, complete: true };
          if (verdict === "full") return { messages, complete: this.atEnd(cursor, cap) };
        }
        if (this.meta?.generation !== generation) return { messages, complete: true };
      }
      if (this.rotations !== version) continue; // Hot rows moved to R2 while we read R2.
      for (const row of this.sql.exec<{ end_offset: string; data: ArrayBuffer }>(
        "SELECT end_offset, data FROM messages WHERE end_offset > ? ORDER BY seq",
        cursor,
      )) {
        const verdict = take({ offset: row.end_offset, data: new Uint8Array(row.data) });
        if (verdict === "past") return { messages, complete: true };
        if (verdict === "full") return { messages, complete: this.atEnd(cursor, cap) };
      }
      return { messages, complete: true };
    }
  }

  private atEnd(cursor: string, cap: string | undefined): boolean {
    return cursor === (cap ?? this.meta?.tail) || (cap !== undefined && cursor === this.meta?.tail);
  }

  private async loadSegment(segment: SegmentRow): Promise<StoredMessage[]> {
    const cached = this.segments.get(segment.key);
    if (cached) return cached;
    const object = await this.env.STREAM_SEGMENTS.get(segment.key);
    if (!object) throw new Error(`segment ${segment.key} is missing from R2`);
    const messages = decodeSegment(new Uint8Array(await object.arrayBuffer()), segment.start_offset);
    this.segments.set(segment.key, messages);
    if (this.segments.size > SEGMENT_CACHE) this.segments.delete(this.segments.keys().next().value!);
    return messages;
  }

  private hotLimit(): number {
    const configured = Number(this.env.STREAMS_HOT_BYTES);
    return Number.isFinite(configured) && configured > 0 ? configured : DEFAULT_HOT_BYTES;
  }

  private maybeRotate(meta: Meta): void {
    if (this.rotating || meta.hotBytes <= this.hotLimit()) return;
    this.rotating = this.rotate(meta.generation)
      .catch((error: unknown) => console.error("segment rotation failed", error))
      .finally(() => {
        this.rotating = undefined;
      });
  }

  /** Moves the oldest hot messages into one R2 segment, leaving about half the limit hot. */
  private async rotate(generation: string): Promise<void> {
    const meta = this.meta;
    if (!meta || meta.generation !== generation) return;
    const keep = this.hotLimit() / 2;
    const moving: { seq: number; end_offset: string; data: Uint8Array }[] = [];
    let moved = 0;
    for (const row of this.sql.exec<{ seq: number; end_offset: string; data: ArrayBuffer }>(
      "SELECT seq, end_offset, data FROM messages ORDER BY seq",
    )) {
      if (meta.hotBytes - moved <= keep) break;
      moving.push({ seq: row.seq, end_offset: row.end_offset, data: new Uint8Array(row.data) });
      moved += row.data.byteLength;
    }
    const first = moving[0];
    const last = moving.at(-1);
    if (!first || !last) return;
    const start = startOf(first.end_offset, first.data.byteLength);
    const key = segmentKey(this.ctx.id.toString(), generation, start, last.end_offset);
    await this.env.STREAM_SEGMENTS.put(key, encodeSegment(moving.map((m) => m.data)));
    const now = this.meta;
    if (!now || now.generation !== generation) {
      await this.env.STREAM_SEGMENTS.delete(key);
      return;
    }
    this.sql.exec(
      "INSERT INTO segments (start_offset, end_offset, key, messages, bytes) VALUES (?, ?, ?, ?, ?)",
      start,
      last.end_offset,
      key,
      moving.length,
      moved,
    );
    this.sql.exec("DELETE FROM messages WHERE seq <= ?", last.seq);
    now.hotBytes -= moved;
    this.save(now);
    this.rotations += 1;
  }

  private touch(meta: Meta): void {
    if (meta.ttlSeconds === undefined) return;
    meta.lastAccessedAt = Date.now();
    this.save(meta);
  }

  private save(meta: Meta): void {
    this.ctx.storage.kv.put("meta", meta);
  }

  private clearLog(): void {
    this.sql.exec("DELETE FROM messages");
    this.sql.exec("DELETE FROM segments");
    this.sql.exec("DELETE FROM producers");
    this.segments.clear();
  }

  /** Removes the stream for good: its log, its segments, its alarm; unpins its source. */
  private async wipe(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    this.meta = undefined;
    this.clearLog();
    this.ctx.storage.kv.delete("meta");
    await this.ctx.storage.deleteAlarm();
    this.closeBridges();
    const prefix = generationPrefix(this.ctx.id.toString(), meta.generation);
    this.ctx.waitUntil(this.deleteSegments(prefix));
    if (meta.forkedFrom !== undefined) await this.env.STREAMS.getByName(meta.forkedFrom).releaseFork();
  }

  private async deleteSegments(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.env.STREAM_SEGMENTS.list({ prefix, ...(cursor !== undefined && { cursor }) });
      if (page.objects.length > 0) await this.env.STREAM_SEGMENTS.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }

  private broadcast(frame: BridgeFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // A reader that went away; its close event tidies up.
      }
    }
  }

  private closeBridges(): void {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(STREAM_GONE, "stream gone");
      } catch {
        // Already closed.
      }
    }
  }
}

function info(meta: Meta): StreamInfo {
  const out: StreamInfo = { contentType: meta.contentType, tail: meta.tail, closed: meta.closed, public: meta.public };
  if (meta.ttlSeconds !== undefined) out.ttlSeconds = meta.ttlSeconds;
  if (meta.expiresAt !== undefined) out.expiresAt = meta.expiresAt;
  return out;
}

function created(meta: Meta, status: number): Reply {
  const headers: Record<string, string> = { "Content-Type": meta.contentType, "Stream-Next-Offset": meta.tail };
  if (meta.closed) headers["Stream-Closed"] = "true";
  return { status, headers };
}

function expiryTime(meta: Meta): number | undefined {
  let at: number | undefined;
  if (meta.expiresAt !== undefined) {
    const t = Date.parse(meta.expiresAt);
    at = Number.isFinite(t) ? t : 0;
  }
  if (meta.ttlSeconds !== undefined) {
    const t = meta.lastAccessedAt + meta.ttlSeconds * 1000;
    at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}

const producerHeaders = (epoch: number, seq: number) => ({ "Producer-Epoch": String(epoch), "Producer-Seq": String(seq) });

/** What a read of a private stream without a read token gets. */
export const privateStream = () =>
  json(401, "unauthorized", "This stream is private: send a read token as Authorization: Bearer.", { "WWW-Authenticate": 'Bearer realm="streams"' });

/** The offset just before a message that ends at `end` and holds `bytes` bytes. */
function startOf(end: string, bytes: number): string {
  const [seq = "0", position = "0"] = end.split("_");
  return `${seq}_${String(Number(position) - bytes - 5).padStart(16, "0")}`;
}
