import { ErrorCodes, type ErrorCode, type ErrorEntry } from "../../contract/errors.ts";
import type { Env } from "../env.ts";
import { isAdminRequest, isAdminToken } from "../http/admin.ts";
import { isLocalDev } from "../http/local-dev.ts";
import { Refusal } from "../http/refusal.ts";
import { maxTokenLifetime } from "../http/tokens.ts";
import { flag } from "../settings.ts";
import { challenge } from "./http-refusals.ts";
import { DEV_STREAMS_SECRET, checkStreamToken, type Scope } from "./tokens.ts";


/** `STREAMS_AUTH=off` (any case) opens every stream; anything else, `required` included, is the default. */
const STREAMS_AUTH_OFF = flag("STREAMS_AUTH", "off");

export const authOff = (env: Env): boolean => STREAMS_AUTH_OFF.read(env);

/** The signing secret; the public dev secret only on a backend the local runner started. */
function secretFor(env: Env): string | undefined {
  if (env.STREAMS_JWT_SECRET) return env.STREAMS_JWT_SECRET;
  return isLocalDev(env) ? DEV_STREAMS_SECRET : undefined;
}

function bearer(request: Request): string | undefined {
  const header = request.headers.get("Authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match) throw refused("invalid_token", "Send the token as Authorization: Bearer <token>.");
  return match[1]!.trim();
}

/** A refused token; a 401 names its problem in the challenge. */
function refused(code: ErrorCode, message: string): Refusal {
  const entry: ErrorEntry = ErrorCodes[code];
  return new Refusal(code, message, entry.status === 401 ? { headers: challenge(code) } : {});
}

/**
 * Decides what a request may do on `stream`. Writes throw 401/403 unless allowed. Reads
 * return whether a valid token came along: `false` lets the stream object serve only public
 * streams. A token that is present but bad is refused either way.
 */
export async function authorize(env: Env, request: Request, stream: string, need: Scope): Promise<boolean> {
  if (authOff(env)) return true;
  const token = bearer(request);
  if (token === undefined && (await isAdminRequest(env, request))) return true;
  if (token === undefined) {
    if (need === "read") return false;
    throw refused("unauthorized", "Writing to a stream needs a write token (Authorization: Bearer).");
  }
  if (await isAdminToken(env, token)) return true;
  const secret = secretFor(env);
  if (!secret) throw refused("invalid_token", "This server has no STREAMS_JWT_SECRET, so it accepts no stream tokens.");
  const check = await checkStreamToken(secret, token, stream, need, maxTokenLifetime(env));
  if (!check.ok) throw refused(check.code, check.message);
  return true;
}
