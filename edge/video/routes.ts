import { z } from "zod";
import type { Env } from "../env.ts";
import { admin } from "../http/admin.ts";
import { Refusal, badRequest, notFound } from "../http/refusal.ts";
import { LINE_CONTROL, wellFormed } from "../http/text.ts";
import { parseWith, readJson } from "../http/validate.ts";
import { limitRate } from "../rate-limiter/rate-limiter.ts";
import type { Handler, Routes } from "../router.ts";
import { LocalLibrary } from "./local-library.ts";
import { UID_PATTERN, usesStream, type VideoProvider } from "./provider.ts";
import { StreamProvider } from "./stream-provider.ts";
import { uploader } from "./upload-auth.ts";

const STREAM_API_BASE = "https://api.cloudflare.com/client/v4";

/** Cloudflare Stream when its four settings are present, else the local library in R2. */
export function videoProvider(env: Env): VideoProvider {
  if (!usesStream(env)) return new LocalLibrary(env);
  return new StreamProvider({
    accountId: env.CLOUDFLARE_ACCOUNT_ID!,
    apiToken: env.STREAM_API_TOKEN!,
    signingJwk: env.STREAM_SIGNING_JWK!,
    customerCode: env.STREAM_CUSTOMER_CODE!,
    apiBase: env.STREAM_API_BASE || STREAM_API_BASE,
    api: env.STREAM_API ?? { fetch: (input, init) => fetch(input, init) },
  });
}

const ListQuery = z.object({
  search: z.string().trim().max(100, "search is at most 100 characters").optional(),
  cursor: z.string().max(200, "cursor is not one we handed out").optional(),
  limit: z.coerce.number().int().min(1).max(50).default(12),
});

/** `GET /api/videos?search=&cursor=&limit=`: public, ready videos, newest first, with signed URLs. */
const listVideos: Handler = async ({ env, request, url }) => {
  const query = parseWith(ListQuery, Object.fromEntries(url.searchParams));
  await limitRate(env, request, "video-list", "video listings");
  const page = await videoProvider(env).list({ ...query, search: query.search || undefined, cursor: query.cursor || undefined });
  return Response.json(page, { headers: { "Cache-Control": "private, no-store" } });
};

/** `GET /api/videos/{uid}`: fresh signed URLs for one public video; unknown and private look alike. */
const getVideo: Handler = async ({ env, request, params }) => {
  await limitRate(env, request, "video-get", "video lookups");
  const uid = params.uid ?? "";
  const video = UID_PATTERN.test(uid) ? await videoProvider(env).get(uid) : undefined;
  if (!video) throw notFound("No such video.");
  return Response.json(video, { headers: { "Cache-Control": "private, no-store" } });
};

const VideoName = z
  .string()
  .trim()
  .min(1, "name is required")
  .max(100, "name is at most 100 characters")
  .refine(wellFormed, "name must be valid UTF-8 text")
  .refine((name) => !LINE_CONTROL.test(name), "name may not hold control characters");

const Visibility = z.enum(["public", "private"]);

const UploadBody = z.object({
  name: VideoName,
  visibility: Visibility.default("public"),
  maxDurationSeconds: z.number().int().min(1).max(6 * 60 * 60).default(600),
});

/** `POST /api/videos/uploads`: a one-time upload URL, for the admin or a holder of an upload token (the `uploader` guard). */
const createUpload: Handler = async ({ env, request, url }) => {
  const body = await readJson(request, UploadBody, 4096);
  await limitRate(env, request, "video-upload", "upload URLs requested");
  const upload = await videoProvider(env).createUpload(body, url.origin);
  return Response.json(upload, { status: 201 });
};

/** `POST /api/videos/uploads/{ticket}`: the local library's one-time upload URL. */
const receiveUpload: Handler = async ({ env, request, params }) => {
  if (usesStream(env)) throw notFound("Uploads go to Cloudflare Stream.");
  const stored = await new LocalLibrary(env).receiveUpload(params.ticket ?? "", request);
  return Response.json(stored, { status: 201 });
};

/** `GET /api/videos/play/{token}/{kind}/{file}`: the local library's signed media. */
const playMedia: Handler = async ({ env, request, params }) => {
  if (usesStream(env)) throw notFound("Media is served by Cloudflare Stream.");
  const { token = "", kind = "", file = "" } = params;
  if (!["manifest", "segments", "thumbnails", "downloads"].includes(kind)) throw notFound("No such media.");
  return new LocalLibrary(env).serve(token, kind, file, request);
};

/** A media path without a token (or with too few parts) is unauthorized, as on Stream. */
const missingToken: Handler = ({ env }) => {
  if (usesStream(env)) throw notFound("Media is served by Cloudflare Stream.");
  throw new Refusal("token_invalid", "The playback token is missing or not valid.");
};

// --- the owner's operations (the console's Videos page) ---

const AdminListQuery = z.object({
  cursor: z.string().max(200, "cursor is not one we handed out").optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** `GET /api/admin/videos?cursor=&limit=`: every video, private and unfinished ones too, newest first. */
const listAllVideos: Handler = async ({ env, url }) => {
  const query = parseWith(AdminListQuery, Object.fromEntries(url.searchParams));
  return Response.json(await videoProvider(env).listAll(query.cursor || undefined, query.limit), { headers: { "Cache-Control": "private, no-store" } });
};

const VideoChange = z.strictObject({ name: VideoName.optional(), visibility: Visibility.optional() });

const parseUid = (uid: string | undefined) => {
  if (!UID_PATTERN.test(uid ?? "")) throw notFound("No such video.");
  return uid!;
};

/** `PATCH /api/videos/{uid}` with `{"name"}` and/or `{"visibility"}`. */
const updateVideo: Handler = async ({ env, request, params }) => {
  const uid = parseUid(params.uid);
  const change = await readJson(request, VideoChange, 4096);
  if (change.name === undefined && change.visibility === undefined) throw badRequest('Send "name", "visibility" or both.');
  const video = await videoProvider(env).update(uid, change);
  if (!video) throw notFound("No such video.");
  return Response.json(video);
};

/** `DELETE /api/videos/{uid}`: the video and its media are gone. */
const deleteVideo: Handler = async ({ env, params }) => {
  const uid = parseUid(params.uid);
  if (!(await videoProvider(env).remove(uid))) throw notFound("No such video.");
  return Response.json({ deleted: uid });
};

export const routes: Routes = {
  "/api/admin/videos": { GET: admin(listAllVideos) },
  "/api/videos": { GET: listVideos },
  "/api/videos/uploads": { POST: uploader(createUpload) },
  "/api/videos/uploads/:ticket": { POST: receiveUpload },
  "/api/videos/play/:token/:kind/:file": { GET: playMedia },
  "/api/videos/play/*": { GET: missingToken },
  "/api/videos/:uid": { GET: getVideo, PATCH: admin(updateVideo), DELETE: admin(deleteVideo) },
};
