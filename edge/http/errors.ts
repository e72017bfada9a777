/**
 * The one error model of the API: every refusal is `{"error":{"code","message"}}` with a
 * fitting 4xx status. Anything else that escapes a handler is logged and answered as a
 * generic 500 without details, because a stack trace is nobody's business but ours.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (message: string, code = "bad_request") => new HttpError(400, code, message);
export const notFound = (message = "Not found.") => new HttpError(404, "not_found", message);

export function errorResponse(error: unknown): Response {
  if (error instanceof HttpError) {
    return Response.json(
      { error: { code: error.code, message: error.message } },
      { status: error.status, headers: error.headers },
    );
  }
  console.error("unhandled error", error);
  return Response.json(
    { error: { code: "internal", message: "Something went wrong on our side." } },
    { status: 500 },
  );
}
