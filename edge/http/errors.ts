import type { ErrorCode } from "../../contract/errors.ts";
import { Refusal } from "./refusal.ts";

export { badRequest, errorResponse, notFound } from "./refusal.ts";

/**
 * The streams' older spelling of a Refusal, with the status given by hand and the code as a
 * plain string: edge/streams/ and the subscription routes still throw and catch it. Every
 * Refusal counts as an HttpError there, so a refusal raised by shared code inside the stream
 * log (invalid JSON, a body too large) is still carried across RPC as one. New code throws
 * Refusal; this goes once the streams do.
 */
export class HttpError extends Refusal {
  constructor(status: number, code: string, message: string, headers: Record<string, string> = {}) {
    super(code as ErrorCode, message, { headers, status: status as never });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Refusal;
  }
}
