import { z } from "zod";
import type { CounterClientFrame, CounterServerFrame } from "../../contract/counter.ts";
import type { Env } from "../env.ts";
import { forwardedIp } from "../http/client-ip.ts";
import { Refusal } from "../http/refusal.ts";
import type { SameType } from "../http/validate.ts";
import { BatchedRateCheck } from "../rate-limiter/rate-limiter.ts";
import { SocketRoom } from "../socket/socket-room.ts";
import { Listing } from "../admin/directory.ts";

const ClientMessage = z.discriminatedUnion("type", [z.object({ type: z.literal("click") }).strict()]);
// A frame or field in the contract that no schema checks, or the other way round, fails here.
true satisfies SameType<z.output<typeof ClientMessage>, CounterClientFrame>;

interface Viewer {
  ip: string;
}

/** Broadcasts are sent at most this often; clicks in between are summed into the next one. */
const BROADCAST_EVERY_MS = 16;

/**
 * One shared counter. Its value lives in the object's storage, so it survives restarts; every
 * viewer holds a hibernatable WebSocket and sees each change.
 */
export class Counter extends SocketRoom<Env, Viewer, CounterClientFrame, CounterServerFrame> {
  protected readonly route = "counter";
  protected readonly maxFrameBytes = 256;
  protected readonly messages = ClientMessage;

  private count: number;
  private readonly clicks = new BatchedRateCheck(this.env, "click");
  private lastBroadcast = 0;
  private broadcastTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listing = new Listing(this.env, "counters", () => this.ctx.id.name);

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.count = ctx.storage.kv.get<number>("count") ?? 0;
  }

  getCount(): number {
    return this.count;
  }

  protected attach(request: Request): Viewer {
    return { ip: forwardedIp(request) };
  }

  protected onOpen(ws: WebSocket): void {
    this.send(ws, { type: "ready", count: this.count });
  }

  protected async onMessage(_ws: WebSocket, _message: CounterClientFrame, viewer: Viewer): Promise<void> {
    const decision = await this.clicks.check(viewer.ip);
    if (!decision.ok) {
      throw new Refusal("rate_limited", "Too many clicks; wait a moment.", { retryAfterMs: decision.retryAfterMs });
    }
    this.count += 1;
    // Storage writes are confirmed before any later message leaves the object, so no viewer
    // ever sees a count that a crash could take back.
    this.ctx.storage.kv.put("count", this.count);
    this.figures.count("clicks");
    this.listing.active();
    this.scheduleBroadcast();
  }

  /** Leading-edge throttle: a lone click is sent at once, a burst at most once a frame (16 ms). */
  private scheduleBroadcast(): void {
    if (this.broadcastTimer) return;
    const wait = this.lastBroadcast + BROADCAST_EVERY_MS - Date.now();
    if (wait <= 0) {
      this.flush();
    } else {
      this.broadcastTimer = setTimeout(() => this.flush(), wait);
    }
  }

  private flush(): void {
    this.broadcastTimer = undefined;
    this.lastBroadcast = Date.now();
    this.broadcast({ type: "count", count: this.count });
  }
}
