import { z } from "zod";
import type { CounterClientFrame, CounterServerFrame } from "../../contract/counter.ts";
import { backoffDelay, type Backoff } from "../backoff.ts";
import type { Env } from "../env.ts";
import { forwardedIp } from "../http/client-ip.ts";
import { Refusal } from "../http/refusal.ts";
import type { SameType } from "../http/validate.ts";
import { BatchedRateCheck } from "../rate-limiter/rate-limiter.ts";
import { SocketRoom } from "../socket/socket-room.ts";
import { Listing } from "../admin/directory.ts";
import { closedSocket } from "../socket/upgrade.ts";
import * as CloseCode from "../../contract/close-codes.ts";
import { FULL_HEADER, OBJECT_HEADER, SOCKETS_PER_OBJECT, SPREAD_HEADER, objectName, shardOf, type CounterState } from "./placement.ts";
import { FramePacing, framesPerSocket, holding } from "./pacing.ts";
import { FRAMES_PER_SECOND, Tally, type ClickBatch, type CounterStats, type ViewerReport } from "./tally.ts";

const ClientMessage = z.discriminatedUnion("type", [z.object({ type: z.literal("click") }).strict()]);
// A frame or field in the contract that no schema checks, or the other way round, fails here.
true satisfies SameType<z.output<typeof ClientMessage>, CounterClientFrame>;

interface Viewer {
  ip: string;
  /** Opened with `?viewers`: its frames carry the viewer figure, and a new figure alone is sent to it. */
  viewers: boolean;
}

type Place = ReturnType<typeof shardOf>;

/** Sockets that asked for the viewer figure. */
const VIEWERS_TAG = "viewers";

/** A viewer object reports its sockets to the count's object at most this often. */
const REPORT_EVERY_MS = 1000;

/** Retries of a call to the count's object that failed (it restarted, or is being moved). */
const RETRY: Backoff = { baseMs: 100, maxMs: 5000, jitter: [0.5, 1] };
const MOST_ATTEMPTS = 12;

/**
 * One viewer object of a shared counter (placement.ts): it holds viewers' hibernatable sockets,
 * checks their clicks against the per-IP limit and forwards the accepted ones, in batches, to the
 * count's object, and sends every count that object publishes to its sockets. The object named
 * after the counter is also the count's object (`Tally`), so a counter with few viewers is one
 * object as before.
 */
export class Counter extends SocketRoom<Env, Viewer, CounterClientFrame, CounterServerFrame> {
  protected readonly route = "counter";
  protected readonly maxFrameBytes = 256;
  protected readonly messages = ClientMessage;

  /**
   * Which counter and shard this object is: told by the Worker's socket request or by the
   * caller of each method, kept in storage for when it wakes for a socket's message.
   */
  private placed: Place | undefined;
  private tally: Tally | undefined;
  private readonly clicks = new BatchedRateCheck(this.env, "click");
  /** Every object of a counter lists the counter's own name: the owner sees counters, not objects. */
  private readonly listing = new Listing(this.env, "counters", () => this.placed?.counter);

  /** The latest state published here; unknown after a restart until the count's object is asked. */
  private known: CounterState | undefined;
  /** The latest state sent to the sockets (or told them on arrival): `known` waits for its frame. */
  private shown: CounterState | undefined;
  private readonly pacing = new FramePacing(
    () => framesPerSocket(this.env),
    // Within a burst the count's object publishes once an interval: half an interval more without
    // a new state means the burst is over. Shorter only spends the frame in hand sooner; the rate holds.
    () => 1.5 * Math.max(1000 / FRAMES_PER_SECOND.read(this.env), this.known?.spread ?? 0),
    () => this.showKnown(),
  );
  /**
   * The open sockets, each with whether it asked for the viewer figure: kept here so a frame is
   * one `send` per socket, not a wrapper per socket from `getWebSockets()` as well. Read from the
   * runtime once per life of the object (sockets outlive it when it hibernates).
   */
  private sockets: Map<WebSocket, boolean> | undefined;
  /** Sockets past the cap check whose handshake is not done yet. */
  private arriving = 0;
  private peak = 0;

  /** Clicks accepted and not yet forwarded, and the batch numbering of this life of the object. */
  private unsent = 0;
  /** The batches under way, until every accepted click is stored. */
  private forwarding: Promise<void> | undefined;
  private lastForward = 0;
  private readonly session = crypto.randomUUID();
  private seq = 0;

  private reporting: Promise<void> | undefined;
  private reportAgain = false;
  private reportTimer: ReturnType<typeof setTimeout> | undefined;
  private lastReport = 0;

  /** The count, for `GET /api/counters/{name}` (asked of the count's object). */
  getCount(counter: string): number {
    return this.authority(counter).state().count;
  }

  /** For the owner's stats route (asked of the count's object). */
  stats(counter: string): CounterStats {
    return this.authority(counter).stats();
  }

  /** The count's object: counts a batch of clicks from viewer object `shard`. */
  addClicks(counter: string, shard: number, batch: ClickBatch): CounterState {
    return this.authority(counter).add(shard, batch);
  }

  /** The count's object: viewer object `shard` holds this many sockets now. */
  report(counter: string, shard: number, report: ViewerReport): CounterState {
    return this.authority(counter).report(shard, report);
  }

  /** A viewer object (`self` is its name): the count's object publishes a new state; it answers with its own figures. */
  publish(self: string, state: CounterState): ViewerReport {
    this.place(shardOf(self));
    const figures = this.take(state);
    // Still on the count's list with no sockets (they all went with a restart): leave it, by a
    // report, since reports are what the list trusts.
    if (figures.sockets === 0) void this.reportSockets();
    return figures;
  }

  private take(state: CounterState): ViewerReport {
    // Publishes may overtake one another on the way; the count only grows, so the larger is newer.
    if (this.known && state.count < this.known.count) return this.socketReport();
    this.known = state;
    if (!this.shown || state.count !== this.shown.count || state.viewers !== this.shown.viewers) this.pacing.changed();
    return this.socketReport();
  }

  /** Sends the latest state: to every socket when the count changed, else the viewer figure to those that asked. */
  private showKnown(): void {
    const before = this.shown;
    const { count, viewers } = (this.shown = this.known!);
    const withViewers = JSON.stringify({ type: "count", count, viewers } satisfies CounterServerFrame);
    if (!before || count !== before.count) {
      const plain = JSON.stringify({ type: "count", count } satisfies CounterServerFrame);
      for (const [ws, asking] of this.held()) this.sendText(ws, asking ? withViewers : plain);
    } else if (viewers !== before.viewers) {
      for (const [ws, asking] of this.held()) if (asking) this.sendText(ws, withViewers);
    }
  }

  override async fetch(request: Request): Promise<Response> {
    const self = request.headers.get(OBJECT_HEADER);
    if (self !== null) this.place(shardOf(self));
    if (this.held().size + this.arriving >= SOCKETS_PER_OBJECT.read(this.env)) {
      return new Response(null, { status: 503, headers: { [FULL_HEADER]: "1" } });
    }
    this.arriving += 1;
    let response: Response;
    try {
      // Known before the socket is accepted, so every state this object takes after it is news
      // to its sockets, and its first frame can say the count.
      if (!this.known) await this.reportSockets();
      if (!this.known) return closedSocket(CloseCode.tryAgainLater, "the counter is unavailable; retrying");
      response = await super.fetch(request);
    } finally {
      this.arriving -= 1;
      // Whether it was accepted or refused (the address's slots were taken), the figure changed.
      void this.reportSockets();
    }
    if (response.webSocket && this.known) response.headers.set(SPREAD_HEADER, String(this.known.spread));
    return response;
  }

  protected attach(request: Request): Viewer {
    return { ip: forwardedIp(request), viewers: new URL(request.url).searchParams.has("viewers") };
  }

  protected override tags(viewer: Viewer): string[] {
    return viewer.viewers ? [VIEWERS_TAG] : [];
  }

  protected onOpen(ws: WebSocket, viewer: Viewer): void {
    this.held().set(ws, viewer.viewers);
    this.socketsChanged();
    // Set in `fetch` before the socket was accepted.
    const { count, viewers } = this.known!;
    this.send(ws, viewer.viewers ? { type: "ready", count, viewers } : { type: "ready", count });
  }

  protected override onClose(ws: WebSocket): void {
    this.held().delete(ws);
    this.socketsChanged();
    void this.reportSockets();
  }

  private held(): Map<WebSocket, boolean> {
    if (!this.sockets) {
      const asking = new Set(this.ctx.getWebSockets(VIEWERS_TAG));
      this.sockets = new Map(this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).map((ws) => [ws, asking.has(ws)]));
      this.socketsChanged();
    }
    return this.sockets;
  }

  private socketsChanged(): void {
    holding(this.ctx.id.toString(), this.sockets!.size);
  }

  protected async onMessage(_ws: WebSocket, _message: CounterClientFrame, viewer: Viewer): Promise<void> {
    const decision = await this.clicks.check(viewer.ip);
    if (!decision.ok) {
      // Told after the clicks accepted before it are stored, so a refused clicker who then
      // reads the count finds every click of theirs that was let through.
      await this.forwarding;
      throw new Refusal("rate_limited", "Too many clicks; wait a moment.", { retryAfterMs: decision.retryAfterMs });
    }
    this.unsent += 1;
    this.figures.count("clicks");
    this.listing.active();
    this.forwarding ??= this.forwardClicks().finally(() => (this.forwarding = undefined));
  }

  /**
   * One batch in flight at a time, and batches at least a frame apart, or one millisecond per
   * viewer object of the counter apart when there are more: however many objects, the count's
   * object gets about a thousand batches a second at most, and stores (one commit each) no
   * more. Clicks accepted meanwhile go together in the next batch. The count's object's own
   * viewers batch their clicks the same way.
   */
  private async forwardClicks(): Promise<void> {
    while (this.unsent > 0) {
      const gap = Math.max(1000 / FRAMES_PER_SECOND.read(this.env), this.known?.spread ?? 0);
      const wait = this.lastForward + gap - Date.now();
      if (wait > 0) await new Promise((done) => setTimeout(done, wait));
      this.lastForward = Date.now();
      const batch: ClickBatch = { session: this.session, seq: ++this.seq, clicks: this.unsent };
      this.unsent = 0;
      const { counter, shard } = this.place();
      const tally = this.tallyHere();
      const state = tally ? tally.add(0, batch) : await this.retried("forward clicks", () => this.countObject().addClicks(counter, shard, batch));
      if (state) this.learn(state);
    }
  }

  /**
   * Tells the count's object how many sockets this object holds: at once when nothing is under
   * way, else at most once a `REPORT_EVERY_MS`, the latest figure winning. Reports go one at a
   * time, in order, so the count's object never takes an old one for a new one.
   */
  private reportSockets(): Promise<void> {
    if (this.reporting) {
      this.reportAgain = true;
      return this.reporting;
    }
    const wait = this.lastReport + REPORT_EVERY_MS - Date.now();
    if (wait > 0 && this.known) {
      this.reportTimer ??= setTimeout(() => {
        this.reportTimer = undefined;
        void this.reportSockets();
      }, wait);
      return Promise.resolve();
    }
    this.lastReport = Date.now();
    this.reporting = (async () => {
      const figures = this.socketReport();
      const { counter, shard } = this.place();
      const tally = this.tallyHere();
      const state = tally ? tally.report(0, figures) : await this.retried("report sockets", () => this.countObject().report(counter, shard, figures));
      if (state) this.learn(state);
    })().finally(() => {
      this.reporting = undefined;
      if (this.reportAgain) {
        this.reportAgain = false;
        void this.reportSockets();
      }
    });
    return this.reporting;
  }


  /**
   * A state the count's object answered with: as new as any publish, so taken like one, except
   * the first after a restart, which only tells this object the count its sockets already have
   * (every change since reached it as a publish).
   */
  private learn(state: CounterState): void {
    if (this.known) this.take(state);
    else this.known = this.shown = state;
  }

  /**
   * Sockets being accepted count as held: the report a first socket waits for then already
   * puts this object on the count's list, so no publish misses it.
   */
  private socketReport(): ViewerReport {
    const open = this.held().size;
    this.peak = Math.max(this.peak, open);
    return { sockets: open + this.arriving, peak: this.peak };
  }

  private sendText(ws: WebSocket, text: string): void {
    try {
      ws.send(text);
    } catch {
      // Closed, and its close event not handled yet: it gets no more frames.
      if (this.sockets?.delete(ws)) this.socketsChanged();
    }
  }

  /** Publishes to viewer object `shard`: this one directly, another through its stub. */
  private publishTo(shard: number, state: CounterState): ViewerReport | Promise<ViewerReport> {
    if (shard === 0) return this.take(state);
    const name = objectName(this.place().counter, shard);
    return this.env.COUNTER.getByName(name).publish(name, state);
  }

  private countObject() {
    return this.env.COUNTER.getByName(objectName(this.place().counter, 0));
  }

  /** This object's counter and shard: from `given` the first time, from storage after a restart. */
  private place(given?: Place): Place {
    if (!this.placed) {
      const stored = this.ctx.storage.kv.get<Place>("place");
      if (!stored && given) this.ctx.storage.kv.put("place", given);
      this.placed = stored ?? given;
      if (!this.placed) throw new Error("a counter object was used before it was told which counter it serves");
    }
    return this.placed;
  }

  /** The count's `Tally`, when this object is shard 0 (the count's object). */
  private tallyHere(): Tally | undefined {
    if (this.place().shard !== 0) return undefined;
    this.tally ??= new Tally(this.ctx.storage, this.env, (shard, state) => this.publishTo(shard, state));
    return this.tally;
  }

  private authority(counter: string): Tally {
    this.place({ counter, shard: 0 });
    const tally = this.tallyHere();
    if (!tally) throw new Error(`a viewer object of ${counter} was asked for its count`);
    return tally;
  }

  /** Calls the count's object until it answers; batches carry their number, so a retry is harmless. */
  private async retried<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (attempt >= MOST_ATTEMPTS) {
          console.error(`counter ${this.place().counter}: could not ${what}`, error);
          return undefined;
        }
        await new Promise((done) => setTimeout(done, backoffDelay(RETRY, attempt)));
      }
    }
  }
}
