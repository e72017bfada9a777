import { ErrorCodes, type ErrorCode, type ErrorEntry, type FrameErrorCode } from "../../contract/errors.ts";

type Entry<C extends ErrorCode> = (typeof ErrorCodes)[C];

export interface RefusalOptions<C extends ErrorCode> {
  /** Only the older status the catalogue lists for this code, where an answer keeps it. */
  status?: Entry<C> extends { alsoStatus: infer S } ? S : never;
  headers?: Record<string, string>;
  /** When the client may try again; error frames carry it. */
  retryAfterMs?: number;
  /** The client's id of the message that was refused, for error frames. */
  ref?: string;
  /**
   * Facts the caller can recover with, beyond the message. An HTTP answer puts them in its
   * error body next to code and message (a subscription's `current_holder`), unless the
   * feature's protocol sends them as headers instead (the streams, edge/streams/http-refusals.ts).
   */
  detail?: RefusalDetail;
}

export type RefusalDetail = Readonly<Record<string, string | number>>;

/**
 * The one way the backend says no. Thrown anywhere on the edge, it becomes what the caller can
 * read: an HTTP answer `{"error":{"code","message"}}` with the code's status (`errorResponse`),
 * an error frame on a live socket, a close of a socket being opened, or, across RPC between
 * objects, a tagged value (`carry`, `carryRefusals`, `unwrap`). Its code comes from
 * contract/errors.ts.
 */
export class Refusal<C extends ErrorCode = ErrorCode> extends Error {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly retryAfterMs: number | undefined;
  readonly ref: string | undefined;
  readonly detail: RefusalDetail | undefined;

  constructor(
    readonly code: C,
    message: string,
    options: RefusalOptions<C> = {},
  ) {
    super(message);
    const entry: ErrorEntry = ErrorCodes[code];
    // A frame-only code that reaches an HTTP answer is a plain 400.
    this.status = (options.status as number | undefined) ?? entry.status ?? 400;
    this.headers = options.headers ?? {};
    this.retryAfterMs = options.retryAfterMs;
    this.ref = options.ref;
    this.detail = options.detail;
  }

  /** The close code that turns a socket away for this reason; 1008 (final) if the code names none. */
  get closeCode(): number {
    const entry: ErrorEntry = ErrorCodes[this.code];
    return entry.close ?? 1008;
  }

  /** The error frame a live socket answers with (JSON leaves out what is undefined). */
  get frame(): { type: "error"; code: C; message: string; retryAfterMs?: number; ref?: string } {
    return { type: "error", code: this.code, message: this.message, retryAfterMs: this.retryAfterMs, ref: this.ref };
  }
}

/** A refusal a live socket may answer with an error frame: the catalogue marks its code `frame`. */
export function isFrameRefusal(error: unknown): error is Refusal<FrameErrorCode> {
  if (!(error instanceof Refusal)) return false;
  const code: ErrorCode = error.code;
  const entry: ErrorEntry = ErrorCodes[code];
  return entry.frame === true;
}

/** The codes answered with 400 by default. */
type BadRequestCode = { [C in ErrorCode]: Entry<C> extends { status: 400 } ? C : never }[ErrorCode];

export const badRequest = (message: string, code: BadRequestCode = "bad_request") => new Refusal(code, message);
export const notFound = (message = "Not found.") => new Refusal("not_found", message);

/**
 * Anything but a Refusal that escapes a handler is logged and answered as a generic 500
 * without details, because a stack trace is nobody's business but ours.
 */
export function errorResponse(error: unknown): Response {
  let refusal: Refusal;
  if (error instanceof Refusal) {
    refusal = error;
  } else {
    console.error("unhandled error", error);
    refusal = new Refusal("internal", "Something went wrong on our side.");
  }
  const body = { error: { code: refusal.code, message: refusal.message, ...refusal.detail } };
  return Response.json(body, { status: refusal.status, headers: refusal.headers });
}

/**
 * A Refusal as plain data, for an RPC method of a Durable Object to return: class identity does
 * not survive RPC, so a thrown Refusal would reach the caller as a bare Error and a 500.
 */
export interface Carried {
  refused: { status: number; code: ErrorCode; message: string; headers: Record<string, string>; detail?: RefusalDetail };
}

export function carry(refusal: Refusal): Carried {
  const { status, code, message, headers, detail } = refusal;
  return { refused: detail === undefined ? { status, code, message, headers } : { status, code, message, headers, detail } };
}

/** An RPC method's work, with a Refusal it throws returned as data (anything else still throws). */
export async function carryRefusals<T>(work: () => Promise<T> | T): Promise<T | Carried> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Refusal) return carry(error);
    throw error;
  }
}

export const isCarried = (value: unknown): value is Carried => typeof value === "object" && value !== null && "refused" in value;

/** The Refusal a Carried stands for, as it was on the other side of the RPC. */
export function revive({ refused }: Carried): Refusal {
  const { code, message, status, headers, detail } = refused;
  // The status came from the catalogue on the other side: the code's own or its older one.
  return new Refusal(code, message, { headers, status: status as never, ...(detail !== undefined && { detail }) });
}

/** At the caller of an RPC: the result, or the Refusal it carried, thrown again. */
export function unwrap<R>(result: R): Exclude<R, Carried> {
  if (!isCarried(result)) return result as Exclude<R, Carried>;
  throw revive(result);
}
