/** The counter socket, `GET /api/counters/{name}/ws` (docs/protocol.md, "Counter"). */
import type { ErrorFrame } from "./socket.ts";

/** Every frame a viewer may send. */
export type CounterClientFrame = { type: "click" };

/** Every frame the counter sends. */
export type CounterServerFrame =
  /** The current count: the first frame on every connect. */
  | { type: "ready"; count: number }
  /** The count after clicks; a burst is summed into one frame. */
  | { type: "count"; count: number }
  | ErrorFrame;
