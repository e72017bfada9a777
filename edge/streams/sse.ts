/**
 * `live=sse`: Server-Sent Events. Each message goes out as a `data` event followed by a
 * `control` event with its offset; the response stays open, waiting on the bridge, until the
 * stream closes or goes, sending a `control` keep-alive every long-poll interval.
 */
import { toBase64 } from "./base64.ts";
import { Bridge, type BridgeEvent } from "./bridge.ts";
import { responseCursor } from "./cursors.ts";
import { jsonArray, mediaType } from "./json-mode.ts";
import { ZERO_OFFSET } from "./offsets.ts";
import { Header, longPollMs } from "./protocol.ts";
import { read, type StreamRequest } from "./reads.ts";
import type { StoredMessage } from "./segments.ts";
import type { ReadResult } from "./stream-log.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ── framing ──────────────────────────────────────────────────────────────────────────────

/** One SSE event; every line of the payload gets its own `data:` line (no CR/LF injection). */
function sseEvent(type: string, payload: string): string {
  return `event: ${type}\ndata:${payload.replace(/\r\n|\r|\n/g, "\ndata:")}\n\n`;
}

/** How a stream's messages travel as event text: JSON as an array, text as it is, the rest base64. */
type PayloadFormat = "json" | "text" | "base64";

function payloadFormat(contentType: string): PayloadFormat {
  const type = mediaType(contentType);
  if (type === "application/json") return "json";
  return type.startsWith("text/") ? "text" : "base64";
}

function payload(format: PayloadFormat, message: StoredMessage): string {
  if (format === "json") return jsonArray([message.data]);
  return format === "base64" ? toBase64(message.data) : decoder.decode(message.data);
}

/** The `control` event after a message (or alone): where to resume, and whether the stream is closed. */
function controlEvent(offset: string, upToDate: boolean, closed: boolean, cursor: string): string {
  const data: Record<string, unknown> = { streamNextOffset: offset };
  if (closed) data.streamClosed = true;
  else {
    data.streamCursor = cursor;
    if (upToDate) data.upToDate = true;
  }
  return sseEvent("control", JSON.stringify(data));
}

/** Each data event with its control event, in one chunk. */
function messageEvents(format: PayloadFormat, messages: StoredMessage[], upToDate: boolean, closedAtEnd: boolean, cursor: string): Uint8Array {
  let text = "";
  messages.forEach((message, i) => {
    const last = i === messages.length - 1;
    text += sseEvent("data", payload(format, message)) + controlEvent(message.offset, last && upToDate, last && closedAtEnd, cursor);
  });
  return encoder.encode(text);
}

/**
 * An append as every reader waiting at the offset before it receives it, encoded once per
 * isolate rather than once per reader: the readers of a stream here share one bridge event
 * (bridge.ts), and those at its `after` offset with the same format and cursor get the very
 * same bytes. Kept with the event, so it goes when the last reader has taken it.
 */
const encodedAppends = new WeakMap<BridgeEvent, Map<string, Uint8Array>>();

function sharedAppendEvents(event: Extract<BridgeEvent, { type: "append" }>, format: PayloadFormat, cursor: string): Uint8Array {
  let encodings = encodedAppends.get(event);
  if (!encodings) encodedAppends.set(event, (encodings = new Map()));
  const key = `${format} ${cursor}`;
  let bytes = encodings.get(key);
  if (!bytes) encodings.set(key, (bytes = messageEvents(format, event.messages, true, event.closed, cursor)));
  return bytes;
}

// ── serving ──────────────────────────────────────────────────────────────────────────────

export async function serveSse(route: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const { stub, url, env } = route;
  const clientCursor = url.searchParams.get("cursor");
  // Subscribe first, then read: nothing appended in between can be missed.
  let bridge = await Bridge.open(stub);
  let first: ReadResult;
  try {
    first = await read(stub, offset, authorized);
  } catch (error) {
    bridge.close();
    throw error;
  }
  const format = payloadFormat(first.info.contentType);

  // The runtime's own byte pipe: each event goes to the socket without a JavaScript stream's
  // read loop between the writer and the response (a standard TransformStream has one).
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  const keepAliveMs = longPollMs(env);

  // A reader that sent a cursor gets a jittered one of its own (cursors.ts); the others share
  // the current interval's, and with it the encoded events of each append.
  const streamCursor = () => responseCursor(clientCursor);
  const sharesEncoding = clientCursor === null;
  const write = (bytes: Uint8Array) => writer.write(bytes);
  const control = (offset: string, upToDate: boolean, closed: boolean) => write(encoder.encode(controlEvent(offset, upToDate, closed, streamCursor())));
  /** Returns the new position: the last message's offset. */
  const send = async (messages: StoredMessage[], upToDate: boolean, closedAtEnd: boolean): Promise<string> => {
    await write(messageEvents(format, messages, upToDate, closedAtEnd, streamCursor()));
    return messages.at(-1)!.offset;
  };

  const pump = async () => {
    let cursor = offset === "now" ? first.next : offset === "-1" ? ZERO_OFFSET : offset;
    let pending: ReadResult | undefined = first;
    try {
      for (;;) {
        const result: ReadResult = pending ?? (await read(stub, cursor, authorized));
        pending = undefined;
        const fresh = result.messages.filter((m) => m.offset > cursor);
        if (fresh.length === 0 && result.upToDate) cursor = result.next;
        const last = fresh.at(-1)?.offset ?? cursor;
        const closedAtEnd = result.info.closed && last === result.info.tail && result.upToDate;
        if (fresh.length > 0) {
          cursor = await send(fresh, result.upToDate, closedAtEnd);
        } else {
          await control(cursor, result.upToDate, closedAtEnd);
        }
        if (closedAtEnd) return;
        if (!result.upToDate) continue;

        // Up to date: wait on the bridge until something happens.
        for (;;) {
          const event: BridgeEvent = await bridge.next(keepAliveMs);
          if (event.type === "timeout") {
            await control(cursor, true, false);
            continue;
          }
          if (event.type === "gone") return;
          if (event.type === "dropped") {
            bridge = await Bridge.open(stub);
            break;
          }
          if (event.type === "closed") {
            if (event.offset !== cursor) break;
            await control(cursor, true, true);
            return;
          }
          if (event.after > cursor) break; // A gap: read it from the log.
          if (event.after === cursor && sharesEncoding) {
            await write(sharedAppendEvents(event, format, streamCursor()));
            cursor = event.messages.at(-1)!.offset;
            if (event.closed) return;
            continue;
          }
          const fresh = event.messages.filter((m) => m.offset > cursor);
          if (fresh.length === 0) continue;
          cursor = await send(fresh, true, event.closed);
          if (event.closed) return;
        }
      }
    } catch {
      // The reader went away (a write failed) or the stream vanished mid-read.
    } finally {
      bridge.close();
      await writer.close().catch(() => undefined);
    }
  };
  route.ctx.waitUntil(pump());

  const headers: Record<string, string> = { [Header.ContentType]: "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" };
  if (format === "base64") headers[Header.SseDataEncoding] = "base64";
  return new Response(readable, { status: 200, headers });
}
