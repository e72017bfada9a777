import { z } from "zod";
import type { Env } from "../env.ts";
import { describeIssue } from "../http/validate.ts";

/** A token bucket: `burst` actions at once, refilled at `perSecond`. */
export interface RatePolicy {
  burst: number;
  perSecond: number;
}

/**
 * Default per-IP limits of each action. An owner (or a benchmark) overrides any of them with
 * the `RATE_LIMITS` var, e.g. `{"click":{"burst":100,"perSecond":50}}`.
 *
 * Video reads are generous: a gallery lists on every page load, search and "Load more", and
 * asks for one video when a playing token expires; many visitors may share one address. The
 * limit is there for scripts, since each listing reads the whole library (or Stream's API,
 * whose own quota is per account). Upload URLs are strict: each one writes to storage.
 */
export const DEFAULT_LIMITS = {
  click: { burst: 30, perSecond: 10 },
  "chat-message": { burst: 10, perSecond: 1 },
  "chat-join": { burst: 20, perSecond: 1 },
  "chat-read": { burst: 30, perSecond: 5 },
  schedule: { burst: 20, perSecond: 0.2 },
  "video-list": { burst: 60, perSecond: 2 },
  "video-get": { burst: 60, perSecond: 2 },
  "video-upload": { burst: 10, perSecond: 1 / 60 },
  // Every sign-in to the console, right or wrong: the owner signs in rarely, a guesser often.
  "admin-sign-in": { burst: 10, perSecond: 1 / 30 },
} satisfies Record<string, RatePolicy>;

export type RateAction = keyof typeof DEFAULT_LIMITS;

const Overrides = z.record(
  z.string(),
  z.object({ burst: z.number().int().positive(), perSecond: z.number().positive() }),
);

const cache = new Map<string, Record<string, RatePolicy>>();

export function ratePolicy(env: Env, action: RateAction): RatePolicy {
  const raw = env.RATE_LIMITS ?? "";
  let limits = cache.get(raw);
  if (!limits) {
    limits = { ...DEFAULT_LIMITS };
    if (raw.trim()) {
      const parsed = Overrides.safeParse(safeJson(raw));
      if (parsed.success) Object.assign(limits, parsed.data);
    }
    cache.set(raw, limits);
  }
  return limits[action] ?? DEFAULT_LIMITS[action];
}

/** What is wrong with `RATE_LIMITS`, if anything: the Worker refuses to serve until it is fixed. */
export function rateLimitsProblem(raw: string | undefined): string | undefined {
  if (!raw?.trim()) return undefined;
  const parsed = Overrides.safeParse(safeJson(raw));
  return parsed.success ? undefined : `RATE_LIMITS is not valid: ${describeIssue(parsed.error)}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
