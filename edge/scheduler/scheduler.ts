import { DurableObject } from "cloudflare:workers";
import { Alarm } from "../storage/alarm.ts";
import { Database } from "../storage/database.ts";
import { backoffDelay } from "../backoff.ts";
import type { Env } from "../env.ts";
import { MAX_JSON_DEPTH, nestsTooDeep } from "../http/json-depth.ts";
import { Refusal, carry, type Carried } from "../http/refusal.ts";
import { isStopping } from "../stopping.ts";
import { deliver, type Outcome } from "./delivery.ts";
import { schedulerSettings } from "./settings.ts";
import { releasePlaces, type Holder } from "./quotas.ts";
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
  /** The next delivery time (the occurrence being retried, if any); null when finished or paused. */
  next: string | null;
  state: ScheduleState;
  /** When it was paused (state "paused" only). */
  pausedAt?: string;
  /** Failed attempts of the current occurrence. */
  failedAttempts: number;
  runCount: number;
  lastRun: RunView | null;
}

/**
 * Where a schedule stands: due on its timing, retrying a failed attempt, paused by its owner,
 * finished, or dead (its last attempt failed and nothing follows; `retry` starts it again).
 */
export const SCHEDULE_STATES = ["scheduled", "retrying", "paused", "done", "dead"] as const;
export type ScheduleState = (typeof SCHEDULE_STATES)[number];

/** The admin list's filters; each given one must match. */
export interface ListFilter {
  target?: string;
  state?: ScheduleState;
}

/** The rows in each state, as SQL: the same rules `view` applies to one row. */
const STATE_SQL: Record<ScheduleState, string> = {
  scheduled: "paused_ms IS NULL AND occurrence_ms IS NOT NULL AND attempt = 0",
  retrying: "paused_ms IS NULL AND occurrence_ms IS NOT NULL AND attempt > 0",
  paused: "paused_ms IS NOT NULL",
  done: "occurrence_ms IS NULL AND gave_up_ms IS NULL",
  dead: "gave_up_ms IS NOT NULL",
};

/** A new or replayed schedule, or the refusal of an idempotency key reused for another one. */
export type CreateResult = { kind: "created" | "replayed"; schedule: ScheduleView; manageToken: string } | Carried;

/** Who asks: the holder of a manage token (its hash), or the admin. */
export type Caller = { admin: true } | { admin: false; tokenHash: string };

/** Runs kept per schedule; older ones are dropped. */
const RUNS_KEPT = 50;
/**
 * Most deliveries one shard keeps in flight. On Cloudflare an invocation (an alarm included)
 * keeps at most 6 outgoing connections open and queues the rest inside the runtime; plain
 * workerd has no such limit, and there starting a shard's whole due set at once gets the last
 * delivery out soonest (rounds of 6, each waiting for the one before, left a same-second burst
 * several times later). The bound keeps a backlog from holding thousands of requests at once.
 */
const IN_FLIGHT_LIMIT = 64;
/** While deliveries are in flight the dispatcher looks for newly due schedules this often. */
const POLL_MS = 100;
/** A due time this close is waited for inside the running alarm rather than by a new one. */
const WAIT_IN_ALARM_MS = 1_000;
/** How much before a due time its alarm goes off; well within WAIT_IN_ALARM_MS. */
const WAKE_EARLY_MS = 300;
/** How long one alarm keeps dispatching before it leaves the rest to the next alarm. */
const HANDLER_BUDGET_MS = 60_000;
/** About the most finished schedules one alarm deletes; a larger backlog takes a few alarms. */
export const PRUNE_LIMIT = 500;

/** A delivery attempt that ended, waiting to be recorded together with the others that ended meanwhile. */
interface Ended {
  row: ScheduleRow;
  outcome: Outcome;
  started: number;
  finished: number;
}

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
    if (row.done_ms === null) await this.release([row]);
    return true;
  }

  /** A page of this shard's schedules in id order, after `afterId`, those matching `filter` only. */
  list(afterId: string, limit: number, filter: ListFilter = {}): ScheduleView[] {
    const where = ["id > ?"];
    const bindings: string[] = [afterId];
    if (filter.target !== undefined) {
      where.push("target = ?");
      bindings.push(filter.target);
    }
    if (filter.state !== undefined) where.push(STATE_SQL[filter.state]);
    return this.db
      .all<ScheduleRow>(`SELECT * FROM schedules WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`, ...bindings, limit)
      .map((row) => this.view(row));
  }

  /**
   * Pauses a live schedule: nothing is delivered until it is resumed (a delivery already under
   * way still ends and is recorded). Pausing a paused one changes nothing.
   */
  pause(id: string, caller: Caller): ScheduleView | Carried | null {
    const row = this.owned(id, caller);
    if (!row) return null;
    if (row.paused_ms === null) {
      if (row.occurrence_ms === null) return carry(finished(row, "paused"));
      this.db.run("UPDATE schedules SET paused_ms = ?, due_ms = NULL WHERE id = ?", Date.now(), id);
    }
    return this.view(this.row(id)!);
  }

  /**
   * Resumes a paused schedule. An attempt it was retrying is made now; a one-off whose time
   * passed while paused fires once, now; a repeat continues on its grid with its next run after
   * now (the runs it missed while paused are skipped), or finishes if that would pass its end.
   * Resuming one that is not paused changes nothing.
   */
  async resume(id: string, caller: Caller): Promise<ScheduleView | Carried | null> {
    const row = this.owned(id, caller);
    if (!row) return null;
    if (row.paused_ms === null) return row.occurrence_ms === null ? carry(finished(row, "resumed")) : this.view(row);
    const now = Date.now();
    let occurrence: number | null = row.occurrence_ms!;
    if (row.attempt === 0 && occurrence < now && row.kind !== "at") {
      occurrence = nextOccurrence(timingOf(row), occurrence, now);
      if (occurrence !== null && row.until_ms !== null && occurrence > row.until_ms) occurrence = null;
    }
    if (occurrence === null) {
      this.db.run("UPDATE schedules SET paused_ms = NULL, occurrence_ms = NULL, due_ms = NULL, done_ms = ? WHERE id = ?", now, id);
      await this.release([row]);
      await this.armAlarm();
    } else {
      const due = row.attempt > 0 ? now : Math.max(occurrence, now);
      this.db.run("UPDATE schedules SET paused_ms = NULL, occurrence_ms = ?, due_ms = ? WHERE id = ?", occurrence, due, id);
      await this.armAlarm(due);
    }
    return this.view(this.row(id)!);
  }

  /**
   * Delivers the schedule's payload once, now, outside its timing: the run is recorded and
   * counted, but neither moves the next occurrence nor is retried if it fails.
   */
  async runNow(id: string, caller: Caller): Promise<RunView | Carried | null> {
    const row = this.owned(id, caller);
    if (!row) return null;
    if (row.paused_ms !== null) return carry(new Refusal("schedule_paused", `Schedule ${id} is paused; resume it first.`));
    if (row.occurrence_ms === null) return carry(finished(row, "run"));
    if (!caller.admin) {
      const wait = this.runNowWait(id);
      if (wait > 0) {
        const seconds = Math.ceil(wait / 1000);
        return carry(new Refusal("rate_limited", `Schedule ${id} ran less than the shortest interval ago; run it again in ${seconds} s.`, { headers: { "Retry-After": String(seconds) } }));
      }
    }
    this.runningNow.add(id);
    const { outcome, started, finished: at } = await this.attempt(row, Date.now(), 1).finally(() => this.runningNow.delete(id));
    const run: RunRow = { at_ms: started, occurrence_ms: started, attempt: 1, ok: outcome.ok ? 1 : 0, status: outcome.status, duration_ms: at - started, error: outcome.error };
    // Cancelled meanwhile: the run happened but there is nothing left to record it in.
    if (!this.row(id)) return runView(run);
    this.ctx.storage.transactionSync(() => {
      this.db.run("UPDATE schedules SET run_count = run_count + 1 WHERE id = ?", id);
      this.addRun(row, run);
    });
    return runView(run);
  }

  /** Schedules being run now, whose run is not recorded yet. */
  private readonly runningNow = new Set<string>();

  /**
   * How long a visitor must wait to run `id` now, in ms: a schedule runs at most once per the
   * shortest interval, counting every run it made. The address's own limit is not enough: the
   * manage token works from any address, and each run is a delivery to the owner's target.
   */
  private runNowWait(id: string): number {
    if (this.runningNow.has(id)) return schedulerSettings(this.env).minIntervalSeconds * 1000;
    const last = this.db.one<{ at_ms: number }>("SELECT at_ms FROM runs WHERE schedule_id = ? ORDER BY seq DESC LIMIT 1", id);
    return last ? last.at_ms + schedulerSettings(this.env).minIntervalSeconds * 1000 - Date.now() : 0;
  }

  /**
   * Starts a dead schedule again: the occurrence that gave up gets a fresh series of attempts,
   * the first one now, with the same message id, so a receiver that saw an attempt still drops
   * the repeat.
   */
  async retry(id: string, caller: Caller): Promise<ScheduleView | Carried | null> {
    const row = this.owned(id, caller);
    if (!row) return null;
    if (row.gave_up_ms === null) {
      return carry(new Refusal("schedule_not_dead", `Schedule ${id} is ${this.view(row).state}; only a dead schedule can be retried.`));
    }
    const now = Date.now();
    this.db.run(
      `UPDATE schedules SET occurrence_ms = gave_up_ms, due_ms = ?, attempt = 0, done_ms = NULL, gave_up_ms = NULL,
         occurrences = MAX(occurrences - 1, 0) WHERE id = ?`,
      now,
      id,
    );
    await this.armAlarm(now);
    return this.view(this.row(id)!);
  }

  /**
   * The dispatcher: keeps up to IN_FLIGHT_LIMIT due deliveries in flight, starting the next as
   * one ends, and records the ended ones together, one transaction for all that ended since the
   * last look (a write holds this object's outgoing requests until the disk confirms it, so
   * fewer, larger writes let deliveries leave sooner). It keeps looking for newly due ones
   * (retries, next occurrences, schedules created meanwhile) until nothing is in flight.
   */
  override async alarm(): Promise<void> {
    if (this.dispatching) return;
    if (isStopping()) await waitForTheStop();
    this.dispatching = true;
    this.alarmClock.fired();
    this.prune();
    const inFlight = new Set<string>();
    const ended: Ended[] = [];
    const finished: ScheduleRow[] = [];
    let allEnded: (() => void) | undefined;
    const began = Date.now();
    try {
      for (;;) {
        if (ended.length > 0) finished.push(...this.record(ended.splice(0)));
        // Stopping: no new delivery, so none is cut off by the stop and sent again after it.
        for (const row of isStopping() ? [] : this.claimDue(inFlight)) {
          inFlight.add(row.id);
          void this.attempt(row).then((done) => {
            ended.push(done);
            inFlight.delete(row.id);
            if (inFlight.size === 0) allEnded?.();
          });
        }
        let wait = POLL_MS;
        if (inFlight.size === 0 && isStopping()) break;
        if (inFlight.size === 0) {
          // An alarm may fire a little before its time; waiting here beats re-arming it.
          // Busy shards hand over to a fresh alarm now and then instead of running one forever.
          wait = this.untilNextDue();
          if (wait > WAIT_IN_ALARM_MS || Date.now() - began > HANDLER_BUDGET_MS) break;
        }
        // Woken early only when the last delivery in flight ends; else what ended meanwhile is
        // recorded together at the next look.
        await new Promise<void>((done) => {
          const timer = setTimeout(done, Math.min(wait, POLL_MS));
          allEnded = () => {
            clearTimeout(timer);
            done();
          };
        });
        allEnded = undefined;
      }
    } finally {
      this.dispatching = false;
      await this.armAlarm();
      // Once per alarm: a place held a few seconds longer costs nothing, a call per delivery does.
      await this.release(finished);
    }
    if (isStopping()) await waitForTheStop();
  }

  /**
   * The due rows to start now, in due order, as many as there is room in flight for. Nothing is
   * written first: a write would hold every outgoing request of this object until the disk
   * confirms it. If the object dies mid-delivery the rows are still due and the alarm, which is
   * only done when this handler returns, runs again: at least once.
   */
  private claimDue(inFlight: Set<string>): ScheduleRow[] {
    const room = IN_FLIGHT_LIMIT - inFlight.size;
    if (room <= 0) return [];
    // What is in flight is still due (its row changes only once recorded), so a count from the
    // index says whether anything else is, without reading every due row at each look.
    if (this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM schedules WHERE due_ms <= ?", Date.now())!.n <= inFlight.size) return [];
    const due = this.db.all<ScheduleRow>("SELECT * FROM schedules WHERE due_ms <= ? ORDER BY due_ms LIMIT ?", Date.now(), inFlight.size + room);
    return due.filter((row) => !inFlight.has(row.id)).slice(0, room);
  }

  /** Milliseconds until the next due time (Infinity when none); only asked with nothing in flight. */
  private untilNextDue(): number {
    const next = this.db.one<{ due_ms: number }>("SELECT due_ms FROM schedules WHERE due_ms IS NOT NULL ORDER BY due_ms LIMIT 1");
    return next ? Math.max(0, next.due_ms - Date.now()) : Infinity;
  }

  /** One attempt to deliver the row: its next one unless `occurrence` and `attempt` say otherwise. */
  private async attempt(row: ScheduleRow, occurrence = row.occurrence_ms!, attempt = row.attempt + 1): Promise<Ended> {
    const started = Date.now();
    // Older versions stored payloads of any depth; such a row can never be delivered (every
    // attempt would overflow the stack), so it ends here with a run that says why.
    const outcome: Outcome = nestsTooDeep(row.payload)
      ? { ok: false, status: null, error: `The payload nests deeper than ${MAX_JSON_DEPTH} levels and cannot be delivered; the schedule ends.`, retry: false, final: true }
      : await this.deliver(row, occurrence, attempt);
    return { row, outcome, started, finished: Date.now() };
  }

  /**
   * Records ended attempts in one transaction: each one's run, and where its schedule goes next
   * (a retry, the next occurrence, or its end: done, or dead when the last attempt failed). A
   * schedule cancelled meanwhile records nothing; one paused meanwhile keeps its place but stays
   * paused. Returns the schedules that ended, whose places are to be given back.
   */
  private record(batch: Ended[]): ScheduleRow[] {
    const settings = schedulerSettings(this.env);
    const finished: ScheduleRow[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const { row, outcome, started, finished: at } of batch) {
        const occurrence = row.occurrence_ms!;
        const attempt = row.attempt + 1;
        let written: number;
        if (!outcome.ok && outcome.retry && attempt < settings.maxAttempts) {
          written = this.db.run(
            "UPDATE schedules SET attempt = ?, due_ms = CASE WHEN paused_ms IS NULL THEN ? END, run_count = run_count + 1 WHERE id = ?",
            attempt,
            at + backoffDelay(settings.retry, attempt),
            row.id,
          );
        } else {
          const occurrences = row.occurrences + 1;
          let next = outcome.final ? null : nextOccurrence(timingOf(row), occurrence, at);
          if ((row.times !== null && occurrences >= row.times) || (row.until_ms !== null && next !== null && next > row.until_ms)) next = null;
          written = this.db.run(
            `UPDATE schedules SET attempt = 0, occurrence_ms = ?, due_ms = CASE WHEN paused_ms IS NULL THEN ? END, done_ms = ?,
               gave_up_ms = ?, paused_ms = CASE WHEN ? IS NULL THEN NULL ELSE paused_ms END, run_count = run_count + 1, occurrences = ? WHERE id = ?`,
            next,
            next,
            next === null ? at : null,
            next === null && !outcome.ok ? occurrence : null,
            next,
            occurrences,
            row.id,
          );
          if (written > 0 && next === null) finished.push(row);
        }
        if (written === 0) continue;
        this.figures.count(outcome.ok ? "deliveries_ok" : outcome.retry && attempt < settings.maxAttempts ? "deliveries_retried" : "deliveries_given_up");
        this.addRun(row, {
          at_ms: started,
          occurrence_ms: occurrence,
          attempt,
          ok: outcome.ok ? 1 : 0,
          status: outcome.status,
          duration_ms: at - started,
          error: outcome.error,
        });
      }
    });
    return finished;
  }

  /** Records a run of `row`, dropping its oldest past RUNS_KEPT (a one-off never gets there, so it pays nothing for it). */
  private addRun(row: ScheduleRow, run: RunRow): void {
    this.db.run(
      "INSERT INTO runs (schedule_id, at_ms, occurrence_ms, attempt, ok, status, duration_ms, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      row.id,
      run.at_ms,
      run.occurrence_ms,
      run.attempt,
      run.ok,
      run.status,
      run.duration_ms,
      run.error,
    );
    if (row.run_count + 1 > RUNS_KEPT) {
      this.db.run(
        `DELETE FROM runs WHERE schedule_id = ? AND seq <= (
           SELECT seq FROM runs WHERE schedule_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)`,
        row.id,
        row.id,
        RUNS_KEPT,
      );
    }
  }

  /**
   * Gives back the places finished or cancelled schedules held, one call per holder for all of
   * them; should this fail, the places lapse by themselves.
   */
  private async release(rows: ScheduleRow[]): Promise<void> {
    const byHolder = new Map<string, { holder: Holder; ids: string[] }>();
    for (const row of rows) {
      if (row.owner_ip === null) continue;
      const key = JSON.stringify([row.owner_ip, row.target]);
      const group = byHolder.get(key) ?? byHolder.set(key, { holder: { ip: row.owner_ip, target: row.target }, ids: [] }).get(key)!;
      group.ids.push(row.id);
    }
    await Promise.all(
      [...byHolder.values()].map(async ({ holder, ids }) => {
        try {
          await releasePlaces(this.env, holder, ids);
        } catch (error) {
          console.warn(`schedules ${ids.join(", ")}: could not give back their places: ${(error as Error).message}`);
        }
      }),
    );
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
    // Nothing to delete: no write, which would hold the deliveries this alarm is about to start.
    else if (!this.db.one("SELECT 1 FROM schedules WHERE done_ms <= ? LIMIT 1", cutoff)) return;
    this.db.run("DELETE FROM runs WHERE schedule_id IN (SELECT id FROM schedules WHERE done_ms <= ?)", cutoff);
    this.db.run("DELETE FROM schedules WHERE done_ms <= ?", cutoff);
  }

  /** The times the alarm has work: the earliest due time and the earliest prune time. */
  private nextWake(): [due: number | null, prune: number | null] {
    const due = this.db.one<{ at: number }>("SELECT due_ms AS at FROM schedules WHERE due_ms IS NOT NULL ORDER BY due_ms LIMIT 1");
    const done = this.db.one<{ at: number }>("SELECT done_ms AS at FROM schedules WHERE done_ms IS NOT NULL ORDER BY done_ms LIMIT 1");
    const prune = done ? done.at + schedulerSettings(this.env).retentionMs : null;
    return [due?.at ?? null, prune];
  }

  /**
   * Brings the alarm forward for a delivery due at `at` if that is earlier, or (without `at`)
   * sets it to the next time there is work. For a delivery it goes off WAKE_EARLY_MS before:
   * waking the shard (loading it, running its alarm) overlaps the wait, and the alarm itself
   * waits for the due time.
   */
  private async armAlarm(at?: number): Promise<void> {
    if (at !== undefined) await this.alarmClock.bringForward(at - WAKE_EARLY_MS);
    else {
      const [due, prune] = this.nextWake();
      await this.alarmClock.setToEarliest(due === null ? null : due - WAKE_EARLY_MS, prune);
    }
  }

  private row(id: string): ScheduleRow | null {
    return this.db.one<ScheduleRow>("SELECT * FROM schedules WHERE id = ?", id);
  }

  private owned(id: string, caller: Caller): ScheduleRow | null {
    const row = this.row(id);
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
      next: row.occurrence_ms === null || row.paused_ms !== null ? null : iso(row.attempt > 0 ? row.due_ms! : row.occurrence_ms),
      state: stateOf(row),
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
    if (row.paused_ms !== null) view.pausedAt = iso(row.paused_ms);
    return view;
  }
}

/**
 * What an alarm does once the server is stopping: it waits, neither done (which would drop the
 * alarm) nor failed (which would spend its retries), so the restart finds the alarm set and
 * runs it. Should the stop not come, the alarm carries on after a minute, re-armed before it ends.
 */
const waitForTheStop = () => new Promise<void>((done) => setTimeout(done, 60_000));

function stateOf(row: ScheduleRow): ScheduleState {
  if (row.paused_ms !== null) return "paused";
  if (row.gave_up_ms !== null) return "dead";
  if (row.occurrence_ms === null) return "done";
  return row.attempt > 0 ? "retrying" : "scheduled";
}

/** The refusal of an operation that needs a live schedule. */
function finished(row: ScheduleRow, verb: string): Refusal {
  return new Refusal("schedule_finished", `Schedule ${row.id} is ${stateOf(row)} and cannot be ${verb}; create a new one${row.gave_up_ms === null ? "" : " or retry it"}.`);
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
