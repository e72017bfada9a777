/**
 * Which object a counter's viewer attaches to. A counter's viewers are spread over viewer
 * objects: shard 0 is the object named after the counter (which also keeps the count), shard
 * k > 0 is named `<counter>/<k>` (a `/` never occurs in a counter's name). The Worker sends a
 * viewer to a random shard below the counter's current spread, so a crowd arriving at once (a
 * reconnect storm) lands evenly; a shard at its cap answers "full" and the viewer goes to a
 * shard above the spread, which no one was sent to yet.
 */
import * as CloseCode from "../../contract/close-codes.ts";
import type { Env } from "../env.ts";
import { wholeNumber } from "../settings.ts";
import { closedSocket } from "../socket/upgrade.ts";

/**
 * Sockets one viewer object holds at most: well under the 32,768 hibernatable sockets an object
 * may hold, and few enough that one frame to all of them stays a small part of its second.
 */
export const SOCKETS_PER_OBJECT = wholeNumber("COUNTER_SOCKETS_PER_OBJECT", 5000);

/** What the count's object publishes to its viewer objects. */
export interface CounterState {
  count: number;
  /** Open sockets over all viewer objects, as each last reported them. */
  viewers: number;
  /** How many shards new viewers are spread over. */
  spread: number;
}

/** Viewer objects are filled to about this share of their cap, so a random pick rarely finds one full. */
const FILL = 0.75;

/** Shards a counter may have: 4096 × 5000 sockets is far past any page. */
const MOST_SHARDS = 4096;

/** Header of the Worker's socket request to a viewer object: the object's name, so it knows its place. */
export const OBJECT_HEADER = "Counter-Object";
/** Header of a viewer object's answer: "full", or (on a socket) the spread it knows. */
export const FULL_HEADER = "Counter-Full";
export const SPREAD_HEADER = "Counter-Spread";

export function spreadFor(env: Env, viewers: number): number {
  return Math.min(MOST_SHARDS, Math.max(1, Math.ceil(viewers / (SOCKETS_PER_OBJECT.read(env) * FILL))));
}

export function objectName(counter: string, shard: number): string {
  return shard === 0 ? counter : `${counter}/${shard}`;
}

/** The counter and shard of a viewer object's name. */
export function shardOf(objectName: string): { counter: string; shard: number } {
  const slash = objectName.lastIndexOf("/");
  return slash < 0 ? { counter: objectName, shard: 0 } : { counter: objectName.slice(0, slash), shard: Number(objectName.slice(slash + 1)) };
}

/**
 * The spread last heard of per counter, in this isolate: a hint that every socket's answer
 * refreshes. Bounded, so many counters cannot grow it without limit.
 */
const spreads = new Map<string, number>();
const MOST_REMEMBERED = 10_000;

function remember(counter: string, spread: number): void {
  spreads.delete(counter);
  spreads.set(counter, spread);
  if (spreads.size > MOST_REMEMBERED) spreads.delete(spreads.keys().next().value!);
}

/** Attaches a viewer's socket request (already checked by the Worker) to one of the counter's viewer objects. */
export async function attachViewer(env: Env, counter: string, request: Request): Promise<Response> {
  let low = 0;
  let high = spreads.get(counter) ?? 1;
  while (low < MOST_SHARDS) {
    const shard = low + Math.floor(Math.random() * (high - low));
    const name = objectName(counter, shard);
    // Set here, over anything the visitor sent under that name.
    const headers = new Headers(request.headers);
    headers.set(OBJECT_HEADER, name);
    const response = await env.COUNTER.getByName(name).fetch(new Request(request, { headers }));
    if (!response.headers.has(FULL_HEADER)) {
      const spread = Number(response.headers.get(SPREAD_HEADER));
      if (Number.isInteger(spread) && spread > 0) remember(counter, spread);
      return response.webSocket ? new Response(null, { status: response.status, webSocket: response.webSocket }) : response;
    }
    // Every shard below `high` may be as full: the next try goes to the ones above.
    low = high;
    high = Math.min(MOST_SHARDS, high * 2);
    remember(counter, high);
  }
  return closedSocket(CloseCode.tryAgainLater, "this counter has as many viewers as it can hold; retrying later");
}
