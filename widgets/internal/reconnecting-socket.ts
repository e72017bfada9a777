import * as CloseCode from "../../contract/close-codes.ts";
import { PING, PONG } from "../../contract/socket.ts";

/** The `connection` attribute every live widget reflects. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * `ServerFrame` and `ClientFrame` are the socket's frame unions from `contract/`. Every socket's
 * server sends `{"type":"ready"}` after its initial state.
 */
export interface SocketOptions<ServerFrame extends { type: string }, ClientFrame extends object> {
  /** Called before every attempt, so a reconnect can carry fresh resume parameters. */
  url: () => string | URL;
  onFrame: (frame: ServerFrame) => void;
  /** A frame sent as soon as the socket opens, before "ready": credentials kept out of the URL. */
  firstFrame?: () => ClientFrame | undefined;
  /** `close` is set for a final close, and for a 1013 ("try again later") before the retry. */
  onState?: (state: ConnectionState, close?: CloseInfo) => void;
  /** Gives up on an attempt that has not said "ready" by then. */
  connectTimeoutMs?: number;
  /** How often to ping; a ping unanswered by the next beat counts the connection as dead. */
  heartbeatMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Shortest wait after a 1013: the backend asked for later, not for at once. */
  tryAgainLaterMs?: number;
  /** Frames held while not ready; `send` refuses more. */
  maxQueue?: number;
}

/**
 * The `default` of a widget's switch over its server frames: a frame type of the contract that
 * the switch forgets is a compile error here. At run time a frame it does not know (from a newer
 * backend) is ignored.
 */
export function unhandledFrame(_frame: never): void {}

/**
 * A WebSocket that stays connected: capped exponential backoff with full jitter, a connect
 * timeout, a heartbeat the backend answers without waking a hibernated Durable Object, an
 * immediate retry when the browser comes back online or the page becomes visible, and a
 * bounded queue of outgoing frames flushed once the backend says it is ready.
 */
export class ReconnectingSocket<ServerFrame extends { type: string }, ClientFrame extends object> {
  private ws: WebSocket | undefined;
  private currentState: ConnectionState = "closed";
  private ready = false;
  private attempt = 0;
  private queue: string[] = [];
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private awaitingPong = false;
  private pongCount = 0;
  private running = false;
  private readonly options: Required<SocketOptions<ServerFrame, ClientFrame>>;

  constructor(options: SocketOptions<ServerFrame, ClientFrame>) {
    this.options = {
      onState: () => {},
      firstFrame: () => undefined,
      connectTimeoutMs: 10_000,
      heartbeatMs: 25_000,
      backoffBaseMs: 500,
      backoffMaxMs: 30_000,
      tryAgainLaterMs: 5_000,
      maxQueue: 100,
      ...options,
    };
  }

  get state(): ConnectionState {
    return this.currentState;
  }

  /** Heartbeats answered since `start`. */
  get pongs(): number {
    return this.pongCount;
  }

  /** Frames waiting to be sent. */
  get pending(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempt = 0;
    window.addEventListener("online", this.retryNow);
    document.addEventListener("visibilitychange", this.onVisibility);
    this.connect("connecting");
  }

  /** Closes for good (until `start`); queued frames are dropped. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    window.removeEventListener("online", this.retryNow);
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.clearTimers();
    this.queue = [];
    this.ready = false;
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(CloseCode.normal, "bye");
    this.setState("closed");
  }

  /** Sends now if ready, else queues. Returns false when the queue is full or the socket stopped. */
  send(frame: ClientFrame): boolean {
    const text = JSON.stringify(frame);
    if (this.ready && this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(text);
      return true;
    }
    if (!this.running || this.queue.length >= this.options.maxQueue) return false;
    this.queue.push(text);
    return true;
  }

  /** Drops queued frames that match, e.g. a message the user took back. */
  unqueue(match: (frame: ClientFrame) => boolean): void {
    this.queue = this.queue.filter((text) => !match(JSON.parse(text) as ClientFrame));
  }

  /** Skips the backoff wait (used on `online` and on the page becoming visible). */
  readonly retryNow = (): void => {
    if (!this.running || this.retryTimer === undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.connect("reconnecting");
  };

  private readonly onVisibility = (): void => {
    if (document.visibilityState === "visible") this.retryNow();
  };

  private connect(state: ConnectionState): void {
    this.setState(state);
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.options.url());
    } catch (error) {
      // A malformed URL will not get better by retrying.
      this.running = false;
      this.setState("closed", { code: CloseCode.badRequest, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.ws = ws;
    this.ready = false;
    this.connectTimer = setTimeout(() => {
      if (this.ws === ws && !this.ready) ws.close(4000, "connect timeout");
      // The close event will not come for a handshake that hangs, so move on now.
      if (this.ws === ws) this.dropAndRetry();
    }, this.options.connectTimeoutMs);

    ws.addEventListener("open", () => {
      if (this.ws !== ws) return;
      this.awaitingPong = false;
      const first = this.options.firstFrame();
      if (first) ws.send(JSON.stringify(first));
      this.heartbeat = setInterval(() => this.beat(ws), this.options.heartbeatMs);
    });
    ws.addEventListener("message", (event: MessageEvent) => {
      if (this.ws !== ws || typeof event.data !== "string") return;
      if (event.data === PONG) {
        this.awaitingPong = false;
        this.pongCount += 1;
        return;
      }
      let frame: ServerFrame;
      try {
        // The backend sends only what the contract's types let it: its frames are trusted as such.
        frame = JSON.parse(event.data) as ServerFrame;
      } catch {
        return;
      }
      if (frame.type === "ready") this.onReady();
      this.options.onFrame(frame);
    });
    ws.addEventListener("close", (event: CloseEvent) => {
      if (this.ws !== ws) return;
      if (CloseCode.isTerminalClose(event.code)) {
        this.clearTimers();
        this.ws = undefined;
        this.running = false;
        this.queue = [];
        this.setState("closed", { code: event.code, reason: event.reason });
        return;
      }
      this.dropAndRetry(event.code === CloseCode.tryAgainLater ? { code: event.code, reason: event.reason } : undefined);
    });
  }

  private onReady(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
    this.ready = true;
    this.attempt = 0;
    this.setState("open");
    const ws = this.ws;
    while (ws && this.queue.length > 0 && ws.readyState === WebSocket.OPEN) {
      ws.send(this.queue.shift()!);
    }
  }

  private beat(ws: WebSocket): void {
    if (this.awaitingPong) {
      // No answer since the last beat: the connection is dead even if the browser has not noticed.
      ws.close(4000, "heartbeat timeout");
      this.dropAndRetry();
      return;
    }
    this.awaitingPong = true;
    ws.send(PING);
  }

  private dropAndRetry(tryAgainLater?: CloseInfo): void {
    this.clearTimers();
    this.ws = undefined;
    this.ready = false;
    if (!this.running) return;
    const ceiling = Math.min(this.options.backoffMaxMs, this.options.backoffBaseMs * 2 ** this.attempt);
    const delay = (tryAgainLater ? this.options.tryAgainLaterMs : 0) + Math.random() * ceiling;
    this.attempt += 1;
    this.setState("reconnecting", tryAgainLater);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connect("reconnecting");
    }, delay);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.heartbeat);
    this.retryTimer = this.connectTimer = this.heartbeat = undefined;
  }

  private setState(state: ConnectionState, close?: CloseInfo): void {
    if (state === this.currentState && !close) return;
    this.currentState = state;
    this.options.onState(state, close);
  }
}
