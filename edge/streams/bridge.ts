/**
 * The internal bridge from a stream object to the Worker's live readers (long-poll, SSE): a
 * WebSocket that the object accepts with the hibernation API. The object sends every append to
 * every bridge socket and may sleep between appends; the waiting happens in the Worker. Both
 * ends live here: the object's (`acceptBridge`, `broadcast`, `closeBridges`) and the Worker's
 * (`Bridge`).
 */
import { STREAM_GONE, type BridgeFrame } from "../../contract/stream-bridge.ts";
import { fromBase64, toBase64 } from "./base64.ts";
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

/** The Worker's end: one reader's socket to the stream object, read as a queue of events. */
export class Bridge {
  private readonly events: BridgeEvent[] = [];
  private waiter: ((event: BridgeEvent) => void) | undefined;
  private ended = false;

  private constructor(private readonly ws: WebSocket) {
    ws.addEventListener("message", (event: MessageEvent) => {
      if (typeof event.data !== "string") return;
      const frame = JSON.parse(event.data) as BridgeFrame;
      this.push(
        frame.type === "append"
          ? { type: "append", after: frame.after, closed: frame.closed, messages: frame.messages.map((m) => ({ offset: m.offset, data: fromBase64(m.data) })) }
          : frame,
      );
    });
    ws.addEventListener("close", (event: CloseEvent) => this.end(event.code === STREAM_GONE ? { type: "gone" } : { type: "dropped" }));
    ws.addEventListener("error", () => this.end({ type: "dropped" }));
    ws.accept();
  }

  static async open(stub: { fetch(request: Request): Promise<Response> }): Promise<Bridge> {
    const response = await stub.fetch(new Request("https://stream-log/bridge", { headers: { Upgrade: "websocket" } }));
    const ws = response.webSocket;
    if (!ws) throw new Error(`the stream object refused the bridge (${response.status})`);
    return new Bridge(ws);
  }

  /** The next event, or `timeout` after `ms`. */
  next(ms: number): Promise<BridgeEvent> {
    const queued = this.events.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        done({ type: "timeout" });
      }, ms);
      this.waiter = (event) => {
        clearTimeout(timer);
        this.waiter = undefined;
        done(event);
      };
    });
  }

  close(): void {
    this.ended = true;
    try {
      this.ws.close(1000, "done");
    } catch {
      // Already closed.
    }
  }

  private push(event: BridgeEvent): void {
    if (this.waiter) this.waiter(event);
    else this.events.push(event);
  }

  private end(event: BridgeEvent): void {
    if (this.ended) return;
    this.ended = true;
    this.push(event);
  }
}
