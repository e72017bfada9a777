import type { Counter } from "./counter/counter.ts";
import type { RateLimiter } from "./rate-limiter/rate-limiter.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";

/** Bindings and settings from wrangler.toml (vars) and `wrangler secret put` (secrets). */
export interface Env {
  ASSETS: Fetcher;
  COUNTER: DurableObjectNamespace<Counter>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Origins allowed for CORS and WebSocket upgrades: a comma list, or `*`. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for admin calls; unset means admin calls are refused. */
  ADMIN_TOKEN?: string;
  /** JSON overrides of the per-IP rate limits, see `edge/rate-limiter/policies.ts`. */
  RATE_LIMITS?: string;
  /** The scheduler's shards (see `edge/scheduler/routes.ts`). */
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  /** JSON: target name → an http(s) URL, `{"url","headers"}` or `{"stream"}`; see the README. */
  SCHEDULE_TARGETS?: string;
  /** Secret for the `Webhook-Signature` HMAC of deliveries; unset means unsigned. */
  WEBHOOK_SIGNING_SECRET?: string;
  /** Ports a caller-given (admin) schedule URL may use, comma list; default `443,80`. */
  SCHEDULE_ALLOWED_PORTS?: string;
  /** Delivery attempts per occurrence, the first included; default 5. */
  SCHEDULE_MAX_ATTEMPTS?: string;
  /** First retry delay in ms (doubles per retry, with jitter); default 2000. */
  SCHEDULE_RETRY_BASE_MS?: string;
  /** Longest retry delay in ms; default 300000. */
  SCHEDULE_RETRY_MAX_MS?: string;
  /** Shortest `every` in seconds; default 60. */
  SCHEDULE_MIN_INTERVAL_SECONDS?: string;
  /** Time allowed for one delivery attempt in ms; default 10000. */
  SCHEDULE_TIMEOUT_MS?: string;
}
