/**
 * A small Durable Streams reader for the feed: catch up with plain GETs, then follow live with
 * SSE read through `fetch` (so a bearer token can go along), falling back to long-poll when
 * SSE does not get through (a buffering proxy, an old server). It is hand-written because
 * `@durable-streams/client` adds about 7.7 kB gzip to the widget (more than Lit itself), while
 * the feed needs only this read path; the protocol it speaks is the same.
 */
import type { ConnectionState } from "../internal/reconnecting-socket.ts";

export type LiveMode = "auto" | "sse" | "long-poll";

export interface ReaderOptions {
  url: URL;
  token?: string | undefined;
  /** Where to start: `-1` for the beginning, or an offset a previous read returned. */
  offset: string;
  live: LiveMode;
  /** New values and the offset just after them. */
  onItems(values: unknown[], offset: string): void;
  onClosed(offset: string): void;
  onState(state: ConnectionState): void;
  /** A refusal that retrying will not fix (401, 403, 400, a non-JSON stream). */
  onFailure(status: number, message: string): void;
  /**
   * The stream does not exist (yet): a 404. The reader keeps checking with its backoff, since a
   * writer (or a scheduled delivery) may create it later; `onState("open")` follows once it does.
   */
  onMissing(): void;
}

/** Thrown for HTTP answers that end the reader. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BACKOFF_MS = 30_000;
const decoder = new TextDecoder();

export class StreamReader {
  private offset: string;
  private controller: AbortController | undefined;
  private running = false;
  private failures = 0;
  private sseBroken = false;
  private cursor: string | undefined;
  private wake: (() => void) | undefined;
  private contentType: string | null = null;

  constructor(private readonly options: ReaderOptions) {
    this.offset = options.offset;
  }

  get position(): string {
    return this.offset;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  stop(): void {
    this.running = false;
    this.controller?.abort();
    this.wake?.();
  }

  /** Skips the wait before the next retry (the browser came back online). */
  retryNow(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    this.options.onState(this.failures > 0 ? "reconnecting" : "connecting");
    while (this.running) {
      this.controller = new AbortController();
      try {
        const closed = await this.catchUp(this.controller.signal);
        if (closed) return this.finish();
        this.options.onState("open");
        this.failures = 0;
        const useSse = this.options.live === "sse" || (this.options.live === "auto" && !this.sseBroken);
        const ended = useSse ? await this.followSse(this.controller.signal) : await this.followLongPoll(this.controller.signal);
        if (ended) return this.finish();
      } catch (error) {
        if (!this.running) return;
        if (error instanceof Refused && error.status === 404) {
          this.options.onMissing();
        } else if (error instanceof Refused) {
          this.running = false;
          this.options.onState("closed");
          this.options.onFailure(error.status, error.message);
          return;
        }
        this.failures += 1;
        this.options.onState("reconnecting");
        await this.pause(Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 6)) * (0.5 + Math.random() / 2));
      }
    }
  }

  private finish(): void {
    this.running = false;
    this.options.onState("closed");
    this.options.onClosed(this.offset);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((done) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        done();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        done();
      };
    });
  }

  private request(query: Record<string, string>, signal: AbortSignal): Promise<Response> {
    const url = new URL(this.options.url);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const headers: Record<string, string> = {};
    if (this.options.token) headers.Authorization = `Bearer ${this.options.token}`;
    return fetch(url, { headers, signal, cache: "no-store" });
  }

  private async check(response: Response): Promise<void> {
    if (response.ok) return;
    if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
      let message = `The feed is unavailable (${response.status}).`;
      try {
        const body = (await response.json()) as { error?: { message?: string } };
        if (body.error?.message) message = body.error.message;
      } catch {
        // Not our JSON error; keep the generic message.
      }
      throw new Refused(response.status, message);
    }
    throw new Error(`HTTP ${response.status}`);
  }

  /** Plain GETs until up to date; true when the stream is closed at its end. */
  private async catchUp(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      const response = await this.request({ offset: this.offset }, signal);
      await this.check(response);
      this.contentType = response.headers.get("Content-Type");
      const values = parseBody(this.contentType, await response.text());
      const next = response.headers.get("Stream-Next-Offset") ?? this.offset;
      if (values.length > 0 || next !== this.offset) this.deliver(values, next);
      if (response.headers.get("Stream-Closed") === "true") return true;
      if (response.headers.get("Stream-Up-To-Date") === "true") return false;
    }
  }

  private deliver(values: unknown[], offset: string): void {
    this.offset = offset;
    this.options.onItems(values, offset);
  }

  /** SSE through fetch. True when the stream closed; returns false to reconnect. */
  private async followSse(signal: AbortSignal): Promise<boolean> {
    const response = await this.request({ offset: this.offset, live: "sse" }, signal);
    await this.check(response);
    const type = response.headers.get("Content-Type") ?? "";
    if (!type.startsWith("text/event-stream") || !response.body) {
      this.sseBroken = true;
      throw new Error("SSE did not get through");
    }
    const encoding = response.headers.get("Stream-SSE-Data-Encoding");
    if (encoding) throw new Refused(415, "This feed shows JSON or text streams only.");
    const reader = response.body.getReader();
    let buffer = "";
    let pending: unknown[] = [];
    let sawEvent = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        // A response that ends before any event is a proxy in the way: use long-poll.
        if (!sawEvent) this.sseBroken = true;
        return false;
      }
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
      let split: number;
      while ((split = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, split);
        buffer = buffer.slice(split + 2);
        const event = parseEvent(block);
        if (!event) continue;
        sawEvent = true;
        if (event.type === "data") {
          pending.push(...parseBody(this.contentType, event.data));
        } else if (event.type === "control") {
          const control = JSON.parse(event.data) as { streamNextOffset?: string; streamClosed?: boolean };
          if (control.streamNextOffset && (pending.length > 0 || control.streamNextOffset !== this.offset)) {
            this.deliver(pending, control.streamNextOffset);
          }
          pending = [];
          if (control.streamClosed) return true;
        }
      }
    }
  }

  /** Long-poll loop. True when the stream closed. */
  private async followLongPoll(signal: AbortSignal): Promise<boolean> {
    while (this.running) {
      const query: Record<string, string> = { offset: this.offset, live: "long-poll" };
      if (this.cursor) query.cursor = this.cursor;
      const response = await this.request(query, signal);
      await this.check(response);
      this.cursor = response.headers.get("Stream-Cursor") ?? this.cursor;
      const next = response.headers.get("Stream-Next-Offset") ?? this.offset;
      if (response.status === 200) {
        const values = parseBody(response.headers.get("Content-Type"), await response.text());
        if (values.length > 0 || next !== this.offset) this.deliver(values, next);
      }
      if (response.headers.get("Stream-Closed") === "true") return true;
    }
    return false;
  }
}

function parseEvent(block: string): { type: string; data: string } | undefined {
  let type = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
  }
  return data.length > 0 ? { type, data: data.join("\n") } : undefined;
}

/** A JSON stream's body is an array of values; a text stream's chunk is one text item. */
function parseBody(contentType: string | null, text: string): unknown[] {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  if (type.startsWith("text/")) return text.length > 0 ? [{ text }] : [];
  throw new Refused(415, "This feed shows JSON or text streams only.");
}
