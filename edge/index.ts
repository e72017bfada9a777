import { countAnswer, countRefusal } from "./admin/metrics.ts";
import { routes as adminConsole } from "./admin/routes.ts";
import { configurationProblem } from "./configuration.ts";
import type { Env } from "./env.ts";
import { routes as chat } from "./chat/routes.ts";
import { routes as counter } from "./counter/routes.ts";
import { routes as health } from "./health.ts";
import { Refusal, errorResponse, notFound } from "./http/refusal.ts";
import { addInertHeaders } from "./http/inert.ts";
import { withHeaders } from "./http/response-headers.ts";
import { addCorsHeaders, preflight } from "./http/origins.ts";
import { logRequest } from "./http/request-log.ts";
import { Router } from "./router.ts";
import { routes as schedules } from "./scheduler/routes.ts";
import { routes as stopping } from "./stopping.ts";
import { STREAM_METHODS, routes as streamAdmin } from "./streams/routes.ts";
import { routes as subscriptions } from "./subscriptions/routes.ts";
import { routes as videos } from "./video/routes.ts";
import { routes as widgetFiles } from "./widget-files.ts";

export { AdminSessions } from "./admin/sessions.ts";
export { Directory } from "./admin/directory.ts";
export { Metrics } from "./admin/metrics.ts";
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
  .mount(adminConsole)
  .mount(stopping)
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

/** A response, and whether it still needs this request's CORS headers. */
interface Answer {
  response: Response;
  cors: boolean;
}

async function respond(request: Request, env: Env, ctx: ExecutionContext, url: URL): Promise<Answer> {
  const path = url.pathname;
  try {
    if (request.method === "OPTIONS") return { response: preflight(env, request), cors: false };
    // Health checks see it too: an orchestrator should not route to a Worker that refuses everything.
    const problem = configurationProblem(env);
    if (problem) throw new Refusal("misconfigured", problem);
    const response = await router.handle(request, env, ctx, url);
    if (response) return { response, cors: !isWidgetFile(path) };
    if (isApi(path)) throw notFound(`Nothing at ${path}.`);
    return { response: await env.ASSETS.fetch(request), cors: false };
  } catch (error) {
    countRefusal(env, error instanceof Refusal ? error.code : "internal");
    return { response: errorResponse(error), cors: true };
  }
}

/** Adds the CORS headers and, to an API answer, the inert ones. */
function finish(env: Env, request: Request, { response, cors }: Answer, api: boolean): Response {
  // A WebSocket upgrade's response cannot be copied, and is no document.
  if (response.status === 101 || (!cors && !api)) return response;
  const add = (headers: Headers) => {
    if (cors) addCorsHeaders(env, request, headers);
    if (api) addInertHeaders(headers);
  };
  return withHeaders(response, add);
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const startedAt = Date.now();
    const url = new URL(request.url);
    const answer = await respond(request, env, ctx, url);
    logRequest(env, request, url, answer.response.status, startedAt);
    countAnswer(env, ctx, answer.response.status);
    return finish(env, request, answer, isApi(url.pathname));
  },
} satisfies ExportedHandler<Env>;
