import type { Handler } from "../router.ts";
import { parseName } from "../http/validate.ts";
import { forwardSocket } from "../socket/upgrade.ts";

export const getCounter: Handler = async ({ env, params }) => {
  const name = parseName(params.name, "counter");
  const count = await env.COUNTER.getByName(name).getCount();
  return Response.json({ name, count });
};

export const connectCounter: Handler = ({ env, params, request }) => {
  const name = parseName(params.name, "counter");
  return forwardSocket(env, request, env.COUNTER.getByName(name));
};
