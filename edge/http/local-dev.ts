import type { Env } from "../env.ts";

/**
 * Development trust comes from configuration only: the local runner (`scripts/backend.ts`) sets
 * `LOCAL_DEV=true`, `wrangler.toml` never does, so a deployment has it off whatever a request says.
 */
export const isLocalDev = (env: Pick<Env, "LOCAL_DEV">) => env.LOCAL_DEV?.trim().toLowerCase() === "true";
