import { DurableObject } from "cloudflare:workers";
import type { MetricsReport } from "../../contract/admin.ts";
import type { Env } from "../env.ts";
import { flag } from "../settings.ts";

export type { MetricsReport };

/**
 * `METRICS=off` turns every figure off (each object then does nothing per event), so the cost of
 * keeping them can be measured; anything else, or unset, keeps them on.
 */
const METRICS_OFF = flag("METRICS", "off");

export const metricsOn = (env: Env) => !METRICS_OFF.read(env);

/** The figures counted per event; `refusals:<code>` counts refusals by error code. */
export type Count = "clicks" | "chat_messages" | "appends" | "deliveries_ok" | "deliveries_retried" | "deliveries_given_up" | "rate_limited" | "errors" | `refusals:${string}`;

/** The figures that are a level, not a sum of events: each object reports its own, and they are added up. */
export type Level = "sockets:counters" | "sockets:rooms" | "feeds";

/** How long an object keeps its counts before it pushes them: a few seconds' worth travel in one call. */
const PUSH_EVERY_MS = 5_000;

/**
 * An object's (or a Worker isolate's) figures since its last push. Counting is a map update in
 * memory; at most every PUSH_EVERY_MS, and only after something changed, one RPC carries the
 * whole batch to the one `Metrics` object. An object evicted before its push loses those few
 * seconds of counts, which is the price of never writing per event.
 */
export class Figures {
  private readonly on: boolean;
  private counts = new Map<string, number>();
  private levelsChanged = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastPush = 0;

  constructor(
    private readonly env: Env,
    /** Which object reports, so its levels replace its own earlier ones and no one else's. */
    private readonly source: () => string,
    /** The object's levels, read only when a push is about to go (after `levelsChange`). */
    private readonly levels: () => Partial<Record<Level, number>> = () => ({}),
    /** Pushes by timer (Durable Objects) or only when `pushIfDue` is called (the Worker). */
    private readonly byTimer = true,
  ) {
    this.on = metricsOn(env);
  }

  count(name: Count, by = 1): void {
    if (!this.on) return;
    this.counts.set(name, (this.counts.get(name) ?? 0) + by);
    this.schedule();
  }

  /** Something that `levels` reads changed (a socket opened or closed): it is read at the next push. */
  levelsChange(): void {
    if (!this.on) return;
    this.levelsChanged = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.byTimer) this.timer ??= setTimeout(() => void this.push(), PUSH_EVERY_MS);
  }

  /** For the Worker, whose isolate may not outlive a timer: pushes when the last push is old enough. */
  pushIfDue(): Promise<void> | undefined {
    if (!this.on || Date.now() - this.lastPush < PUSH_EVERY_MS || (this.counts.size === 0 && !this.levelsChanged)) return undefined;
    return this.push();
  }

  async push(): Promise<void> {
    this.timer = undefined;
    this.lastPush = Date.now();
    const counts = Object.fromEntries(this.counts);
    const levels = this.levelsChanged ? this.levels() : {};
    this.counts = new Map();
    this.levelsChanged = false;
    try {
      await this.env.ADMIN_METRICS.getByName(METRICS_OBJECT).record(this.source(), counts, levels);
    } catch {
      // Figures are best effort: a failed push loses one batch, never the event that was counted.
    }
  }
}

const METRICS_OBJECT = "all";

/** Minutes of history kept, and the charts' span. */
const KEEP_MINUTES = 60;
/** The object writes what it was sent at most this often, in one write. */
const WRITE_EVERY_MS = 10_000;


type Bucket = Record<string, number>;

/** Each reporter's levels are an entry of their own: there is one reporter per object with sockets open. */
const LEVELS_PREFIX = "levels:";

/**
 * The one object that adds up every other object's pushes: per-minute sums for the last hour,
 * totals since the start, and each reporter's latest levels. It keeps all of it in memory and
 * writes the changed parts at most every WRITE_EVERY_MS, in one write. Levels are kept one entry
 * per reporter, and only the changed ones are written: tens of thousands of counters open on as
 * many pages would make one map of them bigger than a stored value may be (2 MB on Cloudflare),
 * and rewriting all of it every 10 s for one socket that closed.
 * Cost: one RPC per busy object per 5 s into this object, and one write per 10 s from it.
 */
export class Metrics extends DurableObject<Env> {
  private minutes = new Map<number, Bucket>();
  private totals: Bucket = {};
  private levels: Record<string, Bucket> = {};
  private dirty = false;
  /** Reporters whose levels changed since the last write. */
  private changedLevels = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const kv = ctx.storage.kv;
    this.totals = kv.get<Bucket>("totals") ?? {};
    for (const [key, levels] of kv.list<Bucket>({ prefix: LEVELS_PREFIX })) this.levels[key.slice(LEVELS_PREFIX.length)] = levels;
    // Written by an earlier version as one map: split at the next write.
    const oneMap = kv.get<Record<string, Bucket>>("levels");
    if (oneMap) {
      Object.assign(this.levels, oneMap);
      for (const source of Object.keys(oneMap)) this.changedLevels.add(source);
      kv.delete("levels");
      this.dirty = true;
    }
    for (const [minute, bucket] of Object.entries(kv.get<Record<string, Bucket>>("minutes") ?? {})) this.minutes.set(Number(minute), bucket);
  }

  record(source: string, counts: Bucket, levels: Bucket): void {
    const minute = Math.floor(Date.now() / 60_000);
    const bucket = this.minutes.get(minute) ?? {};
    for (const [name, value] of Object.entries(counts)) {
      bucket[name] = (bucket[name] ?? 0) + value;
      this.totals[name] = (this.totals[name] ?? 0) + value;
    }
    this.minutes.set(minute, bucket);
    if (Object.keys(levels).length > 0) {
      const mine = { ...this.levels[source], ...levels };
      for (const [name, value] of Object.entries(mine)) if (value === 0) delete mine[name];
      if (Object.keys(mine).length === 0) delete this.levels[source];
      else this.levels[source] = mine;
      this.changedLevels.add(source);
    }
    this.dirty = true;
    this.timer ??= setTimeout(() => this.write(), WRITE_EVERY_MS);
  }

  private prune(): void {
    const oldest = Math.floor(Date.now() / 60_000) - KEEP_MINUTES;
    for (const minute of this.minutes.keys()) if (minute <= oldest) this.minutes.delete(minute);
  }

  private write(): void {
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.prune();
    const kv = this.ctx.storage.kv;
    kv.put("totals", this.totals);
    for (const source of this.changedLevels) {
      const levels = this.levels[source];
      if (levels) kv.put(LEVELS_PREFIX + source, levels);
      else kv.delete(LEVELS_PREFIX + source);
    }
    this.changedLevels.clear();
    kv.put("minutes", Object.fromEntries(this.minutes));
  }

  report(): MetricsReport {
    this.prune();
    const open = { counters: 0, rooms: 0, feeds: 0 };
    for (const levels of Object.values(this.levels)) {
      open.counters += levels["sockets:counters"] ?? 0;
      open.rooms += levels["sockets:rooms"] ?? 0;
      open.feeds += levels.feeds ?? 0;
    }
    const lastFull = this.minutes.get(Math.floor(Date.now() / 60_000) - 1) ?? {};
    const perSecond = Object.fromEntries(Object.entries(lastFull).map(([name, value]) => [name, Math.round((value / 60) * 100) / 100]));
    const minutes = [...this.minutes]
      .sort(([a], [b]) => a - b)
      .map(([minute, counts]) => ({ minute: new Date(minute * 60_000).toISOString(), counts }));
    return { enabled: metricsOn(this.env), at: new Date().toISOString(), open, perSecond, totals: { ...this.totals }, minutes };
  }
}

/** The report, read from the one object that holds it. */
export const metricsReport = (env: Env) => env.ADMIN_METRICS.getByName(METRICS_OBJECT).report();

const HELP: Record<string, string> = {
  clicks: "Counter clicks.",
  chat_messages: "Chat messages posted.",
  appends: "Appends to Durable Streams.",
  deliveries_ok: "Scheduled deliveries that succeeded.",
  deliveries_retried: "Scheduled deliveries that failed and will be retried.",
  deliveries_given_up: "Scheduled deliveries that failed for the last time.",
  rate_limited: "Actions refused by a rate limit.",
  errors: "Requests answered with a 5xx or an uncaught exception.",
};

/**
 * A label value as the text format wants it: backslash, double quote and line feed escaped.
 * Refusal codes come from the catalogue today, but the Metrics object adds up whatever names it
 * is sent, and one unescaped quote or newline would let a name write lines of its own.
 */
const labelValue = (value: string) => value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");

/** The report in Prometheus's text format (version 0.0.4). */
export function prometheusText(report: MetricsReport): string {
  const lines: string[] = [];
  lines.push("# HELP edge_widgets_open_sockets Open WebSockets and live stream readers, by kind.", "# TYPE edge_widgets_open_sockets gauge");
  for (const [kind, value] of Object.entries(report.open)) lines.push(`edge_widgets_open_sockets{kind="${labelValue(kind)}"} ${value}`);
  const refusals = Object.entries(report.totals).filter(([name]) => name.startsWith("refusals:"));
  for (const name of Object.keys(HELP)) {
    const metric = `edge_widgets_${name}_total`;
    lines.push(`# HELP ${metric} ${HELP[name]}`, `# TYPE ${metric} counter`, `${metric} ${report.totals[name] ?? 0}`);
  }
  lines.push("# HELP edge_widgets_refusals_total Requests refused, by error code.", "# TYPE edge_widgets_refusals_total counter");
  for (const [name, value] of refusals) lines.push(`edge_widgets_refusals_total{code="${labelValue(name.slice("refusals:".length))}"} ${value}`);
  return lines.join("\n") + "\n";
}

/** The Worker isolate's own figures: refusals by code and 5xx answers. The "source" has no levels. */
let workerFigures: Figures | undefined;
const worker = (env: Env) => (workerFigures ??= new Figures(env, () => "worker", undefined, false));

/** Counts a refusal (or an uncaught error, as `internal`) the Worker answered with. */
export function countRefusal(env: Env, code: string): void {
  worker(env).count(`refusals:${code}`);
}

/** Counts a 5xx answer, and hands the isolate's batch on when one is due. */
export function countAnswer(env: Env, ctx: ExecutionContext, status: number): void {
  const figures = worker(env);
  if (status >= 500) figures.count("errors");
  const push = figures.pushIfDue();
  if (push) ctx.waitUntil(push);
}
