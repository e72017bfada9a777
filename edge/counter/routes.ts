import type { Handler, Routes } from "../router.ts";
import { parseName } from "../http/validate.ts";
import { forwardSocket } from "../socket/upgrade.ts";

const getCounter: Handler = async ({ env, params }) => {
  const name = parseName(params.name, "counter");
  const count = await env.COUNTER.getByName(name).getCount();
  return Response.json({ name, count });
};

const connectCounter: Handler = ({ env, params, request }) => {
  const name = parseName(params.name, "counter");
  return forwardSocket(env, request, env.COUNTER.getByName(name));
};

export const routes: Routes = {
  "/api/counters/:name": { GET: getCounter },
  "/api/counters/:name/ws": { GET: connectCounter },
};
