import type { Env } from "./env.ts";
import { isLocalDev } from "./http/local-dev.ts";
import { TOKEN_MAX_LIFETIME } from "./http/tokens.ts";
import { rateLimitsProblem } from "./rate-limiter/policies.ts";
import { targetsProblem } from "./scheduler/settings.ts";
import { signingSecretProblem } from "./scheduler/signature.ts";
import { authOff } from "./streams/auth.ts";
import { DEV_STREAMS_SECRET } from "./streams/tokens.ts";

/**
 * The deployment check: a Worker configured dangerously (a public or guessable secret, streams
 * open to everyone) or wrongly (a setting it cannot read, which would otherwise fall back
 * silently) serves nothing but a 503 naming the setting, so the owner finds out on the first
 * request (or health check) rather than after someone else does. The local runner's `LOCAL_DEV`
 * allows the dev conveniences; settings that cannot be read are refused everywhere.
 */

const SECRETS = ["STREAMS_JWT_SECRET", "ADMIN_TOKEN", "CHAT_IDENTITY_SECRET", "VIDEO_UPLOAD_SECRET", "WEBHOOK_SIGNING_SECRET"] as const;
export const MIN_SECRET_CHARS = 16;

const HOW_TO_SET = (name: string) => `Set a long random one: openssl rand -base64 32 | npx wrangler secret put ${name}`;

function findProblem(env: Env): string | undefined {
  if (!isLocalDev(env)) {
    for (const name of SECRETS) {
      const value = env[name];
      if (!value) continue;
      if (value === DEV_STREAMS_SECRET) return `${name} is the public development secret from the source code. ${HOW_TO_SET(name)}`;
      if (value.length < MIN_SECRET_CHARS) return `${name} is shorter than ${MIN_SECRET_CHARS} characters. ${HOW_TO_SET(name)}`;
    }
    if (authOff(env)) {
      return "STREAMS_AUTH is off, which lets anyone read and write every stream; it is meant for local test runs only. Remove it (the default is required).";
    }
  }
  return TOKEN_MAX_LIFETIME.problem(env) ?? rateLimitsProblem(env.RATE_LIMITS) ?? targetsProblem(env.SCHEDULE_TARGETS) ?? signingSecretProblem(env.WEBHOOK_SIGNING_SECRET);
}

/** Checked once per isolate and set of values; the reason is logged once. */
const checked = new Map<string, string | undefined>();
/**
 * The verdict per `env` object: an isolate hands every request the same one, so the hot path
 * skips building the key above (tests pass objects of their own, which get their own entry).
 */
const byEnv = new WeakMap<Env, { problem: string | undefined }>();

export function configurationProblem(env: Env): string | undefined {
  const known = byEnv.get(env);
  if (known) return known.problem;
  const problem = checkValues(env);
  byEnv.set(env, { problem });
  return problem;
}

function checkValues(env: Env): string | undefined {
  const key = JSON.stringify([
    env.LOCAL_DEV,
    ...SECRETS.map((name) => env[name]),
    env.STREAMS_AUTH,
    env.TOKEN_MAX_LIFETIME_SECONDS,
    env.RATE_LIMITS,
    env.SCHEDULE_TARGETS,
  ]);
  if (checked.has(key)) return checked.get(key);
  const problem = findProblem(env);
  if (problem) console.error(`misconfigured: ${problem}`);
  checked.set(key, problem);
  return problem;
}
