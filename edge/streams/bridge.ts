import { STREAM_GONE, type BridgeFrame } from "../../contract/stream-bridge.ts";
import { fromBase64 } from "./offsets.ts";
import type { StoredMessage } from "./segments.ts";

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
 * The Worker's end of the internal bridge: a WebSocket to the stream object, which the object
 * accepts with the hibernation API. The object sends every append to every bridge socket and
 * may sleep between appends; the waiting happens here, in the Worker.
 */
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
