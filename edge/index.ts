import type { Env } from "./env.ts";
import { connectCounter, getCounter } from "./counter/routes.ts";
import { errorResponse, notFound } from "./http/errors.ts";
import { preflight, withCors } from "./http/origins.ts";
import { Router } from "./router.ts";
import { createSchedule, deleteSchedule, getSchedule, listRuns, listSchedules } from "./scheduler/routes.ts";
import { serveWidgetFile } from "./widget-files.ts";

export { Counter } from "./counter/counter.ts";
export { RateLimiter } from "./rate-limiter/rate-limiter.ts";
export { Scheduler } from "./scheduler/scheduler.ts";

const routes = new Router()
  .on("/api/health", { GET: () => Response.json({ ok: true }) })
  .on("/api/counters/:name", { GET: getCounter })
  .on("/api/counters/:name/ws", { GET: connectCounter })
  .on("/api/schedules", { GET: listSchedules, POST: createSchedule })
  .on("/api/schedules/:id", { GET: getSchedule, DELETE: deleteSchedule })
  .on("/api/schedules/:id/runs", { GET: listRuns })
  .on("/widgets.js", { GET: serveWidgetFile })
  .on("/widgets/*", { GET: serveWidgetFile })
  .on("/chunks/*", { GET: serveWidgetFile });

/** Widget files carry their own `*` CORS header; everything else follows ALLOWED_ORIGINS. */
const isWidgetFile = (path: string) => path === "/widgets.js" || path.startsWith("/widgets/") || path.startsWith("/chunks/");

export default {
  async fetch(request, env, ctx): Promise<Response> {
    try {
      if (request.method === "OPTIONS") return preflight(env, request);
      const response = await routes.handle(request, env, ctx);
      if (response) return isWidgetFile(new URL(request.url).pathname) ? response : withCors(env, request, response);
      const path = new URL(request.url).pathname;
      if (path.startsWith("/api/") || path.startsWith("/v1/")) throw notFound(`Nothing at ${path}.`);
      return env.ASSETS.fetch(request);
    } catch (error) {
      return withCors(env, request, errorResponse(error));
    }
  },
} satisfies ExportedHandler<Env>;
