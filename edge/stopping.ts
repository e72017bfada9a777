import { bearerToken, sameSecret } from "./http/admin.ts";
import { notFound, Refusal } from "./http/refusal.ts";
import type { Routes } from "./router.ts";

/**
 * A stop announced by `npm run serve` just before it sends workerd SIGTERM. workerd keeps
 * firing alarms while it drains, and kills what is still running when the grace period ends:
 * a delivery started then may be sent and never recorded, so it would be sent again after the
 * restart. Once told, the scheduler starts no new delivery; the ones under way end and are
 * recorded, and what falls due waits for the restart. One flag per isolate, and plain workerd
 * runs the Worker and every Durable Object in one isolate.
 */
let stopping = false;

export const isStopping = () => stopping;

export const routes: Routes = {
  // Only serve's runner knows the token, a fresh one each start; with none set the route is not there.
  "/api/stopping": {
    POST: async ({ env, request }) => {
      const token = bearerToken(request);
      if (!env.SERVE_STOP_TOKEN) throw notFound("Nothing at /api/stopping.");
      if (token === undefined || !(await sameSecret(token, env.SERVE_STOP_TOKEN))) {
        throw new Refusal("unauthorized", "This call needs the stop token npm run serve made.", { headers: { "WWW-Authenticate": "Bearer" } });
      }
      stopping = true;
      return Response.json({ stopping: true });
    },
  },
};
