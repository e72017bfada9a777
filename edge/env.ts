import type { AdminSessions } from "./admin/sessions.ts";
import type { Directory } from "./admin/directory.ts";
import type { Metrics } from "./admin/metrics.ts";
import type { ChatRoom } from "./chat/chat-room.ts";
import type { Counter } from "./counter/counter.ts";
import type { RateLimiter } from "./rate-limiter/rate-limiter.ts";
import type { StreamLog } from "./streams/stream-log.ts";
import type { Scheduler } from "./scheduler/scheduler.ts";
import type { SubscriptionRegistry } from "./subscriptions/registry.ts";
import type { Subscription } from "./subscriptions/subscription.ts";

/** Bindings and settings from wrangler.toml (vars) and `wrangler secret put` (secrets). */
export interface Env {
  ASSETS: Fetcher;
  COUNTER: DurableObjectNamespace<Counter>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** One ChatRoom per room name. */
  CHAT_ROOMS: DurableObjectNamespace<ChatRoom>;
  /**
   * `true` only where the local runner (`npm start`, the tests, the benchmarks) sets it, never in a
   * deployment: unlocks the public dev stream secret and loopback webhook receivers. Nothing a
   * request carries (its `Host` included) can switch these on.
   */
  LOCAL_DEV?: string;
  /**
   * Set by the local runner to a random id that `/api/health` echoes under `LOCAL_DEV`, so the
   * runner knows the server answering on its port is the one it started.
   */
  LOCAL_INSTANCE?: string;
  /** Set by `npm run serve` to a random token, fresh each start, for its `POST /api/stopping` before SIGTERM (edge/stopping.ts). */
  SERVE_STOP_TOKEN?: string;
  /**
   * The request header that holds the client's IP because a proxy the owner runs sets it (for
   * example `X-Real-IP` behind nginx). Unset: `CF-Connecting-IP` on Cloudflare's network, and
   * otherwise no header at all (see `edge/http/client-ip.ts`).
   */
  CLIENT_IP_HEADER?: string;
  /**
   * `json`: one JSON line per request on stdout (`edge/http/request-log.ts`); `npm run serve`
   * sets it. Unset on Cloudflare, which logs requests itself.
   */
  LOG_REQUESTS?: string;
  /** Concurrent sockets per client IP on each socket route (counters, chat); default 100. */
  SOCKETS_PER_IP?: string;
  /** Viewer sockets one counter object holds at most; more viewers go to more objects. Default 5000. */
  COUNTER_SOCKETS_PER_OBJECT?: string;
  /** Count frames a counter viewer gets per second at most; default 10. */
  COUNTER_FRAMES_PER_SECOND?: string;
  /** Count frames a counter object (or the objects sharing its isolate) sends per second at most; default 15000. */
  COUNTER_OBJECT_FRAMES_PER_SECOND?: string;
  /**
   * The longest any token (stream, chat identity, video upload) may still be valid for, in
   * seconds; a token whose `exp` lies further ahead is refused. Default 86400 (24 h).
   */
  TOKEN_MAX_LIFETIME_SECONDS?: string;
  /** Origins allowed for CORS and WebSocket upgrades: a comma list, or `*`. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for admin calls; unset means admin calls are refused. */
  ADMIN_TOKEN?: string;
  /** The console's signed-in sessions (one object). */
  ADMIN_SESSIONS: DurableObjectNamespace<AdminSessions>;
  /** Adds up every object's figures (one object). */
  ADMIN_METRICS: DurableObjectNamespace<Metrics>;
  /** Every named counter, room and stream that stored data (one object per kind). */
  DIRECTORY: DurableObjectNamespace<Directory>;
  /** `off` stops every object from keeping figures (to measure their cost); default on. */
  METRICS?: string;
  /** JSON overrides of the per-IP rate limits, see `edge/rate-limiter/policies.ts`. */
  RATE_LIMITS?: string;
  /** One `StreamLog` per Durable Streams stream: the single writer of its log. */
  STREAMS: DurableObjectNamespace<StreamLog>;
  /** One `Subscription` per Durable Streams subscription id (`/v1/stream/__ds/subscriptions/{id}`). */
  SUBSCRIPTIONS: DurableObjectNamespace<Subscription>;
  /** Shards by first path segment: stream paths, subscription patterns, the webhook signing key. */
  SUBSCRIPTION_REGISTRY: DurableObjectNamespace<SubscriptionRegistry>;
  /** Cold, immutable segments of stream logs. */
  STREAM_SEGMENTS: R2Bucket;
  /** HS256 secret of stream tokens; unset, only a LOCAL_DEV backend takes the public dev secret. */
  STREAMS_JWT_SECRET?: string;
  /** `required` (default) or `off`: off lets anyone read and write every stream. */
  STREAMS_AUTH?: string;
  /** How long a long-poll (and an idle SSE keep-alive) waits, in ms; default 20000. */
  STREAMS_LONG_POLL_MS?: string;
  /** Seconds caches may keep a public stream's range that ends before its tail (read-cache.ts). */
  STREAMS_CACHE_SECONDS?: string;
  /** Hot-log bytes per stream before the oldest rotate into R2; default 8 MiB. */
  STREAMS_HOT_BYTES?: string;
  /** The local video library (and its signing key when Stream's is not set). */
  VIDEOS: R2Bucket;
  /** Cloudflare Stream: all four set switch the video library from local R2 to Stream. */
  CLOUDFLARE_ACCOUNT_ID?: string;
  /** API token with Stream Read and Stream Write. */
  STREAM_API_TOKEN?: string;
  /** Base64 JWK of a Stream signing key (as `POST .../stream/keys` returns it); also signs local playback. */
  STREAM_SIGNING_JWK?: string;
  /** The `<code>` of `customer-<code>.cloudflarestream.com`. */
  STREAM_CUSTOMER_CODE?: string;
  /** The Stream API base URL; `https://api.cloudflare.com/client/v4` unless set. */
  STREAM_API_BASE?: string;
  /** Optional service that answers the Stream API in place of STREAM_API_BASE (a proxy or a stand-in). */
  STREAM_API?: Fetcher;
  /** HS256 secret with which the host site mints short-lived video upload tokens. */
  VIDEO_UPLOAD_SECRET?: string;
  /** HS256 secret shared with the host site that signs `<edge-chat user-token>` identities. */
  CHAT_IDENTITY_SECRET?: string;
  /** Messages kept per chat room; older ones are deleted (default 10000). */
  CHAT_HISTORY_LIMIT?: string;
  /** Messages a chat client gets when it joins (default 100). */
  CHAT_JOIN_HISTORY?: string;
  /** Joins and leaves of this many ms go out to a room as one presence frame (default 500). */
  CHAT_PRESENCE_EVERY_MS?: string;
  /** Above this many people a room sends only how many are here, not who (default 100). */
  CHAT_PEOPLE_LIST_MAX?: string;
  /** Above this many people a room passes on no typing indicators (default 50). */
  CHAT_TYPING_MAX_PEOPLE?: string;
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
  /** Shortest `every`, and shortest gap between cron runs, in seconds; default 60. */
  SCHEDULE_MIN_INTERVAL_SECONDS?: string;
  /** Time allowed for one delivery attempt in ms; default 10000. */
  SCHEDULE_TIMEOUT_MS?: string;
  /** Days a finished schedule and its runs stay readable before they are deleted; default 7. */
  SCHEDULE_RETENTION_DAYS?: string;
  /** Live schedules one client IP may have; default 20 (the admin is not counted). */
  SCHEDULE_MAX_PER_IP?: string;
  /** Live schedules one target may have, all IPs together; default 1000 (the admin is not counted). */
  SCHEDULE_MAX_PER_TARGET?: string;
  /** Most runs of a repeating schedule made without the admin token, and its default `times`; default 100. */
  SCHEDULE_MAX_RUNS?: string;
}
