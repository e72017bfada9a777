import { DurableObject } from "cloudflare:workers";
import { Database, type Migration } from "../storage/database.ts";
import type { Env } from "../env.ts";
import { Refusal } from "../http/refusal.ts";
import { clientIp } from "../http/client-ip.ts";
import { ratePolicy, type RateAction, type RatePolicy } from "./policies.ts";
import { Figures } from "../admin/metrics.ts";

export interface RateGrant {
  granted: number;
  retryAfterMs: number;
}

/** A socket's admission: `refused` says which limit turned it away. */
export type SocketAdmission = { ok: true } | { ok: false; refused: "joins" | "sockets"; retryAfterMs: number };

export interface RateDecision {
  ok: boolean;
  /** Milliseconds until the action would be allowed again; 0 when allowed. */
  retryAfterMs: number;
  remaining: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * One object per client IP, shared by every feature. Token buckets are refilled by arithmetic
 * on the time of the last call, so the object needs no alarm and can sleep between calls.
 * Buckets live in memory and in the object's storage. A bucket below half its burst is written
 * at once, so an eviction forgives nothing that matters; a fuller one is written at most once a
 * second (`WRITE_EVERY_MS`), so a busy client costs one storage write a second instead of one
 * per action; an eviction or crash within that second forgives at most half a burst, once.
 */
export class RateLimiter extends DurableObject<Env> {
  private readonly db = new Database(this.ctx.storage, RATE_LIMITER_MIGRATIONS);
  private buckets = new Map<string, Bucket>();
  /** Buckets changed since they were last written, waiting for `flushTimer`. */
  private unwritten = new Map<string, Bucket>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly figures = new Figures(this.env, () => this.ctx.id.toString());

  /** Takes `cost` tokens at once, or none. */
  consume(action: string, policy: RatePolicy, cost = 1): RateDecision {
    const { tokens, now } = this.refill(action, policy);
    if (tokens >= cost) {
      this.save(action, policy, { tokens: tokens - cost, at: now });
      return { ok: true, retryAfterMs: 0, remaining: Math.floor(tokens - cost) };
    }
    this.save(action, policy, { tokens, at: now });
    this.figures.count("rate_limited");
    return { ok: false, retryAfterMs: waitFor(cost - tokens, policy), remaining: 0 };
  }

  /** Whether one `action` would be allowed now, taking nothing (a check made before the action is even tried). */
  allows(action: string, policy: RatePolicy): RateDecision {
    const { tokens } = this.refill(action, policy);
    return tokens >= 1 ? { ok: true, retryAfterMs: 0, remaining: Math.floor(tokens) } : { ok: false, retryAfterMs: waitFor(1 - tokens, policy), remaining: 0 };
  }

  /** Grants as many of `wanted` single actions as there are tokens, in one call. */
  take(action: string, policy: RatePolicy, wanted: number): RateGrant {
    const { tokens, now } = this.refill(action, policy);
    const granted = Math.min(wanted, Math.floor(tokens));
    this.save(action, policy, { tokens: tokens - granted, at: now });
    if (granted < wanted) this.figures.count("rate_limited", wanted - granted);
    return { granted, retryAfterMs: granted < wanted ? waitFor(1 - (tokens - granted), policy) : 0 };
  }

  private refill(action: string, policy: RatePolicy): { tokens: number; now: number } {
    const now = Date.now();
    const stored = this.buckets.get(action) ?? this.ctx.storage.kv.get<Bucket>(action);
    if (!stored) return { tokens: policy.burst, now };
    const elapsed = Math.max(0, now - stored.at) / 1000;
    return { tokens: Math.min(policy.burst, stored.tokens + elapsed * policy.perSecond), now };
  }

  private save(action: string, policy: RatePolicy, bucket: Bucket): void {
    this.buckets.set(action, bucket);
    if (bucket.tokens >= policy.burst / 2) {
      this.unwritten.set(action, bucket);
      this.flushTimer ??= setTimeout(() => this.flush(), WRITE_EVERY_MS);
      return;
    }
    this.unwritten.delete(action);
    // The answer need not wait for the write: a lost write only forgives a few tokens, and
    // holding every reply for a commit would cap the limiter (and every caller) at the disk's pace.
    void this.ctx.storage.put(action, bucket, { allowUnconfirmed: true });
  }

  private flush(): void {
    this.flushTimer = undefined;
    if (this.unwritten.size === 0) return;
    void this.ctx.storage.put(Object.fromEntries(this.unwritten), { allowUnconfirmed: true });
    this.unwritten.clear();
  }

  // --- concurrent sockets: one slot per open socket of this IP, per socket route ---

  private lastPrune = new Map<SocketRoute, number>();
  /** Slots held per route, counted once per wake and then kept in step with every take and release. */
  private held: Map<string, number> | undefined;
  /** Slots taken since the table was last written, waiting for `slotTimer`. */
  private readonly unwrittenSlots = new Map<string, { route: SocketRoute; holder: string }>();
  private slotTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Admits a socket about to open in the object `holder` (its id) in one call: first spends a
   * token of `join`, the joins' rate limit of its route, if it has one, then takes a socket slot
   * as `takeSocketSlot` does. A socket refused for its joins takes no slot; one refused for its
   * slot has spent its join token, as a join that was asked for.
   */
  async admitSocket(route: SocketRoute, holder: string, socket: string, max: number, join?: { action: string; policy: RatePolicy }): Promise<SocketAdmission> {
    if (join) {
      const decision = this.consume(join.action, join.policy);
      if (!decision.ok) return { ok: false, refused: "joins", retryAfterMs: decision.retryAfterMs };
    }
    if (!(await this.takeSocketSlot(route, holder, socket, max))) return { ok: false, refused: "sockets", retryAfterMs: 0 };
    return { ok: true };
  }

  /**
   * Takes a slot for a socket about to open in the object `holder` (its id), unless this IP
   * already holds `max` on `route`. At the cap, slots whose socket is gone without its close
   * reaching us (an object restarted, a close never delivered) are first checked against their
   * holders, which find their sockets by tag, and freed.
   */
  async takeSocketSlot(route: SocketRoute, holder: string, socket: string, max: number): Promise<boolean> {
    if (this.slotsHeld(route) >= max) {
      await this.pruneSlots(route);
      if (this.slotsHeld(route) >= max) return false;
    }
    if (this.unwrittenSlots.has(socket)) return true;
    this.unwrittenSlots.set(socket, { route, holder });
    this.countSlots().set(route, this.slotsHeld(route) + 1);
    this.slotTimer ??= setTimeout(() => this.writeSlots(), WRITE_SLOTS_EVERY_MS);
    return true;
  }

  releaseSocketSlot(socket: string): void {
    const unwritten = this.unwrittenSlots.get(socket);
    if (unwritten) {
      this.unwrittenSlots.delete(socket);
      this.countSlots().set(unwritten.route, this.slotsHeld(unwritten.route) - 1);
      return;
    }
    for (const { route } of this.db.all<{ route: SocketRoute }>("DELETE FROM socket_slots WHERE socket = ? RETURNING route", socket)) {
      this.countSlots().set(route, this.slotsHeld(route) - 1);
    }
  }

  /**
   * Writes the slots taken since the last write, in one transaction: a crowd of sockets opening
   * at once (a reconnect after a deploy) costs one commit per interval, not one per socket.
   * Should the object go away before, the sockets of that interval go uncounted until they close,
   * as a lost write of a bucket forgives a few tokens.
   */
  private writeSlots(): void {
    this.slotTimer = undefined;
    if (this.unwrittenSlots.size === 0) return;
    this.ctx.storage.transactionSync(() => {
      for (const [socket, { route, holder }] of this.unwrittenSlots) {
        this.db.run("INSERT OR REPLACE INTO socket_slots (socket, route, holder) VALUES (?, ?, ?)", socket, route, holder);
      }
    });
    this.unwrittenSlots.clear();
  }

  private slotsHeld(route: SocketRoute): number {
    return this.countSlots().get(route) ?? 0;
  }

  /** A count per take would read every slot of the route: the table is counted once, then kept. */
  private countSlots(): Map<string, number> {
    this.held ??= new Map(this.db.all<{ route: string; n: number }>("SELECT route, count(*) AS n FROM socket_slots GROUP BY route").map(({ route, n }) => [route, n]));
    return this.held;
  }

  private async pruneSlots(route: SocketRoute): Promise<void> {
    // A client hammering at the cap must not turn each refusal into a round of calls.
    const now = Date.now();
    if (now - (this.lastPrune.get(route) ?? 0) < PRUNE_EVERY_MS) return;
    this.lastPrune.set(route, now);
    this.writeSlots();
    const byHolder = new Map<string, string[]>();
    for (const { socket, holder } of this.db.all<{ socket: string; holder: string }>("SELECT socket, holder FROM socket_slots WHERE route = ?", route)) {
      byHolder.set(holder, [...(byHolder.get(holder) ?? []), socket]);
    }
    const namespace = socketHolders(this.env)[route];
    await Promise.all(
      [...byHolder].map(async ([holder, sockets]) => {
        let live: Set<string>;
        try {
          live = new Set(await namespace.get(namespace.idFromString(holder)).liveSockets(sockets));
        } catch {
          return; // Unreachable for now: its slots wait for the next check.
        }
        for (const socket of sockets) if (!live.has(socket)) this.releaseSocketSlot(socket);
      }),
    );
  }

  // Live schedules: not a rate but a count, of the schedules that can still run. The object of
  // an IP counts that IP's; the object named `schedule-target:<name>` counts a target's (see
  // edge/scheduler/quotas.ts). Each schedule is held with the latest time it can still run, so
  // one whose release was lost stops counting by itself.

  /** Holds a place for schedule `id` until `lastRunBy` (ms), unless `max` are already held. */
  holdSchedule(id: string, lastRunBy: number, max: number): boolean {
    this.db.run("DELETE FROM live_schedules WHERE last_run_by < ?", Date.now());
    const held = this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM live_schedules")!.n;
    if (held >= max) return false;
    this.db.run("INSERT OR REPLACE INTO live_schedules (id, last_run_by) VALUES (?, ?)", id, lastRunBy);
    return true;
  }

  /** Gives back the place of schedule `id` (it finished or was cancelled). */
  releaseSchedule(id: string): void {
    this.db.run("DELETE FROM live_schedules WHERE id = ?", id);
  }

  /** Gives back the places of schedules `ids`: a shard's scheduler returns all that ended together in one call. */
  releaseSchedules(ids: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const id of ids) this.db.run("DELETE FROM live_schedules WHERE id = ?", id);
    });
  }
}

/**
 * Step 1 is the two tables an older limiter made on first use, so one that made either takes
 * it as a no-op. Buckets are not here: they are kept as key-value pairs.
 */
const RATE_LIMITER_MIGRATIONS: readonly Migration[] = [
  {
    name: "socket slots and live schedules",
    up: `
      CREATE TABLE IF NOT EXISTS socket_slots (socket TEXT PRIMARY KEY, route TEXT NOT NULL, holder TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS live_schedules (id TEXT PRIMARY KEY, last_run_by INTEGER NOT NULL);
    `,
  },
];

/** The socket routes, each counted on its own, and the namespace of the objects that hold them. */
export type SocketRoute = "counter" | "chat";
const socketHolders = (env: Env) => ({ counter: env.COUNTER, chat: env.CHAT_ROOMS }) satisfies Record<SocketRoute, unknown>;

/** How often a limiter at its socket cap may ask the holders which of its sockets still live. */
const PRUNE_EVERY_MS = 1000;

/** How long a socket slot taken may wait to be written with the others taken meanwhile. */
const WRITE_SLOTS_EVERY_MS = 100;

/** How long a bucket at least half full may wait to be written. */
const WRITE_EVERY_MS = 1000;

const waitFor = (missing: number, policy: RatePolicy) => Math.max(1, Math.ceil((missing / policy.perSecond) * 1000));

/** Asks the caller's limiter whether `action` may happen now. */
export function checkRate(env: Env, ip: string, action: RateAction, cost = 1): Promise<RateDecision> {
  return env.RATE_LIMITER.getByName(ip).consume(action, ratePolicy(env, action), cost);
}

/**
 * For HTTP routes: lets the request through, or refuses it with the API's 429, a JSON error
 * that says how long to wait and `Retry-After` in seconds. `what` names what there were too
 * many of, for the message.
 */
export async function limitRate(env: Env, request: Request, action: RateAction, what = "requests"): Promise<void> {
  refuseUnless(await checkRate(env, clientIp(env, request), action), what);
}

/** Refuses the request with the API's 429 when its address has no `action` left, taking nothing. */
export async function refuseWhenSpent(env: Env, request: Request, action: RateAction, what = "requests"): Promise<void> {
  refuseUnless(await env.RATE_LIMITER.getByName(clientIp(env, request)).allows(action, ratePolicy(env, action)), what);
}

function refuseUnless(decision: RateDecision, what: string): void {
  if (decision.ok) return;
  const seconds = Math.ceil(decision.retryAfterMs / 1000);
  throw new Refusal("rate_limited", `Too many ${what}; try again in ${seconds} s.`, { headers: { "Retry-After": String(seconds) } });
}

/**
 * Checks one action per call like `checkRate`, but while a limiter call for an IP is under
 * way, further checks for that IP wait and go together in the next call. A lone action costs
 * one round trip as before; a burst costs one round trip per batch instead of one each.
 */
export class BatchedRateCheck {
  private queues = new Map<string, ((decision: RateDecision | Error) => void)[]>();

  constructor(
    private readonly env: Env,
    private readonly action: RateAction,
  ) {}

  check(ip: string): Promise<RateDecision> {
    return new Promise((done, fail) => {
      const settle = (decision: RateDecision | Error) => (decision instanceof Error ? fail(decision) : done(decision));
      const queue = this.queues.get(ip);
      if (queue) {
        queue.push(settle);
        return;
      }
      this.queues.set(ip, [settle]);
      void this.drain(ip);
    });
  }

  private async drain(ip: string): Promise<void> {
    const queue = this.queues.get(ip)!;
    const limiter = this.env.RATE_LIMITER.getByName(ip);
    const policy = ratePolicy(this.env, this.action);
    while (queue.length > 0) {
      const batch = queue.splice(0);
      let grant: RateGrant | Error;
      try {
        grant = await limiter.take(this.action, policy, batch.length);
      } catch (error) {
        grant = error instanceof Error ? error : new Error(String(error));
      }
      batch.forEach((settle, i) => {
        if (grant instanceof Error) settle(grant);
        else if (i < grant.granted) settle({ ok: true, retryAfterMs: 0, remaining: grant.granted - i - 1 });
        else settle({ ok: false, retryAfterMs: grant.retryAfterMs, remaining: 0 });
      });
    }
    this.queues.delete(ip);
  }
}
