import type { Env } from "../env.ts";
import { flag } from "../settings.ts";

/**
 * Development trust comes from configuration only: the local runner (`scripts/backend.ts`) sets
 * `LOCAL_DEV=true`, `wrangler.toml` never does, so a deployment has it off whatever a request says.
 */
const LOCAL_DEV = flag("LOCAL_DEV", "true");

export const isLocalDev = (env: Pick<Env, "LOCAL_DEV">) => LOCAL_DEV.read(env);
