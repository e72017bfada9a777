/**
 * The one place where a stream's refusal meets HTTP: its status is its code's in the catalogue
 * (contract/errors.ts); this adds the protocol headers that carry its detail, and the
 * `WWW-Authenticate` challenge of a 401.
 */
import type { ErrorCode } from "../../contract/errors.ts";
import { Refusal, isCarried, type Carried } from "../http/refusal.ts";
import { Header } from "./protocol.ts";
import type { StreamRefusalDetail } from "./refusals.ts";

/** The challenge of a 401 on a stream; a refused token's names what was wrong with it. */
export const challenge = (tokenProblem?: ErrorCode): Record<string, string> => ({
  "WWW-Authenticate": tokenProblem === undefined ? 'Bearer realm="streams"' : `Bearer realm="streams", error="${tokenProblem}"`,
});

/** A refusal the stream object carried back, as the HTTP answer it stands for. */
export function streamRefusal({ refused }: Carried): Refusal {
  const { code, message, status } = refused;
  const detail: StreamRefusalDetail = refused.detail ?? {};
  const headers: Record<string, string> = { ...refused.headers };
  // A private stream's refusal; one the Worker decided (a fork's token) brought its own.
  if (code === "unauthorized" && headers["WWW-Authenticate"] === undefined) Object.assign(headers, challenge());
  if (detail.tail !== undefined) {
    headers[Header.Closed] = "true";
    headers[Header.NextOffset] = detail.tail;
  }
  if (detail.currentEpoch !== undefined) headers[Header.ProducerEpoch] = String(detail.currentEpoch);
  if (detail.expectedSeq !== undefined) headers[Header.ProducerExpectedSeq] = String(detail.expectedSeq);
  if (detail.receivedSeq !== undefined) headers[Header.ProducerReceivedSeq] = String(detail.receivedSeq);
  return new Refusal(code, message, { status: status as never, headers });
}

/** The stream object's result, or the refusal it carried, thrown as HTTP. */
export function unwrapStream<R>(result: R): Exclude<R, Carried> {
  if (!isCarried(result)) return result as Exclude<R, Carried>;
  throw streamRefusal(result);
}
