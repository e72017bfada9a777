/**
 * The internal bridge from a stream object to the Worker's live readers (long-poll, SSE): a
 * WebSocket that the object accepts with the hibernation API. The object sends every append to
 * every bridge socket and may sleep between appends; the waiting happens in the Worker. Both
 * ends live here: the object's (`acceptBridge`, `broadcast`, `closeBridges`) and the Worker's
 * (`Bridge`).
 */
import { waitUntil } from "cloudflare:workers";
import { STREAM_GONE, type BridgeFrame } from "../../contract/stream-bridge.ts";
import { fromBase64, toBase64 } from "./base64.ts";
import { inThisRequest, promiseOfThisRequest } from "./request-promise.ts";
import type { StoredMessage } from "./segments.ts";

// ── the object's end ─────────────────────────────────────────────────────────────────────

/** Accepts a reader's socket; a stream that is gone closes it at once. */
export function acceptBridge(ctx: DurableObjectState, request: Request, gone: boolean): Response {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response(null, { status: 426 });
  const { 0: client, 1: server } = new WebSocketPair();
  ctx.acceptWebSocket(server);
  if (gone) server.close(STREAM_GONE, "stream gone");
  return new Response(null, { status: 101, webSocket: client });
}

/** Tells every reader of an append (`data` absent: the stream was only closed). */
export function broadcast(ctx: DurableObjectState, after: string, tail: string, data: Uint8Array | undefined, closed: boolean): void {
  const readers = ctx.getWebSockets();
  // Most appends have no live reader: encode the frame only for one that listens.
  if (readers.length === 0) return;
  const frame: BridgeFrame = data ? { type: "append", after, messages: [{ offset: tail, data: toBase64(data) }], closed } : { type: "closed", offset: tail };
  const text = JSON.stringify(frame);
  for (const ws of readers) {
    try {
      ws.send(text);
    } catch {
      // A reader that went away; its close event tidies up.
    }
  }
}

/** The stream is gone: every reader hears so. */
export function closeBridges(ctx: DurableObjectState): void {
  for (const ws of ctx.getWebSockets()) {
    try {
      ws.close(STREAM_GONE, "stream gone");
    } catch {
      // Already closed.
    }
  }
}

/** Answers a reader's close (1005 and 1006 cannot be sent back). */
export function answerClose(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "bye");
  } catch {
    // Already closed.
  }
}

// ── the Worker's end ─────────────────────────────────────────────────────────────────────

/** What a live reader in the Worker hears from the stream object. */
export type BridgeEvent =
  | { type: "append"; after: string; messages: StoredMessage[]; closed: boolean }
  | { type: "closed"; offset: string }
  | { type: "timeout" }
  /** The stream was deleted or expired. */
  | { type: "gone" }
  /** The socket dropped (the object was evicted or restarted): resubscribe and read again. */
  | { type: "dropped" };

/**
 * How long a shared socket outlives the reader that opened it while others still listen. The
 * socket belongs to that reader's request (a Worker may do I/O only in the request that made
 * it), which the runtime keeps alive for a while after it answered (up to 30 s on Cloudflare);
 * before then the socket is closed on purpose, its listeners hear `dropped`, and one of them
 * opens the next, rather than the socket dying silently with the request.
 */
const HANDOVER_MS = 15_000;
/** A socket nobody listens to stays this long, so back-to-back long-polls reuse it. */
const IDLE_MS = 2_000;
/** How often the opener's request checks whether its socket has ended. */
const LIFETIME_CHECK_MS = 500;

/**
 * One socket per stream object per Worker isolate, shared by every live reader there: each
 * append arrives once and is parsed once, then queued to each reader. So the object holds one
 * socket per isolate, not one per reader.
 */
class SharedSocket {
  private readonly listeners = new Set<Bridge>();
  ended = false;
  /** When the opener left: the socket must be closed by then plus HANDOVER_MS. */
  private handoverAt: number | undefined;
  private retireTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly key: string,
    private readonly ws: WebSocket,
  ) {
    // The opener's request lives until this socket is closed (bounded by the timers below). It
    // watches on its own timer: a promise another request resolved could not keep it alive.
    waitUntil(
      (async () => {
        while (!this.ended) await new Promise((tick) => setTimeout(tick, LIFETIME_CHECK_MS));
      })(),
    );
    ws.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      const frame = JSON.parse(event.data) as BridgeFrame;
      const parsed: BridgeEvent =
        frame.type === "append"
          ? { type: "append", after: frame.after, closed: frame.closed, messages: frame.messages.map((m) => ({ offset: m.offset, data: fromBase64(m.data) })) }
          : frame;
      for (const listener of this.listeners) listener.push(parsed);
    });
    ws.addEventListener("close", (event: CloseEvent) => this.end(event.code === STREAM_GONE ? { type: "gone" } : { type: "dropped" }));
    ws.addEventListener("error", () => this.end({ type: "dropped" }));
    ws.accept();
  }

  join(listener: Bridge): void {
    this.listeners.add(listener);
    this.schedule();
  }

  leave(listener: Bridge, opener: boolean): void {
    this.listeners.delete(listener);
    if (opener) this.handoverAt = Date.now() + HANDOVER_MS;
    this.schedule();
  }

  /** Once the opener has left: close at the handover time, or sooner when nobody listens. */
  private schedule(): void {
    if (this.handoverAt === undefined || this.ended) return;
    const left = this.handoverAt - Date.now();
    if (this.retireTimer !== undefined) clearTimeout(this.retireTimer);
    this.retireTimer = setTimeout(() => this.end({ type: "dropped" }), this.listeners.size === 0 ? Math.min(IDLE_MS, left) : left);
  }

  /** Ends the socket; every reader still listening hears why. */
  end(event: BridgeEvent): void {
    if (this.ended) return;
    this.ended = true;
    if (this.retireTimer !== undefined) clearTimeout(this.retireTimer);
    if (sockets.get(this.key)?.socket === this) sockets.delete(this.key);
    for (const listener of this.listeners) listener.end(event);
    this.listeners.clear();
    try {
      this.ws.close(1000, "done");
    } catch {
      // Already closed.
    }
  }
}

interface BridgeStub {
  id: DurableObjectId;
  fetch(request: Request): Promise<Response>;
}

interface Entry {
  opening: Promise<SharedSocket>;
  socket?: SharedSocket;
}

/** The shared socket per stream object (by object id) in this isolate, open or opening. */
const sockets = new Map<string, Entry>();

function connect(stub: BridgeStub): Promise<SharedSocket> {
  const key = stub.id.toString();
  const entry = {} as Entry;
  entry.opening = (async () => {
    const response = await stub.fetch(new Request("https://stream-log/bridge", { headers: { Upgrade: "websocket" } }));
    const ws = response.webSocket;
    if (!ws) throw new Error(`the stream object refused the bridge (${response.status})`);
    return (entry.socket = new SharedSocket(key, ws));
  })();
  sockets.set(key, entry);
  entry.opening.catch(() => sockets.get(key) === entry && sockets.delete(key));
  return entry.opening;
}

/** The Worker's end for one live reader: its queue of events from the stream's shared socket. */
export class Bridge {
  private readonly events: BridgeEvent[] = [];
  private waiter: ((event: BridgeEvent) => void) | undefined;
  /** When the current wait times out, and when the timer set for it fires (never later). */
  private deadline = 0;
  private timerAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private ended = false;

  private constructor(
    private readonly socket: SharedSocket,
    private readonly opener: boolean,
  ) {}

  /**
   * Joins the stream's socket in this isolate, opening it if there is none. Events from the
   * moment this resolves are queued for this reader (read the log after joining, and nothing
   * appended in between is missed).
   */
  static async open(stub: BridgeStub): Promise<Bridge> {
    for (;;) {
      const existing = sockets.get(stub.id.toString());
      const opening = existing?.opening ?? connect(stub);
      // Another reader's opening is awaited through a promise of this request, so this reader
      // carries on in its own request (request-promise.ts).
      const socket = await inThisRequest(opening);
      // Ended between its opening and this reader's turn: open the next one.
      if (socket.ended) continue;
      const bridge = new Bridge(socket, existing === undefined);
      socket.join(bridge);
      return bridge;
    }
  }

  /**
   * The next event, or `timeout` after `ms`. Events arrive in the request that opened the
   * socket, which may only settle this reader's promise: the timer is this reader's own, so
   * only this reader touches it.
   */
  next(ms: number): Promise<BridgeEvent> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    // Settled from the socket's request: a promise of this reader's request (request-promise.ts).
    const { promise, resolve } = promiseOfThisRequest<BridgeEvent>();
    this.waiter = resolve;
    this.deadline = Date.now() + ms;
    if (this.timer === undefined || this.deadline < this.timerAt) this.arm(ms);
    return promise;
  }

  /**
   * One timer per reader that moves itself on: an SSE reader waits again after every append,
   * and a timer set and cleared per wait is runtime work per reader per append.
   */
  private arm(ms: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Not waiting now: the next wait arms it again.
      if (!this.waiter) return;
      const left = this.deadline - Date.now();
      if (left > 0) return this.arm(left);
      // From here on an event queues rather than settling a promise that already timed out.
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ type: "timeout" });
    }, ms);
  }

  close(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.ended) return;
    this.ended = true;
    this.socket.leave(this, this.opener);
  }

  push(event: BridgeEvent): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(event);
    else this.events.push(event);
  }

  end(event: BridgeEvent): void {
    if (this.ended) return;
    this.ended = true;
    this.push(event);
  }
}
