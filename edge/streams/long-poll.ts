/**
 * `live=long-poll`: answers at once when there is data, else waits on the bridge until an
 * append, a close or the long-poll timeout (204).
 */
import { Bridge, type BridgeEvent } from "./bridge.ts";
import { responseCursor } from "./cursors.ts";
import { notFound } from "../http/refusal.ts";
import { Header, longPollMs } from "./protocol.ts";
import { dataResponse, read, type StreamRequest } from "./reads.ts";
import type { Env } from "../env.ts";
import { longPollCacheControl } from "./read-cache.ts";
import type { ReadResult } from "./stream-log.ts";

export async function serveLongPoll(route: StreamRequest, offset: string, authorized: boolean): Promise<Response> {
  const { stub, name, request, url, env } = route;
  const cursor = url.searchParams.get("cursor");
  let result = await read(stub, offset, authorized);
  const from = result.next;
  // Data already there, or a first read of the stream (`-1`), answers at once.
  if (result.messages.length > 0 || !result.upToDate || offset === "-1") {
    return dataResponse(name, request, offset, result, longPollHeaders(env, result, offset, cursor));
  }
  if (result.info.closed) return noContent(result.info.tail, cursor, true);

  const deadline = Date.now() + longPollMs(env);
  let bridge = await Bridge.open(stub);
  try {
    // Anything appended between the first read and the subscription.
    result = await read(stub, from, authorized);
    for (;;) {
      if (result.messages.length > 0) return dataResponse(name, request, offset, result, longPollHeaders(env, result, offset, cursor));
      if (result.info.closed) return noContent(result.info.tail, cursor, true);
      const event: BridgeEvent = await bridge.next(Math.max(0, deadline - Date.now()));
      if (event.type === "timeout") return noContent(from, cursor, false);
      if (event.type === "closed") return noContent(event.offset, cursor, true);
      if (event.type === "gone") throw notFound("The stream was deleted.");
      if (event.type === "dropped") bridge = await Bridge.open(stub);
      if (event.type === "append" && event.after === from) {
        const last = event.messages.at(-1)!;
        result = {
          info: { ...result.info, tail: last.offset, closed: event.closed },
          messages: event.messages,
          next: last.offset,
          upToDate: true,
        };
        continue;
      }
      result = await read(stub, from, authorized);
    }
  } finally {
    bridge.close();
  }
}

function longPollHeaders(env: Env, result: ReadResult, offset: string, cursor: string | null): Record<string, string> {
  return {
    [Header.ContentType]: result.info.contentType,
    [Header.NextOffset]: result.next,
    [Header.Cursor]: responseCursor(cursor),
    "Cache-Control": longPollCacheControl(env, result, offset),
  };
}

function noContent(offset: string, cursor: string | null, closed: boolean): Response {
  // A timeout must not be kept: a reader answered from a cache would poll again at once.
  const headers: Record<string, string> = { [Header.NextOffset]: offset, [Header.UpToDate]: "true", [Header.Cursor]: responseCursor(cursor), "Cache-Control": "no-store" };
  if (closed) headers[Header.Closed] = "true";
  return new Response(null, { status: 204, headers });
}
