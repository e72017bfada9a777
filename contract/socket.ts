/** What every WebSocket of the backend shares (docs/protocol.md, "Common to every socket"). */
import type { FrameErrorCode } from "./errors.ts";

/**
 * Heartbeat: the client sends the text `ping` (not JSON) and the runtime answers `pong` itself,
 * without waking a hibernated Durable Object.
 */
export const PING = "ping";
export const PONG = "pong";

/** What every error frame looks like, on every socket. */
export interface ErrorFrame {
  type: "error";
  /** One of the codes contract/errors.ts marks `frame`. */
  code: FrameErrorCode;
  message: string;
  retryAfterMs?: number;
  /** The client's id of the message that was refused, when there was one. */
  ref?: string;
}
