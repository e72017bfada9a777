import { configurationProblem } from "./configuration.ts";
import type { Env } from "./env.ts";
import { routes as chat } from "./chat/routes.ts";
import { routes as counter } from "./counter/routes.ts";
import { routes as health } from "./health.ts";
import { Refusal, errorResponse, notFound } from "./http/refusal.ts";
import { makeInert } from "./http/inert.ts";
import { preflight, withCors } from "./http/origins.ts";
import { logRequest } from "./http/request-log.ts";
import { Router } from "./router.ts";
import { routes as schedules } from "./scheduler/routes.ts";
import { STREAM_METHODS, routes as streamAdmin } from "./streams/routes.ts";
import { routes as subscriptions } from "./subscriptions/routes.ts";
import { routes as videos } from "./video/routes.ts";
import { routes as widgetFiles } from "./widget-files.ts";

export { ChatRoom } from "./chat/chat-room.ts";
export { Counter } from "./counter/counter.ts";
export { RateLimiter } from "./rate-limiter/rate-limiter.ts";
export { StreamLog } from "./streams/stream-log.ts";
export { Scheduler } from "./scheduler/scheduler.ts";
export { Subscription } from "./subscriptions/subscription.ts";
export { SubscriptionRegistry } from "./subscriptions/registry.ts";

/** Every stream path that is not a subscription control route. */
const streams = { "/v1/stream/*": STREAM_METHODS };

/** Each feature's routes, with their guards, in the order they are tried. */
const router = new Router()
  .mount(health)
  .mount(counter)
  .mount(videos)
  .mount(chat)
  .mount(schedules)
  .mount(widgetFiles)
  .mount(subscriptions)
  .mount(streamAdmin)
  .mount(streams);

/** Widget files carry their own `*` CORS header; everything else follows ALLOWED_ORIGINS. */
const isWidgetFile = (path: string) => path === "/widgets.js" || path.startsWith("/widgets/") || path.startsWith("/chunks/");

/** The API's own paths: everything else is the widget files and the demo's static assets. */
const isApi = (path: string) => path.startsWith("/api/") || path.startsWith("/v1/");

async function respond(request: Request, env: Env, ctx: ExecutionContext, path: string): Promise<Response> {
  try {
    if (request.method === "OPTIONS") return preflight(env, request);
    // Health checks see it too: an orchestrator should not route to a Worker that refuses everything.
    const problem = configurationProblem(env);
    if (problem) throw new Refusal("misconfigured", problem);
    const response = await router.handle(request, env, ctx);
    if (response) return isWidgetFile(path) ? response : withCors(env, request, response);
    if (isApi(path)) throw notFound(`Nothing at ${path}.`);
    return env.ASSETS.fetch(request);
  } catch (error) {
    return withCors(env, request, errorResponse(error));
  }
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const startedAt = Date.now();
    const url = new URL(request.url);
    const response = await respond(request, env, ctx, url.pathname);
    logRequest(env, request, url, response.status, startedAt);
    return isApi(url.pathname) ? makeInert(response) : response;
  },
} satisfies ExportedHandler<Env>;
