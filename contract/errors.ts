/**
 * Every error code the backend sends: in an HTTP answer `{"error":{"code","message"}}`, in a
 * socket's error frame `{"type":"error","code","message"}`, or as the reason a socket is closed
 * for. Each code says once what it means and how it travels:
 * - `status`: the HTTP status it is answered with;
 * - `alsoStatus`: an older status a few answers keep for it, because clients already rely on it;
 * - `close`: the WebSocket close code when it turns a socket away (see docs/protocol.md);
 * - `frame`: it may also come back in an error frame on a live socket.
 * Codes in capitals are the Durable Streams protocol's own (subscriptions), spelled as it does.
 * A new refusal picks its code here, so a misspelt code does not compile.
 */
export const ErrorCodes = {
  // --- any request
  bad_request: { status: 400, close: 4400, meaning: "The request is wrong in a way the message explains." },
  invalid_request: { status: 400, close: 4400, meaning: "The body, query or frame does not match its schema." },
  invalid_json: { status: 400, meaning: "The body is not valid JSON." },
  invalid_utf8: { status: 400, meaning: "The body is not valid UTF-8." },
  too_deep: { status: 400, frame: true, meaning: "The JSON nests deeper than the backend reads." },
  invalid_name: { status: 400, meaning: "A name in the path breaks the naming rule." },
  payload_too_large: { status: 413, alsoStatus: 400, meaning: "The body (400: a schedule's payload) is larger than allowed." },
  unsupported_media_type: { status: 415, meaning: "The body has a content type this path does not take." },
  not_found: { status: 404, meaning: "Nothing at this path, or no such thing." },
  method_not_allowed: { status: 405, meaning: "The path exists but not for this method; `Allow` lists the methods." },
  upgrade_required: { status: 426, meaning: "The path speaks WebSocket only." },
  origin_not_allowed: { status: 403, close: 1008, meaning: "The page's Origin is not in ALLOWED_ORIGINS." },
  rate_limited: { status: 429, close: 1013, frame: true, meaning: "Too many requests, joins or messages; retry after the given time." },
  misconfigured: { status: 503, meaning: "The backend's configuration is unsafe or unreadable; it refuses everything." },
  internal: { status: 500, frame: true, meaning: "Something failed on the backend's side; the details are only in its logs." },

  // --- credentials
  unauthorized: { status: 401, close: 4401, meaning: "Credentials are missing or not accepted." },
  forbidden: { status: 403, close: 4403, meaning: "The credentials are fine but do not open this (or the name is banned)." },
  admin_disabled: { status: 403, meaning: "Admin calls are off: ADMIN_TOKEN is not set." },
  admin_required: { status: 403, alsoStatus: 401, meaning: "Only the admin token may do this (401: none was sent)." },
  token_required: { status: 401, meaning: "The call needs a token and none was sent." },
  invalid_token: { status: 401, meaning: "The token is malformed, badly signed, or its claims are wrong." },
  token_expired: { status: 401, alsoStatus: 403, meaning: "The token has expired (403: a playback token)." },
  token_invalid: { status: 401, meaning: "The playback token is missing or not valid." },
  token_not_valid: { status: 403, meaning: "The playback token does not open this file." },
  insufficient_scope: { status: 403, meaning: "The stream token does not allow this operation." },
  wrong_stream: { status: 403, meaning: "The stream token is for another stream." },
  access_denied: { status: 403, meaning: "The playback token is not valid from this address or site." },

  // --- sockets
  bad_frame: { frame: true, meaning: "A frame is not JSON." },
  invalid_message: { frame: true, meaning: "A frame does not match any message the socket takes." },
  not_identified: { frame: true, meaning: "A chat frame before the identify frame." },
  already_identified: { frame: true, meaning: "A second identify frame on a socket that has joined." },
  blocked_word: { frame: true, meaning: "The chat message holds a word the room (or every room) does not allow." },
  slow_mode: { frame: true, meaning: "The room is in slow mode and this member sent too recently; retry after the given time." },

  // --- schedules
  invalid_timing: { status: 400, meaning: "The schedule's at, every, cron, tz, start, times or until do not fit together." },
  unknown_target: { status: 400, meaning: "No target of that name is configured." },
  unsafe_url: { status: 400, meaning: "The delivery URL points somewhere the backend will not call." },
  invalid_id: { status: 400, meaning: "That is not a schedule id." },
  invalid_limit: { status: 400, meaning: "The page size is out of range." },
  invalid_cursor: { status: 400, meaning: "The cursor is not one a previous page handed out." },
  idempotency_conflict: { status: 409, meaning: "The idempotency key was used for a different schedule." },
  too_many_schedules: { status: 429, meaning: "The address or target holds as many live schedules as allowed." },
  schedule_finished: { status: 409, meaning: "The schedule is done or dead: it cannot be paused, resumed or run." },
  schedule_paused: { status: 409, meaning: "The schedule is paused: resume it before running it." },
  schedule_not_dead: { status: 409, meaning: "Only a dead schedule (its last attempt failed) can be retried." },
  invalid_filter: { status: 400, meaning: "A list filter (state, target) is not one the list takes." },

  // --- videos
  invalid_upload: { status: 400, meaning: "The upload is not a video the library takes." },
  video_too_long: { status: 400, meaning: "The video is longer than the upload allowed." },
  not_downloadable: { status: 403, meaning: "Downloads are not allowed for this video." },
  upload_expired: { status: 410, meaning: "The one-time upload URL has expired." },
  upload_used: { status: 410, meaning: "The one-time upload URL was already used." },
  range_not_satisfiable: { status: 416, meaning: "The byte range lies outside the file." },
  stream_error: { status: 502, meaning: "Cloudflare Stream refused the call." },
  stream_unavailable: { status: 502, meaning: "Cloudflare Stream could not be reached." },

  // --- streams
  missing_content_type: { status: 400, meaning: "An append without a Content-Type." },
  empty_body: { status: 400, meaning: "An append without a body." },
  empty_array: { status: 400, meaning: "A JSON append of an empty array." },
  invalid_producer: { status: 400, meaning: "The Producer-Id, Producer-Epoch and Producer-Seq headers are incomplete or malformed." },
  invalid_producer_seq: { status: 400, meaning: "A new producer epoch that does not start at sequence 0." },
  invalid_ttl: { status: 400, meaning: "Stream-TTL is malformed or sent with Stream-Expires-At." },
  invalid_expires_at: { status: 400, meaning: "Stream-Expires-At is not an RFC 3339 time." },
  invalid_offset: { status: 400, meaning: "The offset parameter is missing, repeated or not one the server returned." },
  missing_offset: { status: 400, meaning: "A live read (SSE, long-poll) without an offset." },
  invalid_fork_offset: { status: 400, meaning: "The fork offset is not an offset or lies past the source." },
  invalid_fork_sub_offset: { status: 400, meaning: "The fork sub-offset is malformed or passes its message." },
  stale_producer_epoch: { status: 403, meaning: "A newer epoch of this producer exists." },
  fork_not_public: { status: 403, meaning: "A fork of a private stream cannot be public." },
  source_not_found: { status: 404, meaning: "The fork's source stream does not exist." },
  content_type_mismatch: { status: 409, meaning: "The append's or fork's content type differs from the stream's." },
  producer_sequence_gap: { status: 409, meaning: "A producer skipped a sequence number." },
  sequence_conflict: { status: 409, meaning: "Stream-Seq did not grow." },
  stream_closed: { status: 409, meaning: "The stream is closed to appends." },
  stream_exists: { status: 409, meaning: "A stream of this name exists with another configuration." },
  stream_has_forks: { status: 409, meaning: "The deleted stream's name is held by its live forks." },
  source_deleted: { status: 409, meaning: "The fork's source was deleted." },
  stream_gone: { status: 410, close: 4404, meaning: "The stream was deleted or expired." },

  // --- subscriptions (the protocol's own codes)
  INVALID_REQUEST: { status: 400, meaning: "The subscription call's body or path is not valid." },
  WEBHOOK_URL_REJECTED: { status: 400, meaning: "The webhook URL points somewhere the backend will not call." },
  TOKEN_INVALID: { status: 401, meaning: "The wake token is missing or not this wake's." },
  TOKEN_EXPIRED: { status: 401, meaning: "The wake token has expired." },
  SUBSCRIPTION_NOT_FOUND: { status: 404, meaning: "No such subscription." },
  SUBSCRIPTION_ALREADY_EXISTS: { status: 409, meaning: "A subscription of this id exists with another configuration." },
  ALREADY_CLAIMED: { status: 409, meaning: "Another worker holds the wake." },
  FENCED: { status: 409, meaning: "The wake's generation moved on; this worker no longer holds it." },
  INVALID_OFFSET: { status: 409, meaning: "An acknowledged offset is not one of the stream's." },
  NO_PENDING_WORK: { status: 409, meaning: "Nothing is pending to claim." },
} as const satisfies Record<string, ErrorEntry>;

export interface ErrorEntry {
  status?: number;
  alsoStatus?: number;
  close?: number;
  frame?: true;
  meaning: string;
}

export type ErrorCode = keyof typeof ErrorCodes;

/** The codes a socket may be closed with, and those an error frame may carry. */
export type CloseErrorCode = { [C in ErrorCode]: (typeof ErrorCodes)[C] extends { close: number } ? C : never }[ErrorCode];
export type FrameErrorCode = { [C in ErrorCode]: (typeof ErrorCodes)[C] extends { frame: true } ? C : never }[ErrorCode];
