import { z } from "zod";
import { Refusal } from "../http/refusal.ts";
import {
  isPublic,
  type AdminVideo,
  type AdminVideoPage,
  type ListQuery,
  type Upload,
  type UploadRequest,
  type Video,
  type VideoChange,
  type VideoPage,
  type VideoProvider,
} from "./provider.ts";
import { signingKey, type SigningKey } from "./sign-playback-token.ts";
import { playbackToken } from "./token-cache.ts";

export interface StreamConfig {
  accountId: string;
  apiToken: string;
  signingJwk: string;
  customerCode: string;
  /** `https://api.cloudflare.com/client/v4` unless pointed elsewhere. */
  apiBase: string;
  /** How requests reach the API: the global fetch, or a service binding. */
  api: { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/** The fields of a Stream video that the gallery reads. */
const StreamVideo = z.looseObject({
  uid: z.string(),
  created: z.string(),
  duration: z.number().nullish(),
  readyToStream: z.boolean().nullish(),
  requireSignedURLs: z.boolean().nullish(),
  status: z.looseObject({ state: z.string().nullish() }).nullish(),
  meta: z.record(z.string(), z.unknown()).nullish(),
  thumbnail: z.string().nullish(),
  playback: z.looseObject({ hls: z.string().nullish() }).nullish(),
});
type StreamVideo = z.infer<typeof StreamVideo>;

const Envelope = z.looseObject({
  success: z.boolean(),
  errors: z.array(z.looseObject({ code: z.number().optional(), message: z.string() })).default([]),
  result: z.unknown(),
});

const DirectUpload = z.looseObject({ uid: z.string(), uploadURL: z.string() });

/**
 * GET answers of the Stream API are reused for a few seconds per isolate: a busy gallery would
 * otherwise spend the account's API quota (1200 calls per 5 minutes) on identical listings.
 * Tokens are still signed fresh for every response.
 */
const MEMO_MS = 15_000;
const MEMO_ENTRIES = 200;
const memo = new Map<string, { at: number; result: unknown }>();

/** Stream answers at most 1000 videos per list call. */
const MAX_BATCH = 1000;
/** Upload URLs of direct creator uploads work for this long. */
const UPLOAD_SECONDS = 30 * 60;

/**
 * Cloudflare Stream as the library: lists through the Stream API, keeps the videos that are
 * public for the gallery and ready, and rewrites their media URLs to signed
 * `customer-<code>.cloudflarestream.com/<token>/...` forms.
 */
export class StreamProvider implements VideoProvider {
  constructor(private readonly config: StreamConfig) {}

  async list(query: ListQuery): Promise<VideoPage> {
    const kept: StreamVideo[] = [];
    let before = query.cursor;
    // Private videos are filtered out here, so keep asking until the page is full or the account has no more.
    for (;;) {
      const batch = Math.min(MAX_BATCH, Math.max(query.limit + 1, 2 * (query.limit + 1 - kept.length)));
      const params = new URLSearchParams({ status: "ready", limit: String(batch) });
      if (query.search) params.set("search", query.search);
      if (before) params.set("before", before);
      const videos = z.array(StreamVideo).parse(await this.call("GET", `/stream?${params}`));
      kept.push(...videos.filter(playable));
      if (kept.length > query.limit || videos.length < batch) break;
      before = videos.at(-1)!.created;
    }
    const page = kept.slice(0, query.limit);
    const key = await signingKey(this.config.signingJwk);
    return {
      videos: await Promise.all(page.map((video) => this.sign(key, video))),
      cursor: kept.length > query.limit ? page.at(-1)!.created : null,
    };
  }

  async get(uid: string): Promise<Video | undefined> {
    let result: unknown;
    try {
      result = await this.call("GET", `/stream/${uid}`);
    } catch (error) {
      if (error instanceof Refusal && error.code === "not_found") return undefined;
      throw error;
    }
    const video = StreamVideo.parse(result);
    if (!playable(video)) return undefined;
    return this.sign(await signingKey(this.config.signingJwk), video);
  }

  async createUpload(request: UploadRequest): Promise<Upload> {
    const expiresAt = new Date(Date.now() + UPLOAD_SECONDS * 1000).toISOString();
    const result = DirectUpload.parse(
      await this.call("POST", "/stream/direct_upload", {
        maxDurationSeconds: request.maxDurationSeconds,
        expiry: expiresAt,
        requireSignedURLs: true,
        meta: { name: request.name, visibility: request.visibility },
      }),
    );
    return { uid: result.uid, uploadURL: result.uploadURL, expiresAt };
  }

  async listAll(cursor: string | undefined, limit: number): Promise<AdminVideoPage> {
    const params = new URLSearchParams({ limit: String(limit + 1) });
    if (cursor) params.set("before", cursor);
    const videos = z.array(StreamVideo).parse(await this.call("GET", `/stream?${params}`, undefined, false));
    const page = videos.slice(0, limit);
    return { videos: page.map(adminView), cursor: videos.length > limit ? page.at(-1)!.created : null };
  }

  async update(uid: string, change: VideoChange): Promise<AdminVideo | undefined> {
    const video = await this.find(uid);
    if (!video) return undefined;
    // Stream edits replace `meta` whole, so the other fields are sent back as they were.
    const meta = { ...video.meta, ...change };
    // A private video must need signed URLs at Stream too, or anyone with its uid could play it.
    const requireSignedURLs = meta.visibility === "private" ? true : (video.requireSignedURLs ?? false);
    return adminView(StreamVideo.parse(await this.call("POST", `/stream/${uid}`, { meta, requireSignedURLs })));
  }

  async remove(uid: string): Promise<boolean> {
    if (!(await this.find(uid))) return false;
    await this.call("DELETE", `/stream/${uid}`);
    return true;
  }

  private async find(uid: string): Promise<StreamVideo | undefined> {
    try {
      return StreamVideo.parse(await this.call("GET", `/stream/${uid}`, undefined, false));
    } catch (error) {
      if (error instanceof Refusal && error.code === "not_found") return undefined;
      throw error;
    }
  }

  private async sign(key: SigningKey, video: StreamVideo): Promise<Video> {
    const { token, exp } = await playbackToken(key, video.uid);
    const base = `https://customer-${this.config.customerCode}.cloudflarestream.com`;
    return {
      uid: video.uid,
      name: typeof video.meta?.name === "string" ? video.meta.name : video.uid,
      duration: video.duration ?? 0,
      created: video.created,
      thumbnail: rewrite(video.thumbnail, base, video.uid, token, `/${token}/thumbnails/thumbnail.jpg`),
      playback: { hls: rewrite(video.playback?.hls, base, video.uid, token, `/${token}/manifest/video.m3u8`) },
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** One Stream API call; failures become errors the owner can read, never a leak of the token. */
  private async call(method: "GET" | "POST" | "DELETE", path: string, body?: unknown, remember = true): Promise<unknown> {
    const url = `${this.config.apiBase.replace(/\/+$/, "")}/accounts/${this.config.accountId}${path}`;
    const memoKey = `${this.config.apiToken}\n${url}`;
    // A change makes every remembered answer of this isolate stale.
    if (method !== "GET") memo.clear();
    const remembered = method === "GET" && remember ? memo.get(memoKey) : undefined;
    if (remembered && Date.now() - remembered.at < MEMO_MS) return remembered.result;
    let response: Response;
    try {
      response = await this.config.api.fetch(url, {
        method,
        headers: { Authorization: `Bearer ${this.config.apiToken}`, ...(body ? { "Content-Type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    } catch (error) {
      console.error("Stream API unreachable", error);
      throw new Refusal("stream_unavailable", "Cloudflare Stream could not be reached.");
    }
    const envelope = Envelope.safeParse(await response.json().catch(() => undefined));
    if (response.status === 404) throw new Refusal("not_found", "No such video.");
    // Stream answers a delete with an empty body.
    if (method === "DELETE" && response.ok) return null;
    if (!response.ok || !envelope.success || !envelope.data.success) {
      const detail = envelope.success ? envelope.data.errors.map((e) => e.message).join("; ") : `HTTP ${response.status}`;
      console.error("Stream API refused", method, path, response.status, detail);
      throw new Refusal("stream_error", `Cloudflare Stream refused the request (${response.status}).`);
    }
    if (method === "GET") {
      if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
      memo.set(memoKey, { at: Date.now(), result: envelope.data.result });
    }
    return envelope.data.result;
  }
}

function adminView(video: StreamVideo): AdminVideo {
  return {
    uid: video.uid,
    name: typeof video.meta?.name === "string" ? video.meta.name : video.uid,
    created: video.created,
    duration: Math.max(0, video.duration ?? 0),
    visibility: isPublic(video.requireSignedURLs ?? false, video.meta?.visibility) ? "public" : "private",
    status: video.status?.state ?? (video.readyToStream ? "ready" : "unknown"),
  };
}

function playable(video: StreamVideo): boolean {
  return video.readyToStream === true && video.status?.state === "ready" && isPublic(video.requireSignedURLs ?? false, video.meta?.visibility);
}

/**
 * `https://customer-x.cloudflarestream.com/<uid>/manifest/video.m3u8?...` becomes the same
 * path on the configured customer host with the token in place of the uid (query kept).
 */
function rewrite(original: string | null | undefined, base: string, uid: string, token: string, fallback: string): string {
  if (!original) return base + fallback;
  let url: URL;
  try {
    url = new URL(original);
  } catch {
    return base + fallback;
  }
  const segments = url.pathname.split("/");
  const at = segments.indexOf(uid);
  if (at < 0) return base + fallback;
  segments[at] = token;
  return `${base}${segments.join("/")}${url.search}`;
}
