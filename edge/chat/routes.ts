import type { Env } from "../env.ts";
import { admin } from "../http/admin.ts";
import { badRequest, notFound } from "../http/refusal.ts";
import { parseName, parseWith, readJson } from "../http/validate.ts";
import { limitRate } from "../rate-limiter/rate-limiter.ts";
import type { Handler, Routes } from "../router.ts";
import { forwardSocket } from "../socket/upgrade.ts";
import { BlockedWordsBody } from "./blocked-words.ts";
import { ALL_ROOMS } from "./chat-room.ts";
import { BanRequest, MessageId, PageQuery, SlowModeBody } from "./messages.ts";

const room = (env: Env, params: Record<string, string | undefined>) => env.CHAT_ROOMS.getByName(parseName(params.room, "room"));

const connectRoom: Handler = ({ env, params, request }) => {
  return forwardSocket(env, request, room(env, params));
};

/** `GET /api/rooms/{room}/messages?before=&limit=`: older history, newest last. */
const listMessages: Handler = async ({ env, params, request, url }) => {
  const stub = room(env, params);
  const query = parseWith(PageQuery, Object.fromEntries(url.searchParams));
  await limitRate(env, request, "chat-read");
  const page = await stub.page(query.before, query.limit);
  return Response.json({ room: parseName(params.room, "room"), ...page });
};

// --- moderation: the routes below declare the `admin` guard (`Authorization: Bearer <ADMIN_TOKEN>`) ---

/** `DELETE /api/rooms/{room}/messages/{id}`: the message disappears for everyone, live. */
const deleteMessage: Handler = async ({ env, params }) => {
  const stub = room(env, params);
  const id = parseWith(MessageId, params.id);
  if (!(await stub.deleteMessage(id))) throw notFound(`No message ${id} in this room.`);
  return Response.json({ deleted: id });
};

/** `POST /api/rooms/{room}/bans` with `{"name"|"ip", "seconds", "reason"?}`. */
const addBan: Handler = async ({ env, params, request }) => {
  const stub = room(env, params);
  const body = await readJson(request, BanRequest, 4096);
  const kind = body.name !== undefined ? "name" : "ip";
  const ban = await stub.ban(kind, (body.name ?? body.ip)!, body.seconds, body.reason ?? "");
  return Response.json({ ban }, { status: 201 });
};

/** `GET /api/rooms/{room}/bans`: the bans in force. */
const listBans: Handler = async ({ env, params }) => Response.json({ bans: await room(env, params).bans() });

/** `DELETE /api/rooms/{room}/bans?name=` or `?ip=`: lifts a ban early. */
const liftBan: Handler = async ({ env, params, request, url }) => {
  const stub = room(env, params);
  const name = url.searchParams.get("name");
  const ip = url.searchParams.get("ip");
  if ((name === null) === (ip === null)) throw badRequest("Give exactly one of ?name= or ?ip=.");
  const lifted = await stub.unban(name !== null ? "name" : "ip", (name ?? ip)!);
  if (!lifted) throw notFound("No such ban.");
  return Response.json({ lifted: name !== null ? { name } : { ip } });
};

/** `GET /api/rooms/{room}/people`: who is connected, with IPs, to decide on a ban. */
const listPeople: Handler = async ({ env, params }) => Response.json({ people: await room(env, params).people() });

/** A list of 1,000 entries of 64 characters, as JSON, with room to spare; larger is refused unread. */
const BLOCKED_WORDS_BYTES = 128 * 1024;

/** `GET`/`PUT /api/rooms/{room}/blocked-words` with `{"words":[...]}`: this room's list. */
const roomWords: Handler = async ({ env, params }) => Response.json({ words: await room(env, params).blockedWords() });
const setRoomWords: Handler = async ({ env, params, request }) => {
  const stub = room(env, params);
  const { words } = await readJson(request, BlockedWordsBody, BLOCKED_WORDS_BYTES);
  return Response.json({ words: await stub.setBlockedWords(words) });
};

/** `GET`/`PUT /api/chat/blocked-words`: the list every room refuses, on top of its own. */
const allRoomsWords: Handler = async ({ env }) => Response.json({ words: await env.CHAT_ROOMS.getByName(ALL_ROOMS).blockedWords() });
const setAllRoomsWords: Handler = async ({ env, request }) => {
  const { words } = await readJson(request, BlockedWordsBody, BLOCKED_WORDS_BYTES);
  return Response.json({ words: await env.CHAT_ROOMS.getByName(ALL_ROOMS).setBlockedWords(words) });
};

/** `GET`/`PUT /api/rooms/{room}/slow-mode` with `{"seconds":n}`, 0 for off. */
const slowMode: Handler = async ({ env, params }) => Response.json({ seconds: await room(env, params).slowMode() });
const setSlowMode: Handler = async ({ env, params, request }) => {
  const stub = room(env, params);
  const { seconds } = await readJson(request, SlowModeBody, 1024);
  return Response.json({ seconds: await stub.setSlowMode(seconds) });
};

export const routes: Routes = {
  "/api/rooms/:room/ws": { GET: connectRoom },
  "/api/rooms/:room/messages": { GET: listMessages },
  "/api/rooms/:room/messages/:id": { DELETE: admin(deleteMessage) },
  "/api/rooms/:room/bans": { GET: admin(listBans), POST: admin(addBan), DELETE: admin(liftBan) },
  "/api/rooms/:room/people": { GET: admin(listPeople) },
  "/api/rooms/:room/blocked-words": { GET: admin(roomWords), PUT: admin(setRoomWords) },
  "/api/rooms/:room/slow-mode": { GET: admin(slowMode), PUT: admin(setSlowMode) },
  "/api/chat/blocked-words": { GET: admin(allRoomsWords), PUT: admin(setAllRoomsWords) },
};
