import { configurationProblem } from "./configuration.ts";
import type { Env } from "./env.ts";
import { addBan, connectRoom, deleteMessage, liftBan, listBans, listMessages, listPeople } from "./chat/routes.ts";
import { connectCounter, getCounter } from "./counter/routes.ts";
import { Refusal, errorResponse, notFound } from "./http/refusal.ts";
import { makeInert } from "./http/inert.ts";
import { isLocalDev } from "./http/local-dev.ts";
import { preflight, withCors } from "./http/origins.ts";
import { Router, type RouteContext } from "./router.ts";
import { createSchedule, deleteSchedule, getSchedule, listRuns, listSchedules } from "./scheduler/routes.ts";
import { serveWidgetFile } from "./widget-files.ts";
import { STREAM_METHODS } from "./streams/routes.ts";
import * as subscriptions from "./subscriptions/routes.ts";
import { createUpload, getVideo, listVideos, missingToken, playMedia, receiveUpload } from "./video/routes.ts";

export { ChatRoom } from "./chat/chat-room.ts";
export { Counter } from "./counter/counter.ts";
export { RateLimiter } from "./rate-limiter/rate-limiter.ts";
export { StreamLog } from "./streams/stream-log.ts";
export { Scheduler } from "./scheduler/scheduler.ts";
export { Subscription } from "./subscriptions/subscription.ts";
export { SubscriptionRegistry } from "./subscriptions/registry.ts";

const ANY_METHOD = { GET: subscriptions.unknownControlRoute, PUT: subscriptions.unknownControlRoute, POST: subscriptions.unknownControlRoute, DELETE: subscriptions.unknownControlRoute };

/** Under the local runner it names the instance, so the runner knows the server is its own. */
const health = ({ env }: RouteContext) =>
  Response.json(isLocalDev(env) && env.LOCAL_INSTANCE ? { ok: true, instance: env.LOCAL_INSTANCE } : { ok: true });

const routes = new Router()
  .on("/api/health", { GET: health })
  .on("/api/counters/:name", { GET: getCounter })
  .on("/api/counters/:name/ws", { GET: connectCounter })
  .on("/api/videos", { GET: listVideos })
  .on("/api/videos/uploads", { POST: createUpload })
  .on("/api/videos/uploads/:ticket", { POST: receiveUpload })
  .on("/api/videos/play/:token/:kind/:file", { GET: playMedia })
  .on("/api/videos/play/*", { GET: missingToken })
  .on("/api/videos/:uid", { GET: getVideo })
  .on("/api/rooms/:room/ws", { GET: connectRoom })
  .on("/api/rooms/:room/messages", { GET: listMessages })
  .on("/api/rooms/:room/messages/:id", { DELETE: deleteMessage })
  .on("/api/rooms/:room/bans", { GET: listBans, POST: addBan, DELETE: liftBan })
  .on("/api/rooms/:room/people", { GET: listPeople })
  .on("/api/schedules", { GET: listSchedules, POST: createSchedule })
  .on("/api/schedules/:id", { GET: getSchedule, DELETE: deleteSchedule })
  .on("/api/schedules/:id/runs", { GET: listRuns })
  .on("/widgets.js", { GET: serveWidgetFile })
  .on("/widgets/*", { GET: serveWidgetFile })
  .on("/chunks/*", { GET: serveWidgetFile })
  .on("/v1/stream/__ds/jwks.json", { GET: subscriptions.jwks })
  .on("/v1/stream/__ds/subscriptions/:id", { PUT: subscriptions.putSubscription, GET: subscriptions.getSubscription, DELETE: subscriptions.deleteSubscription })
  .on("/v1/stream/__ds/subscriptions/:id/streams", { POST: subscriptions.addStreams })
  .on("/v1/stream/__ds/subscriptions/:id/streams/*", { DELETE: subscriptions.removeStream })
  .on("/v1/stream/__ds/subscriptions/:id/callback", { POST: subscriptions.callback })
  .on("/v1/stream/__ds/subscriptions/:id/claim", { POST: subscriptions.claim })
  .on("/v1/stream/__ds/subscriptions/:id/ack", { POST: subscriptions.ack })
  .on("/v1/stream/__ds/subscriptions/:id/release", { POST: subscriptions.release })
  .on("/v1/stream/__ds", ANY_METHOD)
  .on("/v1/stream/__ds/*", ANY_METHOD)
  .on("/v1/stream/*", STREAM_METHODS);

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
    const response = await routes.handle(request, env, ctx);
    if (response) return isWidgetFile(path) ? response : withCors(env, request, response);
    if (isApi(path)) throw notFound(`Nothing at ${path}.`);
    return env.ASSETS.fetch(request);
  } catch (error) {
    return withCors(env, request, errorResponse(error));
  }
}

export default {
  async fetch(request, env, ctx): Promise<Response> {
    const path = new URL(request.url).pathname;
    const response = await respond(request, env, ctx, path);
    return isApi(path) ? makeInert(response) : response;
  },
} satisfies ExportedHandler<Env>;
