import type { Env } from "../env.ts";
import type { SchedulerSettings } from "./settings.ts";
import { checkUrl } from "../http/ssrf-guard.ts";
import { signatureHeaders } from "./signature.ts";

/** What one delivery attempt came to. `retry` says whether another attempt may help. */
export interface Outcome {
  ok: boolean;
  status: number | null;
  error: string | null;
  retry: boolean;
  /** The schedule can never be delivered, so it ends here, whatever its timing says. */
  final?: true;
}

export interface Delivery {
  scheduleId: string;
  occurrence: number;
  attempt: number;
  /** The payload as JSON text: exactly the bytes that are sent and signed. */
  body: string;
  /** A named owner target, or a caller-given URL (guarded). */
  target: string | null;
  url: string | null;
}

const MAX_REDIRECTS = 5;

export async function deliver(env: Env, settings: SchedulerSettings, delivery: Delivery): Promise<Outcome> {
  if (delivery.target !== null) {
    const target = settings.targets.get(delivery.target);
    if (!target) return failed(`The target "${delivery.target}" is no longer configured.`, false);
    if (target.kind === "stream") return appendToStream(env, target.stream, target.expiresAfter, delivery.body);
    return post(env, delivery, target.url, target.headers, false, settings);
  }
  return post(env, delivery, delivery.url!, {}, true, settings);
}

async function appendToStream(env: Env, stream: string, expiresAfter: number | undefined, body: string): Promise<Outcome> {
  try {
    const expiresAt = expiresAfter === undefined ? undefined : new Date(Date.now() + expiresAfter * 1000).toISOString();
    await env.STREAMS.getByName(stream).appendJson(JSON.parse(body), expiresAt === undefined ? {} : { expiresAt });
    return { ok: true, status: null, error: null, retry: false };
  } catch (error) {
    return failed(`Appending to the stream "${stream}" failed: ${(error as Error).message}`, true);
  }
}

/**
 * POSTs the payload. Redirects are followed by hand (307 and 308 only, which keep the method
 * and body), so that each hop of a caller-given URL passes the SSRF guard before it is fetched.
 */
async function post(
  env: Env,
  delivery: Delivery,
  start: string,
  extraHeaders: Record<string, string>,
  guarded: boolean,
  settings: SchedulerSettings,
): Promise<Outcome> {
  const id = `${delivery.scheduleId}:${delivery.occurrence}`;
  const headers: Record<string, string> = {
    ...extraHeaders,
    "Content-Type": "application/json",
    "User-Agent": "edge-widgets-scheduler",
    "Idempotency-Key": id,
    "Schedule-Id": delivery.scheduleId,
    "Schedule-Occurrence": new Date(delivery.occurrence).toISOString(),
    "Schedule-Attempt": String(delivery.attempt),
  };
  if (env.WEBHOOK_SIGNING_SECRET) Object.assign(headers, await signatureHeaders(env.WEBHOOK_SIGNING_SECRET, id, Math.floor(Date.now() / 1000), delivery.body));
  const signal = AbortSignal.timeout(settings.timeoutMs);
  let url = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (guarded) {
      const verdict = checkUrl(url, settings.ports);
      if (!verdict.ok) return failed(`Refused ${hop === 0 ? "the URL" : "a redirect"}: it ${verdict.reason}.`, false);
    }
    let response: Response;
    try {
      response = await fetch(url, { method: "POST", headers, body: delivery.body, redirect: "manual", signal });
    } catch (error) {
      const reason = (error as Error).name === "TimeoutError" ? `no answer within ${settings.timeoutMs} ms` : (error as Error).message;
      return failed(`Network error: ${reason}`, true);
    }
    // The answer is not needed; drain it so the connection can be reused.
    await response.body?.cancel().catch(() => undefined);
    if (response.status === 307 || response.status === 308) {
      const location = response.headers.get("Location");
      if (!location) return { ok: false, status: response.status, error: "Redirect without a Location.", retry: false };
      url = new URL(location, url).toString();
      continue;
    }
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, error: null, retry: false };
    const retry = response.status === 429 || response.status >= 500;
    const error =
      response.status >= 300 && response.status < 400
        ? `Answered ${response.status}; deliveries follow only 307 and 308 redirects.`
        : `Answered ${response.status}.`;
    return { ok: false, status: response.status, error, retry };
  }
  return failed(`More than ${MAX_REDIRECTS} redirects.`, false);
}

const failed = (error: string, retry: boolean): Outcome => ({ ok: false, status: null, error, retry });
