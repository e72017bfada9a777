import { isLocalDev } from "./http/local-dev.ts";
import type { Routes } from "./router.ts";

export const routes: Routes = {
  // Under the local runner it names the instance, so the runner knows the server is its own.
  "/api/health": {
    GET: ({ env }) => Response.json(isLocalDev(env) && env.LOCAL_INSTANCE ? { ok: true, instance: env.LOCAL_INSTANCE } : { ok: true }),
  },
};
