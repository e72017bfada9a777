import type { ChatRoom } from "./chat/chat-room.ts";
import type { Counter } from "./counter/counter.ts";
import type { RateLimiter } from "./rate-limiter/rate-limiter.ts";

/** Bindings and settings from wrangler.toml (vars) and `wrangler secret put` (secrets). */
export interface Env {
  ASSETS: Fetcher;
  COUNTER: DurableObjectNamespace<Counter>;
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** One ChatRoom per room name. */
  CHAT_ROOMS: DurableObjectNamespace<ChatRoom>;
  /** Origins allowed for CORS and WebSocket upgrades: a comma list, or `*`. */
  ALLOWED_ORIGINS?: string;
  /** Bearer token for admin calls; unset means admin calls are refused. */
  ADMIN_TOKEN?: string;
  /** JSON overrides of the per-IP rate limits, see `edge/rate-limiter/policies.ts`. */
  RATE_LIMITS?: string;
  /** HS256 secret shared with the host site that signs `<edge-chat user-token>` identities. */
  CHAT_IDENTITY_SECRET?: string;
  /** Messages kept per chat room; older ones are deleted (default 10000). */
  CHAT_HISTORY_LIMIT?: string;
  /** Messages a chat client gets when it joins (default 100). */
  CHAT_JOIN_HISTORY?: string;
}
