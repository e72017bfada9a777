/**
 * The counter socket, `GET /api/counters/{name}/ws[?viewers]` (docs/protocol.md, "Counter").
 * With `?viewers` in the URL, `ready` and `count` frames also carry `viewers`.
 */
import type { ErrorFrame } from "./socket.ts";

/** Every frame a viewer may send. */
export type CounterClientFrame = { type: "click" };

/**
 * Every frame the counter sends. `viewers` (only on sockets opened with `?viewers`) is about
 * how many sockets watch this counter: approximate, a sum of figures each object reports at
 * most once a second.
 */
export type CounterServerFrame =
  /** The current count: the first frame on every connect. */
  | { type: "ready"; count: number; viewers?: number }
  /** The count after clicks, or a new viewer figure; a burst is summed into one frame. */
  | { type: "count"; count: number; viewers?: number }
  | ErrorFrame;
