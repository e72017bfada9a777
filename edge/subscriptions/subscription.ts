import { DurableObject } from "cloudflare:workers";
import { directory } from "../admin/directory.ts";
import { backoffDelay, type Backoff } from "../backoff.ts";
import type { Env } from "../env.ts";
import { Refusal, carryRefusals, type Carried } from "../http/refusal.ts";
import { maxTokenLifetime, mintToken, verifyToken } from "../http/tokens.ts";
import { Alarm } from "../storage/alarm.ts";
import { Database, type Migration } from "../storage/database.ts";
import type { StreamFollower } from "../streams/followers.ts";
import { fromBase64, toBase64 } from "../streams/base64.ts";
import { CONCRETE_OFFSET, ZERO_OFFSET } from "../streams/offsets.ts";
import { globMatch } from "./glob.ts";
import { keyRegistry, registriesForPattern } from "./registry.ts";
import { checkWebhookUrl, signWebhook, type SigningKey } from "./webhooks.ts";

/**
 * One Durable Streams subscription (the protocol's reserved `__ds/subscriptions` API): the
 * streams it follows, how far its consumer has acknowledged each, and the wake in progress.
 *
 * A wake tells a consumer that linked streams hold unacknowledged data. A `webhook`
 * subscription POSTs it, signed with Ed25519, and the receiver acknowledges through the
 * callback URL (or answers `{"done":true}`). A `pull-wake` subscription appends a wake event
 * to its wake stream, and workers claim, acknowledge and release it. Each wake has a
 * generation; a token of an older generation is fenced (409 FENCED). A wake whose lease
 * runs out is taken back and offered again. Its methods answer in the protocol's terms, and
 * refuse with its codes (`FENCED`, `ALREADY_CLAIMED`...) carried back to the Worker.
 *
 * Streams tell this object their new tail on every append (see `Watchers.notify` in edge/streams/watchers.ts),
 * so it never reads a stream itself. Timers (lease expiry, delivery retries) are one alarm.
 */

export type SubscriptionType = "webhook" | "pull-wake";

export interface SubscriptionInput {
  type: SubscriptionType;
  pattern?: string;
  streams: string[];
  webhook?: { url: string };
  wake_stream?: string;
  lease_ttl_ms: number;
  description?: string;
}

/** A subscription as the protocol describes it. */
export type Description = Record<string, unknown>;

/** A create's outcome: a new subscription, or the same one confirmed again. */
export interface Created {
  created: boolean;
  description: Description;
}

/** A pull-wake worker's claim of the current wake. */
export interface Claimed {
  wake_id: string | null;
  generation: number;
  token: string;
  streams: StreamState[];
  lease_ttl_ms: number;
}

/** A consumer's acknowledgement; `next_wake` says whether a new wake began at once. */
export interface Acknowledged {
  ok: true;
  next_wake: boolean;
}

export interface WakeReport {
  wake_id?: unknown;
  generation?: unknown;
  acks?: unknown;
  done?: unknown;
}

interface Config extends SubscriptionInput {
  id: string;
  created_at: string;
  /** The input in canonical form: a PUT with the same one re-confirms, another is a 409. */
  canonical: string;
  /** Where the subscription was created; callback and JWKS URLs are built on it. */
  origin: string;
  /** Signs this subscription's callback tokens. */
  secret: string;
}

interface Wake {
  generation: number;
  wakeId: string | null;
  /** The worker holding a pull-wake claim. */
  holder: string | null;
  /** When the current lease runs out (set once a wake is delivered or claimed). */
  leaseUntil: number | null;
  /** The tails when the wake began: what a webhook's `{"done":true}` acknowledges. */
  snapshot: Record<string, string>;
  /** The stream whose append began the wake. */
  trigger: string | null;
  status: "active" | "failed";
  retryCount: number;
  /** When to (re)try delivering the wake: set before each attempt, so a lost attempt is retried. */
  nextAttemptAt: number | null;
}

/** A row of `links`: a stream this subscription follows, and how far its consumer has acknowledged it. */
interface LinkRow {
  path: string;
  explicit: number;
  glob: number;
  acked: string;
  tail: string;
}

export interface StreamState {
  path: string;
  link_type: "explicit" | "glob";
  acked_offset: string;
  tail_offset: string;
  has_pending: boolean;
}

/** Before the first offset: a stream linked by a pattern when it was created has all of it pending. */
const BEFORE_FIRST = "-1";
const TOKEN_LIFETIME_S = 3600;
const DELIVERY_TIMEOUT_MS = 10_000;
/** Waits between delivery attempts of a wake: from a second, doubling, up to a minute, each ±20 %. */
const DELIVERY_BACKOFF: Backoff = { baseMs: 1_000, maxMs: 60_000, jitter: [0.8, 1.2] };
const LINK_BATCH = 32;

/** Step 1 is the table the constructor made before steps were recorded; config and wake are key-value pairs. */
const SUBSCRIPTION_MIGRATIONS: readonly Migration[] = [
  {
    name: "links",
    up: "CREATE TABLE IF NOT EXISTS links (path TEXT PRIMARY KEY, explicit INTEGER NOT NULL, glob INTEGER NOT NULL, acked TEXT NOT NULL, tail TEXT NOT NULL)",
  },
];

/** The canonical form of an input, for comparing a repeated PUT with the first. */
export function canonical(input: SubscriptionInput): string {
  return JSON.stringify({
    type: input.type,
    pattern: input.pattern ?? null,
    streams: [...new Set(input.streams)].sort(),
    webhook: input.webhook ? { url: input.webhook.url } : null,
    wake_stream: input.wake_stream ?? null,
    lease_ttl_ms: input.lease_ttl_ms,
    description: input.description ?? null,
  });
}

export class Subscription extends DurableObject<Env> implements StreamFollower {
  private readonly db: Database;
  /** Set to the sooner of the wake's lease end and its next delivery attempt. */
  private readonly alarmClock: Alarm;
  private config: Config | undefined;
  private wake: Wake;
  /** The generation being delivered: a newer wake may start while an older one's POST is out. */
  private delivering: number | undefined;
  private key: Promise<SigningKey> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Database(ctx.storage, SUBSCRIPTION_MIGRATIONS);
    this.alarmClock = new Alarm(ctx.storage);
    this.config = ctx.storage.kv.get<Config>("config");
    this.wake = ctx.storage.kv.get<Wake>("wake") ?? idle(0);
  }

  // ── management ──────────────────────────────────────────────────────────────────────

  async create(input: SubscriptionInput, origin: string): Promise<Created | Carried> {
    return carryRefusals(() => this.createNow(input, origin));
  }

  private async createNow(input: SubscriptionInput, origin: string): Promise<Created> {
    const form = canonical(input);
    if (this.config) {
      if (this.config.canonical !== form) {
        throw new Refusal("SUBSCRIPTION_ALREADY_EXISTS", "A subscription with this id exists with a different configuration.");
      }
      return { created: false, description: (await this.describe())! };
    }
    const id = this.ctx.id.name!;
    const secret = new Uint8Array(32);
    crypto.getRandomValues(secret);
    this.config = { ...input, id, created_at: new Date().toISOString(), canonical: form, origin, secret: toBase64(secret) };
    this.ctx.storage.kv.put("config", this.config);
    await directory(this.env, "subscriptions").touch(id, Date.now()).catch(() => undefined);
    await this.saveWake(idle(0));

    await this.link(input.streams, "explicit");
    if (input.pattern !== undefined) {
      const found = await Promise.all(registriesForPattern(this.env, input.pattern).map((shard) => shard.addPattern(id, input.pattern!)));
      await this.link(found.flat(), "glob");
    }
    return { created: true, description: (await this.describe())! };
  }

  async describe(): Promise<Description | null> {
    const config = this.config;
    if (!config) return null;
    const out: Description = {
      id: config.id,
      subscription_id: config.id,
      type: config.type,
      pattern: config.pattern,
      streams: this.streams().map(({ path, link_type, acked_offset }) => ({ path, link_type, acked_offset })),
      lease_ttl_ms: config.lease_ttl_ms,
      created_at: config.created_at,
      status: this.wake.status,
      description: config.description,
    };
    if (config.webhook) {
      const key = await this.signingKey();
      out.webhook = { url: config.webhook.url, signing: { alg: "ed25519", kid: key.kid, jwks_url: `${config.origin}/v1/stream/__ds/jwks.json` } };
    }
    if (config.wake_stream !== undefined) out.wake_stream = config.wake_stream;
    return out;
  }

  /** Forgets the subscription; its streams stop telling it about appends. */
  async remove(): Promise<void> {
    const config = this.config;
    if (!config) return;
    if (config.pattern !== undefined) {
      await Promise.all(registriesForPattern(this.env, config.pattern).map((shard) => shard.removePattern(config.id)));
    }
    const paths = this.db.all<{ path: string }>("SELECT path FROM links").map((row) => row.path);
    this.config = undefined;
    this.wake = idle(0);
    await this.alarmClock.setToEarliest();
    await this.ctx.storage.deleteAll();
    this.db.migrate(SUBSCRIPTION_MIGRATIONS);
    // A stream that misses this drops the watcher the next time it calls (see streamChanged).
    await inBatches(paths, (path) => this.env.STREAMS.getByName(path).unwatch(config.id).catch(() => undefined));
  }

  async addStreams(paths: string[]): Promise<boolean> {
    if (!this.config) return false;
    await this.link(paths, "explicit");
    return true;
  }

  async removeStream(path: string): Promise<boolean> {
    const config = this.config;
    if (!config) return false;
    const link = this.linkOf(path);
    if (!link) return true;
    if (link.glob) {
      this.db.run("UPDATE links SET explicit = 0 WHERE path = ?", path);
    } else {
      this.db.run("DELETE FROM links WHERE path = ?", path);
      await this.env.STREAMS.getByName(path).unwatch(config.id);
    }
    return true;
  }

  // ── what streams tell it ────────────────────────────────────────────────────────────

  /**
   * A linked stream (or one that matches the pattern) was created or appended to. Answers
   * false when this subscription no longer follows the stream, so the stream stops calling.
   */
  async streamChanged(path: string, tail: string): Promise<boolean> {
    const config = this.config;
    if (!config || path === config.wake_stream) return false;
    const link = this.linkOf(path);
    if (link) {
      if (tail > link.tail) this.db.run("UPDATE links SET tail = ? WHERE path = ?", tail, path);
    } else if (config.pattern !== undefined && globMatch(config.pattern, path)) {
      this.db.run("INSERT INTO links (path, explicit, glob, acked, tail) VALUES (?, 0, 1, ?, ?)", path, BEFORE_FIRST, tail);
    } else {
      return false;
    }
    await this.maybeWake(path);
    return true;
  }

  /** A linked stream was deleted or expired: the link goes with it. */
  streamGone(path: string): void {
    this.db.run("DELETE FROM links WHERE path = ?", path);
  }

  // ── consumers ───────────────────────────────────────────────────────────────────────

  async callback(token: string, report: WakeReport): Promise<Acknowledged | Carried> {
    return carryRefusals(() => {
      this.existing();
      return this.acknowledge(token, report);
    });
  }

  async claim(worker: string): Promise<Claimed | Carried> {
    return carryRefusals(async () => {
      const config = this.pullWake("Only pull-wake subscriptions are claimed.");
      if (this.wake.holder !== null) {
        throw new Refusal("ALREADY_CLAIMED", "Another worker holds this subscription's wake.", {
          detail: { current_holder: this.wake.holder, generation: this.wake.generation },
        });
      }
      const pending = this.firstPending();
      if (pending === undefined) throw new Refusal("NO_PENDING_WORK", "No linked stream has unacknowledged data.");
      if (this.wake.wakeId === null) await this.beginWake(pending);
      const wake = { ...this.wake, holder: worker, leaseUntil: Date.now() + config.lease_ttl_ms };
      await this.saveWake(wake);
      return {
        wake_id: wake.wakeId,
        generation: wake.generation,
        token: await this.token(wake.generation),
        streams: this.streams(),
        lease_ttl_ms: config.lease_ttl_ms,
      };
    });
  }

  async ack(token: string, report: WakeReport): Promise<Acknowledged | Carried> {
    return carryRefusals(() => {
      this.pullWake("Only pull-wake subscriptions acknowledge here; webhooks use their callback URL.");
      return this.acknowledge(token, report);
    });
  }

  async release(token: string, report: WakeReport): Promise<{ released: true } | Carried> {
    return carryRefusals(async () => {
      this.pullWake("Only pull-wake subscriptions are released.");
      await this.checkToken(token, report);
      await this.endWake();
      return { released: true } as const;
    });
  }

  // ── timers ──────────────────────────────────────────────────────────────────────────

  override async alarm(): Promise<void> {
    if (!this.config) return;
    const now = Date.now();
    const wake = this.wake;
    if (wake.leaseUntil !== null && wake.leaseUntil <= now) {
      await this.endWake();
    } else if (wake.nextAttemptAt !== null && wake.nextAttemptAt <= now) {
      await this.deliver();
    } else {
      await this.saveWake(wake);
    }
  }

  // ── internals ───────────────────────────────────────────────────────────────────────

  /** The subscription a consumer's call needs; refused if there is none. */
  private existing(): Config {
    if (!this.config) throw noSuchSubscription();
    return this.config;
  }

  /** The subscription, for a call that only pull-wake subscriptions take. */
  private pullWake(otherwise: string): Config {
    const config = this.existing();
    if (config.type !== "pull-wake") throw new Refusal("INVALID_REQUEST", otherwise);
    return config;
  }

  private signingKey(): Promise<SigningKey> {
    this.key ??= keyRegistry(this.env).signingKey().catch((error: unknown) => {
      this.key = undefined;
      throw error;
    });
    return this.key;
  }

  /** Links `paths` with the given kind, each acknowledged up to its tail as of now. */
  private async link(paths: string[], kind: "explicit" | "glob"): Promise<void> {
    const config = this.config!;
    const wanted = paths.filter((path) => path !== config.wake_stream);
    await inBatches(wanted, async (path) => {
      const { tail } = await this.env.STREAMS.getByName(path).watch(config.id);
      // A stream that a pattern found but that is gone by now is not linked.
      if (tail === null && kind === "glob") return;
      const at = tail ?? ZERO_OFFSET;
      this.db.run(
        `INSERT INTO links (path, explicit, glob, acked, tail) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (path) DO UPDATE SET ${kind} = 1`,
        path,
        kind === "explicit" ? 1 : 0,
        kind === "glob" ? 1 : 0,
        at,
        at,
      );
    });
  }

  private linkOf(path: string): LinkRow | null {
    return this.db.one<LinkRow>("SELECT path, explicit, glob, acked, tail FROM links WHERE path = ?", path);
  }

  private streams(): StreamState[] {
    return this.db.all<LinkRow>("SELECT path, explicit, glob, acked, tail FROM links ORDER BY path").map((row) => ({
      path: row.path,
      link_type: row.explicit ? "explicit" : "glob",
      acked_offset: row.acked,
      tail_offset: row.tail,
      has_pending: row.tail > row.acked,
    }));
  }

  private firstPending(): string | undefined {
    return this.db.one<{ path: string }>("SELECT path FROM links WHERE tail > acked ORDER BY path LIMIT 1")?.path;
  }

  private async maybeWake(trigger: string): Promise<void> {
    if (this.wake.wakeId !== null || this.wake.holder !== null) return;
    if (this.firstPending() === undefined) return;
    await this.beginWake(trigger);
  }

  /** A new generation: fences every earlier token, then delivers (by alarm if this attempt is lost). */
  private async beginWake(trigger: string): Promise<void> {
    const snapshot: Record<string, string> = {};
    for (const stream of this.streams()) snapshot[stream.path] = stream.tail_offset;
    await this.saveWake({
      ...this.wake,
      generation: this.wake.generation + 1,
      wakeId: `wake_${crypto.randomUUID()}`,
      holder: null,
      leaseUntil: null,
      snapshot,
      trigger,
      nextAttemptAt: Date.now() + DELIVERY_TIMEOUT_MS,
    });
    this.ctx.waitUntil(this.deliver());
  }

  /** Ends the wake (done, released, or its lease ran out) and begins the next if work remains. */
  private async endWake(): Promise<boolean> {
    await this.saveWake({ ...idle(this.wake.generation), status: this.wake.status, retryCount: this.wake.retryCount });
    const pending = this.firstPending();
    if (pending === undefined) return false;
    await this.beginWake(pending);
    return true;
  }

  /** Sends the current wake: a signed webhook POST, or an event appended to the wake stream. */
  private async deliver(): Promise<void> {
    const config = this.config;
    const wake = this.wake;
    if (!config || wake.wakeId === null || this.delivering === wake.generation) return;
    const generation = wake.generation;
    this.delivering = generation;
    try {
      await this.saveWake({ ...wake, nextAttemptAt: Date.now() + DELIVERY_TIMEOUT_MS });
      const outcome = config.type === "webhook" ? await this.postWebhook(config, wake) : await this.appendWakeEvent(config, wake);
      if (this.wake.generation !== generation || this.wake.wakeId === null) return;
      if (outcome === "failed") {
        const retryCount = this.wake.retryCount + 1;
        const nextAttemptAt = Date.now() + backoffDelay(DELIVERY_BACKOFF, retryCount);
        await this.saveWake({ ...this.wake, status: "failed", retryCount, nextAttemptAt });
        return;
      }
      const delivered: Wake = { ...this.wake, status: "active", retryCount: 0, nextAttemptAt: null };
      if (config.type === "webhook") delivered.leaseUntil = Date.now() + config.lease_ttl_ms;
      await this.saveWake(delivered);
      if (outcome === "done") {
        for (const [path, tail] of Object.entries(delivered.snapshot)) {
          this.db.run("UPDATE links SET acked = ? WHERE path = ? AND acked < ?", tail, path, tail);
        }
        await this.endWake();
      }
    } finally {
      if (this.delivering === generation) this.delivering = undefined;
    }
  }

  private async postWebhook(config: Config, wake: Wake): Promise<"delivered" | "done" | "failed"> {
    const url = config.webhook!.url;
    if (!checkWebhookUrl(url, this.env).ok) return "failed";
    const body = JSON.stringify({
      subscription_id: config.id,
      wake_id: wake.wakeId,
      generation: wake.generation,
      streams: this.streams(),
      triggered_by: wake.trigger === null ? [] : [wake.trigger],
      callback_url: `${config.origin}/v1/stream/__ds/subscriptions/${encodeURIComponent(config.id)}/callback`,
      callback_token: await this.token(wake.generation),
    });
    // A timer of our own over the whole exchange, body included, cleared after it:
    // AbortSignal.timeout's timer would outlive the delivery.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(new Error(`no answer within ${DELIVERY_TIMEOUT_MS} ms`)), DELIVERY_TIMEOUT_MS);
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", "Webhook-Signature": await signWebhook(await this.signingKey(), body), "User-Agent": "edge-widgets-streams" },
        body,
        redirect: "manual",
        signal: abort.signal,
      });
      if (!response.ok) {
        await response.body?.cancel();
        console.warn(`subscription ${config.id}: webhook answered ${response.status}`);
        return "failed";
      }
      const answer = await response.json().catch(() => null);
      return (answer as { done?: unknown } | null)?.done === true ? "done" : "delivered";
    } catch (error) {
      console.warn(`subscription ${config.id}: webhook delivery failed: ${(error as Error).message}`);
      return "failed";
    } finally {
      clearTimeout(timer);
    }
  }

  private async appendWakeEvent(config: Config, wake: Wake): Promise<"delivered" | "failed"> {
    const event = { type: "wake", subscription_id: config.id, wake_id: wake.wakeId, stream: wake.trigger, generation: wake.generation, ts: Date.now() };
    try {
      await this.env.STREAMS.getByName(config.wake_stream!).appendJson(event, { create: false });
      return "delivered";
    } catch (error) {
      console.warn(`subscription ${config.id}: could not append to wake stream ${config.wake_stream}: ${(error as Error).message}`);
      return "failed";
    }
  }

  private async acknowledge(token: string, report: WakeReport): Promise<Acknowledged> {
    const config = this.config!;
    await this.checkToken(token, report);
    this.applyAcks(report.acks);
    if (report.done === true) return { ok: true, next_wake: await this.endWake() };
    await this.saveWake({ ...this.wake, leaseUntil: Date.now() + config.lease_ttl_ms });
    return { ok: true, next_wake: false };
  }

  private async token(generation: number): Promise<string> {
    const config = this.config!;
    const claims = { epoch: generation, sub: `subscription:${config.id}`, jti: crypto.randomUUID() };
    return mintToken(secretKey(config.secret), "subscriptionWake", claims, Math.floor(Date.now() / 1000) + this.tokenLifetime());
  }

  /** An hour, unless the owner allows every token less. */
  private tokenLifetime(): number {
    return Math.min(TOKEN_LIFETIME_S, maxTokenLifetime(this.env));
  }

  /** Refuses all but a valid token of the current generation, for the current wake (401, or 409 FENCED). */
  private async checkToken(token: string, report: WakeReport): Promise<void> {
    const config = this.config!;
    const verdict = await verifyToken(secretKey(config.secret), "subscriptionWake", token, {
      maxLifetime: this.tokenLifetime(),
      subject: `subscription:${config.id}`,
    });
    if (!verdict.ok) {
      if (verdict.code === "token_expired") throw new Refusal("TOKEN_EXPIRED", "The callback token has expired.");
      throw new Refusal("TOKEN_INVALID", "The callback token is not valid for this subscription.");
    }
    const epoch = verdict.payload.epoch;
    const wake = this.wake;
    if (wake.wakeId === null || epoch !== wake.generation || report.generation !== wake.generation || report.wake_id !== wake.wakeId) {
      throw new Refusal("FENCED", "This wake's generation is over; a newer one may be in progress.");
    }
  }

  /** Records the acknowledged offsets, all or none: one bad ack refuses them all. */
  private applyAcks(acks: unknown): void {
    if (acks === undefined) return;
    if (!Array.isArray(acks)) throw new Refusal("INVALID_REQUEST", "acks must be an array of {stream, offset}.");
    const updates: [string, string][] = [];
    for (const ack of acks as { stream?: unknown; path?: unknown; offset?: unknown }[]) {
      const path = typeof ack?.stream === "string" ? ack.stream : typeof ack?.path === "string" ? ack.path : undefined;
      const offset = ack?.offset;
      if (path === undefined || typeof offset !== "string") throw new Refusal("INVALID_REQUEST", "Each ack needs a stream and an offset.");
      const link = this.linkOf(path.replace(/^\/+|\/+$/g, ""));
      if (!link) throw new Refusal("INVALID_OFFSET", `The ack names ${path}, which this subscription does not follow.`);
      if (!CONCRETE_OFFSET.test(offset)) throw new Refusal("INVALID_OFFSET", "An ack offset must be an offset the stream returned (not -1).");
      if (offset < link.acked) throw new Refusal("INVALID_OFFSET", "The ack offset is behind what was already acknowledged.");
      if (offset > link.tail) throw new Refusal("INVALID_OFFSET", "The ack offset is past the stream's tail.");
      updates.push([link.path, offset]);
    }
    for (const [path, offset] of updates) this.db.run("UPDATE links SET acked = ? WHERE path = ?", offset, path);
  }

  /** Keeps the wake and sets the alarm to its next deadline (lease end or delivery attempt). */
  private async saveWake(wake: Wake): Promise<void> {
    this.wake = wake;
    this.ctx.storage.kv.put("wake", wake);
    await this.alarmClock.setToEarliest(wake.leaseUntil, wake.nextAttemptAt);
  }
}

function idle(generation: number): Wake {
  return { generation, wakeId: null, holder: null, leaseUntil: null, snapshot: {}, trigger: null, status: "active", retryCount: 0, nextAttemptAt: null };
}

export const noSuchSubscription = () => new Refusal("SUBSCRIPTION_NOT_FOUND", "No such subscription.");

const secretKey = (secret: string) => fromBase64(secret);

async function inBatches<T>(items: T[], work: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += LINK_BATCH) await Promise.all(items.slice(i, i + LINK_BATCH).map(work));
}
