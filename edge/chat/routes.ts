import type { Env } from "../env.ts";
import { sameSecret } from "../http/admin.ts";
import { Refusal, badRequest, notFound } from "../http/refusal.ts";
import { parseName, parseWith, readJson } from "../http/validate.ts";
import { limitRate } from "../rate-limiter/rate-limiter.ts";
import type { Handler } from "../router.ts";
import { forwardSocket } from "../socket/upgrade.ts";
import { BanRequest, MessageId, PageQuery } from "./messages.ts";

const room = (env: Env, params: Record<string, string | undefined>) => env.CHAT_ROOMS.getByName(parseName(params.room, "room"));

export const connectRoom: Handler = ({ env, params, request }) => {
  return forwardSocket(env, request, room(env, params));
};

/** `GET /api/rooms/{room}/messages?before=&limit=`: older history, newest last. */
export const listMessages: Handler = async ({ env, params, request, url }) => {
  const stub = room(env, params);
  const query = parseWith(PageQuery, Object.fromEntries(url.searchParams));
  await limitRate(env, request, "chat-read");
  const page = await stub.page(query.before, query.limit);
  return Response.json({ room: parseName(params.room, "room"), ...page });
};

// --- moderation: every call needs `Authorization: Bearer <ADMIN_TOKEN>` ---

/** `DELETE /api/rooms/{room}/messages/{id}`: the message disappears for everyone, live. */
export const deleteMessage: Handler = async ({ env, params, request }) => {
  await requireAdmin(env, request);
  const stub = room(env, params);
  const id = parseWith(MessageId, params.id);
  if (!(await stub.deleteMessage(id))) throw notFound(`No message ${id} in this room.`);
  return Response.json({ deleted: id });
};

/** `POST /api/rooms/{room}/bans` with `{"name"|"ip", "seconds", "reason"?}`. */
export const addBan: Handler = async ({ env, params, request }) => {
  await requireAdmin(env, request);
  const stub = room(env, params);
  const body = await readJson(request, BanRequest, 4096);
  const kind = body.name !== undefined ? "name" : "ip";
  const ban = await stub.ban(kind, (body.name ?? body.ip)!, body.seconds, body.reason ?? "");
  return Response.json({ ban }, { status: 201 });
};

/** `GET /api/rooms/{room}/bans`: the bans in force. */
export const listBans: Handler = async ({ env, params, request }) => {
  await requireAdmin(env, request);
  return Response.json({ bans: await room(env, params).bans() });
};

/** `DELETE /api/rooms/{room}/bans?name=` or `?ip=`: lifts a ban early. */
export const liftBan: Handler = async ({ env, params, request, url }) => {
  await requireAdmin(env, request);
  const stub = room(env, params);
  const name = url.searchParams.get("name");
  const ip = url.searchParams.get("ip");
  if ((name === null) === (ip === null)) throw badRequest("Give exactly one of ?name= or ?ip=.");
  const lifted = await stub.unban(name !== null ? "name" : "ip", (name ?? ip)!);
  if (!lifted) throw notFound("No such ban.");
  return Response.json({ lifted: name !== null ? { name } : { ip } });
};

/** `GET /api/rooms/{room}/people`: who is connected, with IPs, to decide on a ban. */
export const listPeople: Handler = async ({ env, params, request }) => {
  await requireAdmin(env, request);
  return Response.json({ people: await room(env, params).people() });
};

async function requireAdmin(env: Env, request: Request): Promise<void> {
  if (!env.ADMIN_TOKEN) throw new Refusal("admin_disabled", "Admin calls are disabled: ADMIN_TOKEN is not set.");
  const given = request.headers.get("Authorization")?.match(/^Bearer (.+)$/)?.[1] ?? "";
  if (!(await sameSecret(given, env.ADMIN_TOKEN))) {
    throw new Refusal("unauthorized", "This call needs Authorization: Bearer <ADMIN_TOKEN>.", { headers: { "WWW-Authenticate": "Bearer" } });
  }
}
