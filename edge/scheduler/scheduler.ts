import { DurableObject } from "cloudflare:workers";
import { Alarm } from "../storage/alarm.ts";
import { Database } from "../storage/database.ts";
import { backoffDelay } from "../backoff.ts";
import type { Env } from "../env.ts";
import { MAX_JSON_DEPTH, nestsTooDeep } from "../http/json-depth.ts";
import { Refusal, carry, type Carried } from "../http/refusal.ts";
import { deliver, type Outcome } from "./delivery.ts";
import { schedulerSettings } from "./settings.ts";
import { releasePlaces } from "./quotas.ts";
import { SCHEDULER_MIGRATIONS, type RunRow, type ScheduleRow } from "./schema.ts";
import { firstOccurrence, nextOccurrence, type End, type Timing } from "./timing.ts";
import { Figures } from "../admin/metrics.ts";

/** A validated request to create a schedule, as the route hands it over. */
export interface NewSchedule {
  id: string;
  manageToken: string;
  tokenHash: string;
  target: string | null;
  url: string | null;
  timing: Timing;
  /** How a repeating schedule ends (both null for a one-off, and for the admin's endless repeats). */
  end: End;
  /** The client IP that holds a place for it (see quotas.ts); null for the admin's. */
  ownerIp: string | null;
  /** JSON text of the payload. */
  payload: string;
  idempotencyKey: string | null;
  /** Hash of the request's meaning, to tell a replay from a different request with the same key. */
  requestHash: string;
}

export interface RunView {
  at: string;
  occurrence: string;
  attempt: number;
  ok: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
}

export interface ScheduleView {
  id: string;
  target: string | null;
  url: string | null;
  at?: string;
  every?: number;
  start?: string;
  cron?: string;
  tz?: string;
  /** A repeat ends after this many runs (occurrences; retries do not count)... */
  times?: number;
  /** ...or once its next run would come after this time, whichever is first. */
  until?: string;
  /** Runs left before the repeat ends by `times`. */
  runsLeft?: number;
  payload: unknown;
  createdAt: string;
  /** The next delivery time (the occurrence being retried, if any); null when finished. */
  next: string | null;
  state: "scheduled" | "retrying" | "done";
  /** Failed attempts of the current occurrence. */
  failedAttempts: number;
  runCount: number;
  lastRun: RunView | null;
}

/** A new or replayed schedule, or the refusal of an idempotency key reused for another one. */
export type CreateResult = { kind: "created" | "replayed"; schedule: ScheduleView; manageToken: string } | Carried;

/** Who asks: the holder of a manage token (its hash), or the admin. */
export type Caller = { admin: true } | { admin: false; tokenHash: string };

/** Runs kept per schedule; older ones are dropped. */
const RUNS_KEPT = 50;
/** Most deliveries one object starts in one sweep. */
const SWEEP_LIMIT = 1_000;
/** While deliveries are in flight the dispatcher looks for newly due schedules this often. */
const POLL_MS = 200;
/** A due time this close is waited for inside the running alarm rather than by a new one. */
const WAIT_IN_ALARM_MS = 1_000;
/** How long one alarm keeps dispatching before it leaves the rest to the next alarm. */
const HANDLER_BUDGET_MS = 60_000;
/** About the most finished schedules one alarm deletes; a larger backlog takes a few alarms. */
export const PRUNE_LIMIT = 500;

/**
 * One shard of the scheduler: it owns a slice of all schedules (rows in its SQLite storage) and
 * keeps a single alarm at the earliest due time of its slice. See `routes.ts` for why the
 * schedules are spread over a fixed number of these objects.
 *
 * A row stays due until its delivery is recorded, and the alarm is only done when every
 * delivery it started has been recorded. So when the object is evicted or the backend stops
 * mid-delivery, the alarm runs again and delivers the row again: at least once, never lost.
 *
 * A finished schedule stays readable (state "done", with its runs) for the retention period,
 * then the alarm deletes it. The same alarm serves both: it is set to the earlier of the next
 * due time and the next prune time, so pruning costs no alarm of its own.
 */
export class Scheduler extends DurableObject<Env> {
  private readonly db: Database;
  private readonly alarmClock: Alarm;
  private dispatching = false;
  private readonly figures = new Figures(this.env, () => this.ctx.id.toString());

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Database(ctx.storage, SCHEDULER_MIGRATIONS);
    this.alarmClock = new Alarm(ctx.storage);
    // Insurance for an alarm lost with a crashed handler (or never set, for rows finished before
    // pruning existed): due and finished rows always have an alarm.
    void ctx.blockConcurrencyWhile(async () => {
      if ((await ctx.storage.getAlarm()) === null) await this.armAlarm();
    });
  }

  async create(input: NewSchedule): Promise<CreateResult> {
    if (input.idempotencyKey !== null) {
      const existing = this.db.one<ScheduleRow>("SELECT * FROM schedules WHERE idempotency_key = ?", input.idempotencyKey);
      if (existing) {
        if (existing.request_hash !== input.requestHash) {
          return carry(new Refusal("idempotency_conflict", "This idempotencyKey was already used for a different schedule."));
        }
        return { kind: "replayed", schedule: this.view(existing), manageToken: existing.manage_token ?? "" };
      }
    }
    const now = Date.now();
    const first = firstOccurrence(input.timing, now);
    const t = input.timing;
    this.db.run(
      `INSERT INTO schedules (id, token_hash, manage_token, idempotency_key, request_hash, target, url, kind, at_ms,
         every_ms, anchor_ms, cron, tz, payload, created_ms, occurrence_ms, due_ms, times, until_ms, owner_ip)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      input.id,
      input.tokenHash,
      // The token itself is kept only where an idempotent replay has to hand it out again.
      input.idempotencyKey === null ? null : input.manageToken,
      input.idempotencyKey,
      input.requestHash,
      input.target,
      input.url,
      t.kind,
      t.kind === "at" ? t.at : null,
      t.kind === "every" ? t.everyMs : null,
      t.kind === "every" ? t.anchor : null,
      t.kind === "cron" ? t.cron : null,
      t.kind === "cron" ? t.tz : null,
      input.payload,
      now,
      first,
      first,
      input.end.times,
      input.end.until,
      input.ownerIp,
    );
    if (first !== null) await this.armAlarm(first);
    const row = this.db.one<ScheduleRow>("SELECT * FROM schedules WHERE id = ?", input.id)!;
    return { kind: "created", schedule: this.view(row), manageToken: input.manageToken };
  }

  get(id: string, caller: Caller): ScheduleView | null {
    const row = this.owned(id, caller);
    return row ? this.view(row) : null;
  }

  runs(id: string, caller: Caller, limit: number): RunView[] | null {
    if (!this.owned(id, caller)) return null;
    return this.db.all<RunRow>("SELECT * FROM runs WHERE schedule_id = ? ORDER BY seq DESC LIMIT ?", id, limit).map(runView);
  }

  /** Deletes the schedule and its runs; a delivery in flight finishes but records nothing. */
  async cancel(id: string, caller: Caller): Promise<boolean> {
    const row = this.owned(id, caller);
    if (!row) return false;
    this.db.run("DELETE FROM schedules WHERE id = ?", id);
    this.db.run("DELETE FROM runs WHERE schedule_id = ?", id);
    if (row.done_ms === null) await this.release(row);
    return true;
  }

  /** A page of this shard's schedules in id order, after `afterId`. */
  list(afterId: string, limit: number): ScheduleView[] {
    return this.db.all<ScheduleRow>("SELECT * FROM schedules WHERE id > ? ORDER BY id LIMIT ?", afterId, limit).map((row) => this.view(row));
  }

  /**
   * The dispatcher: starts every due delivery at once, then keeps looking for newly due ones
   * (retries, next occurrences, schedules created meanwhile) until nothing is in flight.
   */
  override async alarm(): Promise<void> {
    if (this.dispatching) return;
    this.dispatching = true;
    this.alarmClock.fired();
    this.prune();
    const inFlight = new Map<string, Promise<void>>();
    const began = Date.now();
    try {
      for (;;) {
        this.claimDue(inFlight);
        const wait = this.untilNextDue(inFlight);
        // An alarm may fire a little before its time; waiting here beats re-arming it.
        // Busy shards hand over to a fresh alarm now and then instead of running one forever.
        if (inFlight.size === 0 && (wait > WAIT_IN_ALARM_MS || Date.now() - began > HANDLER_BUDGET_MS)) break;
        await Promise.race([...inFlight.values(), new Promise((done) => setTimeout(done, Math.min(wait, POLL_MS)))]);
      }
    } finally {
      this.dispatching = false;
      await this.armAlarm();
    }
  }

  /**
   * Starts every due delivery that is not already in flight. Nothing is written first: a write
   * would hold every outgoing request of this object until the disk confirms it, which under
   * load costs more than the delivery. If the object dies mid-delivery the rows are still due
   * and the alarm, which is only done when this handler returns, runs again: at least once.
   */
  private claimDue(inFlight: Map<string, Promise<void>>): void {
    const now = Date.now();
    const due = this.db.all<ScheduleRow>("SELECT * FROM schedules WHERE due_ms <= ? ORDER BY due_ms LIMIT ?", now, SWEEP_LIMIT + inFlight.size);
    for (const row of due) {
      if (inFlight.has(row.id) || inFlight.size >= SWEEP_LIMIT) continue;
      inFlight.set(row.id, this.attempt(row).finally(() => inFlight.delete(row.id)));
    }
  }

  /** Milliseconds until the next due time of a row not in flight (Infinity when none). */
  private untilNextDue(inFlight: Map<string, Promise<void>>): number {
    const rows = this.db.all<{ id: string; due_ms: number }>(
      "SELECT id, due_ms FROM schedules WHERE due_ms IS NOT NULL ORDER BY due_ms LIMIT ?",
      inFlight.size + 1,
    );
    const next = rows.find((row) => !inFlight.has(row.id));
    return next ? Math.max(0, next.due_ms - Date.now()) : Infinity;
  }

  private async attempt(row: ScheduleRow): Promise<void> {
    const settings = schedulerSettings(this.env);
    const occurrence = row.occurrence_ms!;
    const attempt = row.attempt + 1;
    const started = Date.now();
    // Older versions stored payloads of any depth; such a row can never be delivered (every
    // attempt would overflow the stack), so it ends here with a run that says why.
    const undeliverable = nestsTooDeep(row.payload);
    const outcome: Outcome = undeliverable
      ? { ok: false, status: null, error: `The payload nests deeper than ${MAX_JSON_DEPTH} levels and cannot be delivered; the schedule ends.`, retry: false }
      : await this.deliver(row, occurrence, attempt);
    const finished = Date.now();
    if (!this.db.one("SELECT id FROM schedules WHERE id = ?", row.id)) return;
    this.db.run(
      "INSERT INTO runs (schedule_id, at_ms, occurrence_ms, attempt, ok, status, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      row.id,
      started,
      occurrence,
      attempt,
      outcome.ok ? 1 : 0,
      outcome.status,
      finished - started,
      outcome.error,
    );
    this.db.run(
      `DELETE FROM runs WHERE schedule_id = ? AND seq <= (
         SELECT seq FROM runs WHERE schedule_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
      row.id,
      row.id,
      RUNS_KEPT,
    );
    this.figures.count(outcome.ok ? "deliveries_ok" : outcome.retry && attempt < settings.maxAttempts ? "deliveries_retried" : "deliveries_given_up");
    if (!outcome.ok && outcome.retry && attempt < settings.maxAttempts) {
      this.db.run(
        "UPDATE schedules SET attempt = ?, due_ms = ?, run_count = run_count + 1 WHERE id = ?",
        attempt,
        finished + backoffDelay(settings.retry, attempt),
        row.id,
      );
    } else {
      const occurrences = row.occurrences + 1;
      let next = undeliverable ? null : nextOccurrence(timingOf(row), occurrence, finished);
      if ((row.times !== null && occurrences >= row.times) || (row.until_ms !== null && next !== null && next > row.until_ms)) next = null;
      this.db.run(
        "UPDATE schedules SET attempt = 0, occurrence_ms = ?, due_ms = ?, done_ms = ?, run_count = run_count + 1, occurrences = ? WHERE id = ?",
        next,
        next,
        next === null ? finished : null,
        occurrences,
        row.id,
      );
      if (next === null) await this.release(row);
    }
  }

  /** Gives back the places a finished or cancelled schedule held; should this fail, they lapse by themselves. */
  private async release(row: ScheduleRow): Promise<void> {
    if (row.owner_ip === null) return;
    try {
      await releasePlaces(this.env, { ip: row.owner_ip, target: row.target }, row.id);
    } catch (error) {
      console.warn(`schedule ${row.id}: could not give back its places: ${(error as Error).message}`);
    }
  }

  private async deliver(row: ScheduleRow, occurrence: number, attempt: number): Promise<Outcome> {
    try {
      return await deliver(this.env, schedulerSettings(this.env), {
        scheduleId: row.id,
        occurrence,
        attempt,
        body: row.payload,
        target: row.target,
        url: row.url,
      });
    } catch (error) {
      return { ok: false, status: null, error: `Delivery failed: ${(error as Error).message}`, retry: true };
    }
  }

  /**
   * Deletes the finished schedules whose retention has passed, with their runs. At most about
   * PRUNE_LIMIT at a time: past that many the cutoff stops at the last one's finish time, and
   * `armAlarm` sets the next alarm to now for the rest.
   */
  private prune(): void {
    let cutoff = Date.now() - schedulerSettings(this.env).retentionMs;
    const last = this.db.one<{ done_ms: number }>(
      "SELECT done_ms FROM schedules WHERE done_ms <= ? ORDER BY done_ms LIMIT 1 OFFSET ?",
      cutoff,
      PRUNE_LIMIT - 1,
    );
    if (last) cutoff = last.done_ms;
    this.db.run("DELETE FROM runs WHERE schedule_id IN (SELECT id FROM schedules WHERE done_ms <= ?)", cutoff);
    this.db.run("DELETE FROM schedules WHERE done_ms <= ?", cutoff);
  }

  /** The times the alarm has work: the earliest due time and the earliest prune time. */
  private nextWake(): (number | null)[] {
    const due = this.db.one<{ at: number }>("SELECT due_ms AS at FROM schedules WHERE due_ms IS NOT NULL ORDER BY due_ms LIMIT 1");
    const done = this.db.one<{ at: number }>("SELECT done_ms AS at FROM schedules WHERE done_ms IS NOT NULL ORDER BY done_ms LIMIT 1");
    const prune = done ? done.at + schedulerSettings(this.env).retentionMs : null;
    return [due?.at ?? null, prune];
  }

  /** Brings the alarm forward to `at` if that is earlier, or (without `at`) sets it to the next time there is work. */
  private async armAlarm(at?: number): Promise<void> {
    if (at !== undefined) await this.alarmClock.bringForward(at);
    else await this.alarmClock.setToEarliest(...this.nextWake());
  }

  private owned(id: string, caller: Caller): ScheduleRow | null {
    const row = this.db.one<ScheduleRow>("SELECT * FROM schedules WHERE id = ?", id);
    if (!row) return null;
    if (caller.admin) return row;
    return row.token_hash === caller.tokenHash ? row : null;
  }

  private view(row: ScheduleRow): ScheduleView {
    const last = this.db.one<RunRow>("SELECT * FROM runs WHERE schedule_id = ? ORDER BY seq DESC LIMIT 1", row.id);
    const view: ScheduleView = {
      id: row.id,
      target: row.target,
      url: row.url,
      // A payload too deep to pass between objects (stored by an older version) is left out.
      payload: nestsTooDeep(row.payload) ? null : JSON.parse(row.payload),
      createdAt: iso(row.created_ms),
      next: row.occurrence_ms === null ? null : iso(row.attempt > 0 ? row.due_ms! : row.occurrence_ms),
      state: row.occurrence_ms === null ? "done" : row.attempt > 0 ? "retrying" : "scheduled",
      failedAttempts: row.attempt,
      runCount: row.run_count,
      lastRun: last ? runView(last) : null,
    };
    if (row.kind === "at") view.at = iso(row.at_ms!);
    if (row.kind === "every") {
      view.every = row.every_ms! / 1000;
      view.start = iso(row.anchor_ms!);
    }
    if (row.kind === "cron") {
      view.cron = row.cron!;
      view.tz = row.tz!;
    }
    if (row.times !== null) {
      view.times = row.times;
      view.runsLeft = row.occurrence_ms === null ? 0 : row.times - row.occurrences;
    }
    if (row.until_ms !== null) view.until = iso(row.until_ms);
    return view;
  }
}

function timingOf(row: ScheduleRow): Timing {
  if (row.kind === "every") return { kind: "every", everyMs: row.every_ms!, anchor: row.anchor_ms! };
  if (row.kind === "cron") return { kind: "cron", cron: row.cron!, tz: row.tz! };
  return { kind: "at", at: row.at_ms! };
}

const iso = (ms: number) => new Date(ms).toISOString();

function runView(run: RunRow): RunView {
  return {
    at: iso(run.at_ms),
    occurrence: iso(run.occurrence_ms),
    attempt: run.attempt,
    ok: run.ok === 1,
    status: run.status,
    durationMs: run.duration_ms,
    error: run.error,
  };
}
