/**
 * The one place where a stream object's refusal becomes HTTP: a status per code, and the
 * protocol headers that carry its detail.
 */
import { HttpError } from "../http/errors.ts";
import { Header } from "./protocol.ts";
import type { Refusal, StreamRefusalCode } from "./refusals.ts";

const STATUS: Record<StreamRefusalCode, number> = {
  not_found: 404,
  stream_gone: 410,
  unauthorized: 401,
  stream_exists: 409,
  stream_has_forks: 409,
  stream_closed: 409,
  content_type_mismatch: 409,
  sequence_conflict: 409,
  stale_producer_epoch: 403,
  invalid_producer_seq: 400,
  producer_sequence_gap: 409,
  source_not_found: 404,
  source_deleted: 409,
  fork_not_public: 403,
  invalid_fork_offset: 400,
  invalid_fork_sub_offset: 400,
  invalid_json: 400,
  too_deep: 400,
  empty_array: 400,
};

export function refusalError({ refused }: Refusal): HttpError {
  const { code, message, detail } = refused;
  if (refused.status !== undefined) return new HttpError(refused.status, code, message, refused.headers ?? {});
  const headers: Record<string, string> = {};
  if (code === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="streams"';
  if (detail?.tail !== undefined) {
    headers[Header.Closed] = "true";
    headers[Header.NextOffset] = detail.tail;
  }
  if (detail?.currentEpoch !== undefined) headers[Header.ProducerEpoch] = String(detail.currentEpoch);
  if (detail?.expectedSeq !== undefined) headers[Header.ProducerExpectedSeq] = String(detail.expectedSeq);
  if (detail?.receivedSeq !== undefined) headers[Header.ProducerReceivedSeq] = String(detail.receivedSeq);
  return new HttpError(STATUS[code as StreamRefusalCode] ?? 400, code, message, headers);
}

export function fail(refusal: Refusal): never {
  throw refusalError(refusal);
}

/** An HTTP refusal the Worker decided, carried to the object and back as it is. */
export const asRefusal = (error: HttpError): Refusal => ({
  refused: { code: error.code, message: error.message, status: error.status, headers: error.headers },
});
