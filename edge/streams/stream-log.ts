import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { carryRefusals, unwrap, type Carried } from "../http/refusal.ts";
import { Alarm } from "../storage/alarm.ts";
import { Database } from "../storage/database.ts";
import { acceptBridge, answerClose, broadcast, closeBridges } from "./bridge.ts";
import { GroupCommit } from "./group-commit.ts";
import { forkLifetime, grantFork, readThroughSource, type ForkGrant, type ForkRequest, type SourceAccess } from "./forks.ts";
import { isJsonType, jsonFragment, mediaType } from "./json-mode.ts";
import { LogStorage, type Collected } from "./log-storage.ts";
import { LoadCounter, type ObjectLoad } from "./object-load.ts";
import { ZERO_OFFSET, incarnationOffset, offsetParts } from "./offsets.ts";
import { Producers, retriesClose, type Producer } from "./producers.ts";
import { privateStream, refuse } from "./refusals.ts";
import { STREAM_LOG_MIGRATIONS } from "./schema.ts";
import type { StoredMessage } from "./segments.ts";
import { StreamRecord, expiryTime, info, isExpired, type Meta, type StreamInfo } from "./stream-state.ts";
import { Watchers } from "./watchers.ts";
import { Listing } from "../admin/directory.ts";
import { Figures } from "../admin/metrics.ts";

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

/** A create's outcome: a new stream, or the same one again (an idempotent repeat). */
export interface Created {
  created: boolean;
  info: StreamInfo;
}

export interface AppendInput {
  body: Uint8Array;
  contentType?: string;
  seq?: string;
  close: boolean;
  producer?: Producer;
  /** The Worker has other appends to this stream under way: worth gathering into one commit (group-commit.ts). */
  company?: boolean;
}

/** An append's outcome. */
export interface Appended {
  /** The tail after the append; absent on a producer's duplicate, which answers only its sequence. */
  tail?: string;
  /** The stream is closed (by this append, or it was already and this was a repeat of the close). */
  closed: boolean;
  /** The producer's epoch and the sequence this answers for. */
  producer?: { epoch: number; seq: number };
  /** An idempotent producer's new data was stored (rather than a duplicate, or a close alone). */
  producerStored: boolean;
}

export interface ReadResult {
  info: StreamInfo;
  messages: StoredMessage[];
  /** Where the next read starts: the last message's offset, or the tail when nothing was new. */
  next: string;
  upToDate: boolean;
}

/**
 * One Durable Streams stream: the single writer of its log. This file is its lifecycle and
 * RPC surface; the parts live beside it: the hot/cold log and R2 rotation (log-storage.ts),
 * idempotent producers (producers.ts), forks (forks.ts), the subscriptions that follow it
 * (watchers.ts) and the bridge to live readers (bridge.ts). Live readers wait in the Worker
 * on a hibernatable WebSocket to this object, so an idle stream costs nothing. The object
 * answers in its own terms (results, and refusals carried back as data); routes.ts speaks HTTP.
 */
export class StreamLog extends DurableObject<Env> {
  private readonly record: StreamRecord;
  private readonly log: LogStorage;
  private readonly producers: Producers;
  /** Subscriptions that follow this stream (by pattern or by name); told the tail on each append. */
  private readonly watchers: Watchers;
  /** Set to the sooner of the stream's expiry and a retry of a notice its subscriptions missed. */
  private readonly alarmClock: Alarm;
  private creating: Promise<unknown> = Promise.resolve();
  private readonly figures = new Figures(this.env, () => this.ctx.id.toString(), () => ({ feeds: this.ctx.getWebSockets().length }));
  private readonly listing = new Listing(this.env, "streams", () => this.ctx.id.name);
  /** What reached this object (requests, bridge sockets), for the fan-out tests and bench. */
  private readonly reached: LoadCounter;
  /** Concurrent appends share one commit (group-commit.ts). */
  private readonly commits = new GroupCommit(this.ctx.storage);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const db = new Database(ctx.storage, STREAM_LOG_MIGRATIONS);
    this.alarmClock = new Alarm(ctx.storage);
    this.record = new StreamRecord(ctx.storage.kv);
    this.log = new LogStorage(ctx, env, db, this.record);
    if (this.record.meta) this.log.catchUp(this.record.meta);
    this.producers = new Producers(db);
    this.watchers = new Watchers(ctx, env, db, this.record, () => this.setAlarm());
    this.reached = new LoadCounter(ctx, this.commits.counts);
  }

  private get meta(): Meta | undefined {
    return this.record.meta;
  }

  // ── RPC used by the Worker's protocol handler ─────────────────────────────────────────

  async head(authorized: boolean): Promise<StreamInfo | Carried> {
    this.reached.request();
    return carryRefusals(async () => info(this.readable(await this.existing(), authorized)));
  }

  async create(input: CreateInput): Promise<Created | Carried> {
    this.reached.request();
    // Creation awaits the fork source; two PUTs of one name must not interleave.
    const run = this.creating.then(() => this.createNow(input));
    this.creating = run.catch(() => undefined);
    return carryRefusals(() => run);
  }

  /**
   * Durability. An append is written synchronously (one row in the hot log; the `meta` entry
   * only when a close, a `Stream-Seq` or a TTL changes it) and answered at once: what keeps that
   * safe is the Durable Object output gate. The runtime holds everything the object sends (this
   * RPC's result, the frames `broadcast` sends to live readers) until the storage writes made
   * before it are confirmed: under `npm run serve` the SQLite COMMIT with its fsync, on
   * Cloudflare their replication. So neither the writer's 2xx nor a reader's SSE event leaves
   * before the data is committed.
   *
   * Appends that arrive together share one commit (group-commit.ts): the runtime commits after
   * the turn that wrote, before another request can reach the object, so the object gathers
   * the appends that come with company into one turn itself. It must be here, not in the
   * Worker: workerd refuses to settle one request's promise from another request's I/O.
   */
  async append(input: AppendInput): Promise<Appended | Carried> {
    this.reached.request();
    return carryRefusals(async () => {
      const { result, wrote } = await this.commits.run(() => this.appendNow(input), input.company ?? false);
      // A watched stream answers once its subscriptions know the new tail, so a consumer
      // that hears of the append can claim and acknowledge it at once.
      if (wrote) {
        this.figures.count("appends");
        this.listing.active();
        await this.watchers.registerOnce();
        await this.watchers.notify();
      }
      return result;
    });
  }

  /** Reads from `offset` (`-1`, `now` or a concrete offset), at most about `maxBytes`. */
  async read(offset: string, maxBytes: number, authorized: boolean): Promise<ReadResult | Carried> {
    this.reached.read();
    return carryRefusals(async () => {
      const meta = this.readable(await this.existing(), authorized);
      this.touch(meta);
      if (offset === "now") return { info: info(meta), messages: [], next: meta.tail, upToDate: true };
      const after = offset === "-1" ? ZERO_OFFSET : offset;
      const { messages, complete } = await this.collect(after, undefined, maxBytes);
      const latest = this.meta ?? meta;
      return { info: info(latest), messages, next: messages.at(-1)?.offset ?? latest.tail, upToDate: complete };
    });
  }

  /** For the console's list of streams: the stream as the owner sees it, or null when it is gone. */
  summary(): (StreamInfo & { bytes: number; readers: number }) | null {
    const meta = this.meta;
    if (!meta || meta.softDeleted || isExpired(meta)) return null;
    return { ...info(meta), bytes: Number(meta.tail.split("_")[1] ?? 0), readers: this.ctx.getWebSockets().length };
  }

  async remove(): Promise<{ removed: true } | Carried> {
    this.reached.request();
    return carryRefusals(async () => {
      await this.discard(await this.existing());
      return { removed: true } as const;
    });
  }

  /**
   * Appends one JSON value as one message, creating the stream first as a public
   * `application/json` stream when it does not exist (or has expired). This is how other
   * parts of the Worker (the scheduler's `{"stream": ...}` targets) write to a stream without
   * going through HTTP or auth. An array is appended as one message holding that array.
   * Throws the refusal (which reaches the caller as an Error with its message) if the stream
   * is closed, was deleted while forks remain, or has another type, and with `create: false`
   * if it does not exist. `expiresAt` (ISO) goes to a stream this
   * call creates, as `Stream-Expires-At` would.
   */
  async appendJson(value: unknown, options: { create?: boolean; expiresAt?: string } = {}): Promise<{ offset: string }> {
    const meta = await this.current();
    if (!meta && options.create === false) throw refuse("not_found", "No such stream.");
    if (!meta) {
      const input: CreateInput = { contentType: "application/json", closed: false, public: true, body: new Uint8Array(0) };
      if (options.expiresAt !== undefined) input.expiresAt = options.expiresAt;
      unwrap(await this.create(input));
    }
    const body = new TextEncoder().encode(JSON.stringify([value]));
    const appended = unwrap(await this.append({ body, contentType: "application/json", close: false }));
    return { offset: appended.tail! };
  }

  // ── RPC between streams: forks ────────────────────────────────────────────────────────

  /** A fork asks its source to pin the data up to `forkOffset` (reference counted). */
  async acquireFork(request: ForkRequest): Promise<ForkGrant | Carried> {
    return carryRefusals(async () => {
      const meta = await this.current();
      if (!meta) throw refuse("source_not_found", "The source stream does not exist.");
      const grant = await grantFork(meta, request, async (offset) => (await this.collect(offset, undefined, 1)).messages[0]);
      const latest = this.meta!;
      latest.refCount += 1;
      this.record.save(latest);
      return grant;
    });
  }

  /** A fork is gone for good: unpin, and finish a deferred delete of this stream. */
  async releaseFork(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    meta.refCount = Math.max(0, meta.refCount - 1);
    this.record.save(meta);
    if (meta.refCount === 0 && (meta.softDeleted || isExpired(meta))) await this.wipe();
  }

  /** Messages after `after` up to and including `cap`, for a fork reading through its source. */
  async readRange(after: string, cap: string, maxBytes: number): Promise<Collected> {
    if (!this.meta) return { messages: [], complete: true };
    return this.collect(after, cap, maxBytes);
  }

  // ── RPC from subscriptions ────────────────────────────────────────────────────────────

  /** A subscription follows this stream from now on; answers the tail, or null if there is no stream. */
  async watch(subscription: string): Promise<{ tail: string | null }> {
    this.watchers.add(subscription);
    const meta = await this.current();
    return { tail: meta && !meta.softDeleted ? meta.tail : null };
  }

  unwatch(subscription: string): void {
    this.watchers.remove(subscription);
  }

  // ── the bridge: live readers in the Worker hold a hibernatable socket each ───────────

  override async fetch(request: Request): Promise<Response> {
    this.figures.levelsChange();
    const response = acceptBridge(this.ctx, request, !this.meta || this.meta.softDeleted);
    this.reached.bridgeOpened();
    return response;
  }

  /** What reached this object since it started (the admin's load route, tests). */
  load(): ObjectLoad {
    return this.reached.now;
  }

  override webSocketMessage(): void {
    // Readers only listen.
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    answerClose(ws, code);
    this.figures.levelsChange();
  }

  // ── the alarm: expiry, and notices subscriptions missed ───────────────────────────────

  override async alarm(): Promise<void> {
    this.alarmClock.fired();
    await this.watchers.retry();
    const meta = this.meta;
    if (meta && !meta.softDeleted && isExpired(meta)) await this.discard(meta);
    await this.setAlarm();
  }

  private async setAlarm(): Promise<void> {
    const meta = this.meta;
    await this.alarmClock.setToEarliest(meta && !meta.softDeleted ? expiryTime(meta) : undefined, this.watchers.retryAt);
  }

  /** Resolves once a rotation in progress has finished (tests and benchmarks wait on it). */
  async settled(): Promise<{ segments: number; hotBytes: number }> {
    const segments = await this.log.settled();
    return { segments, hotBytes: this.meta?.hotBytes ?? 0 };
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────

  /** The stream a call on it needs; refused if there is none, or it was deleted while forks remain. */
  private async existing(gone = "The stream was deleted; forks of it still read its data."): Promise<Meta> {
    const meta = await this.current();
    if (!meta) throw refuse("not_found", "No such stream.");
    if (meta.softDeleted) throw refuse("stream_gone", gone);
    return meta;
  }

  /** A private stream is read only with a read token. */
  private readable(meta: Meta, authorized: boolean): Meta {
    if (!authorized && !meta.public) throw privateStream();
    return meta;
  }

  /** The live stream, after enforcing expiry (an alarm may not have fired yet). */
  private async current(): Promise<Meta | undefined> {
    const meta = this.meta;
    if (meta && !meta.softDeleted && isExpired(meta)) await this.discard(meta);
    return this.meta;
  }

  /** Ends a stream: wiped at once, or kept hidden for reading while forks still depend on it. */
  private async discard(meta: Meta): Promise<void> {
    if (meta.refCount > 0) {
      meta.softDeleted = true;
      this.record.save(meta);
      closeBridges(this.ctx);
    } else {
      await this.wipe();
    }
    await this.watchers.forget();
  }

  private async createNow(input: CreateInput): Promise<Created> {
    const existing = await this.current();
    if (existing) {
      if (existing.softDeleted) {
        throw refuse("stream_has_forks", "The stream was deleted but still has active forks; the name cannot be reused until they are removed.");
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
      if (!same) throw refuse("stream_exists", "A stream with this name exists with a different configuration.");
      return { created: false, info: info(existing) };
    }

    let grant: ForkGrant | undefined;
    if (input.forkedFrom !== undefined) {
      const answer = await this.env.STREAMS.getByName(input.forkedFrom).acquireFork({
        ...(input.forkOffset !== undefined && { forkOffset: input.forkOffset }),
        ...(input.forkSubOffset !== undefined && { forkSubOffset: input.forkSubOffset }),
        ...(input.contentType !== undefined && { contentType: input.contentType }),
        ...(input.sourceAccess !== undefined && { access: input.sourceAccess }),
      });
      grant = unwrap(answer);
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
    await this.watchers.register();

    // A fork's own messages follow the fork offset's position on a read seq of their own, which
    // sorts after every offset it inherits.
    const start = grant ? offsetParts(grant.forkOffset) : { seq: 0, position: 0 };
    const incarnation = this.record.nextIncarnation(start.seq);
    const meta: Meta = {
      generation: crypto.randomUUID(),
      contentType,
      lastAccessedAt: Date.now(),
      closed: input.closed,
      public: input.public,
      tail: incarnationOffset(incarnation, start.position),
      refCount: 0,
      softDeleted: false,
      hotBytes: 0,
      registered: this.ctx.id.name !== undefined,
      ...forkLifetime(input, grant),
    };
    this.clearLog();
    if (grant) {
      meta.forkedFrom = input.forkedFrom!;
      meta.forkOffset = grant.forkOffset;
      if (grant.prefix) {
        this.log.write(meta, grant.prefix);
        meta.forkSubOffset = input.forkSubOffset!;
      }
    }
    if (first.byteLength > 0) this.log.write(meta, first);
    this.record.meta = meta;
    this.record.save(meta);
    this.listing.active();
    await this.setAlarm();
    await this.watchers.notify();
    return { created: true, info: info(meta) };
  }

  /** `wrote` says whether the tail moved (subscriptions are told only then). */
  private async appendNow(input: AppendInput): Promise<{ result: Appended; wrote: boolean }> {
    const meta = await this.existing("The stream was deleted.");
    const { producer } = input;
    const closeOnly = input.close && input.body.byteLength === 0;
    const unchanged = (result: Omit<Appended, "producerStored">) => ({ result: { ...result, producerStored: false }, wrote: false });

    if (meta.closed) {
      if (retriesClose(meta, producer)) {
        return unchanged({ tail: meta.tail, closed: true, producer: { epoch: producer.epoch, seq: producer.seq } });
      }
      // Closing again is idempotent; only writes to a closed stream are refused.
      if (closeOnly && !producer) return unchanged({ tail: meta.tail, closed: true });
      throw refuse("stream_closed", "The stream is closed.", { tail: meta.tail });
    }
    if (!closeOnly && input.contentType !== undefined && mediaType(input.contentType) !== mediaType(meta.contentType)) {
      throw refuse("content_type_mismatch", `This stream holds ${meta.contentType}.`);
    }

    if (producer) {
      const verdict = this.producers.check(producer);
      if (verdict.kind === "duplicate") return unchanged({ closed: false, producer: { epoch: producer.epoch, seq: verdict.lastSeq } });
    }
    if (!closeOnly && input.seq !== undefined && meta.lastSeq !== undefined && input.seq <= meta.lastSeq) {
      throw refuse("sequence_conflict", `Stream-Seq must grow past ${meta.lastSeq}.`);
    }

    const after = meta.tail;
    const data = closeOnly ? undefined : isJsonType(meta.contentType) ? jsonFragment(input.body, false) : input.body;
    if (data) this.log.write(meta, data);
    if (producer) this.producers.accept(producer);
    // The new tail is in the log's row; `meta` is saved only for what the row cannot say.
    let saved = false;
    if (input.seq !== undefined && !closeOnly) {
      meta.lastSeq = input.seq;
      saved = true;
    }
    if (input.close) {
      meta.closed = true;
      if (producer) meta.closedBy = { producerId: producer.id, epoch: producer.epoch, seq: producer.seq };
      saved = true;
    }
    meta.lastAccessedAt = Date.now();
    // Only a stream with a TTL expires by its last use.
    if (saved || meta.ttlSeconds !== undefined) this.record.save(meta);

    broadcast(this.ctx, after, meta.tail, data, meta.closed);
    this.log.maybeRotate(meta);

    const result: Appended = { tail: meta.tail, closed: input.close, producerStored: !!producer && !closeOnly };
    if (producer) result.producer = { epoch: producer.epoch, seq: producer.seq };
    return { result, wrote: data !== undefined };
  }

  /** Reads a fork's inherited range first (from its source chain), then this stream's own. */
  private async collect(after: string, cap: string | undefined, maxBytes: number): Promise<Collected> {
    const meta = this.meta;
    if (!meta) return { messages: [], complete: true };
    return readThroughSource(this.env, meta, this.log, after, cap, maxBytes);
  }

  private touch(meta: Meta): void {
    if (meta.ttlSeconds === undefined) return;
    meta.lastAccessedAt = Date.now();
    this.record.save(meta);
  }

  private clearLog(): void {
    this.log.clear();
    this.producers.clear();
  }

  /** Removes the stream for good: its log, its segments, its alarm; unpins its source. */
  private async wipe(): Promise<void> {
    const meta = this.meta;
    if (!meta) return;
    this.record.forget();
    this.clearLog();
    await this.alarmClock.setToEarliest(); // none: nothing is left to expire or retry
    closeBridges(this.ctx);
    this.log.deleteGeneration(meta.generation);
    if (meta.forkedFrom !== undefined) await this.env.STREAMS.getByName(meta.forkedFrom).releaseFork();
  }
}
