import type { Handler, Routes } from "../router.ts";
import { admin } from "../http/admin.ts";
import { parseName } from "../http/validate.ts";
import { forwardSocket } from "../socket/upgrade.ts";
import { attachViewer } from "./placement.ts";

const getCounter: Handler = async ({ env, params }) => {
  const name = parseName(params.name, "counter");
  const count = await env.COUNTER.getByName(name).getCount(name);
  return Response.json({ name, count });
};

/** For the owner: the count and how its viewers are spread over objects. */
const counterStats: Handler = async ({ env, params }) => {
  const name = parseName(params.name, "counter");
  return Response.json({ name, ...(await env.COUNTER.getByName(name).stats(name)) });
};

const connectCounter: Handler = ({ env, params, request }) => {
  const name = parseName(params.name, "counter");
  return forwardSocket(env, request, { fetch: (forwarded) => attachViewer(env, name, forwarded) });
};

export const routes: Routes = {
  "/api/counters/:name": { GET: getCounter },
  "/api/counters/:name/stats": { GET: admin(counterStats) },
  "/api/counters/:name/ws": { GET: connectCounter },
};
