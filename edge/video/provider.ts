import type { Env } from "../env.ts";
import type { AdminVideo } from "../../contract/admin.ts";
import type { Video, VideoPage } from "../../contract/video.ts";

export type { AdminVideo, Video, VideoPage };

export interface ListQuery {
  search?: string;
  cursor?: string;
  limit: number;
}

export interface UploadRequest {
  name: string;
  visibility: "public" | "private";
  /** Longest video accepted, in seconds. */
  maxDurationSeconds: number;
}

export interface Upload {
  uid: string;
  /** POST the file there as multipart/form-data, field `file`; it works once. */
  uploadURL: string;
  /** When the upload URL stops working (ISO 8601). */
  expiresAt: string;
}


export interface AdminVideoPage {
  videos: AdminVideo[];
  cursor: string | null;
}

/** What the owner may change about a video. */
export interface VideoChange {
  name?: string;
  visibility?: "public" | "private";
}

/**
 * Where videos come from: Cloudflare Stream when it is configured, otherwise the local library
 * in R2. Both list only videos that are public for the gallery and ready, and both hand out
 * media URLs shaped like Stream's (`.../<token>/manifest/video.m3u8`), so the widget cannot tell.
 */
export interface VideoProvider {
  list(query: ListQuery): Promise<VideoPage>;
  /** One public, ready video with fresh signed URLs, or undefined (unknown and private alike). */
  get(uid: string): Promise<Video | undefined>;
  createUpload(request: UploadRequest, origin: string): Promise<Upload>;
  /** Every video, newest first, in pages (the console). */
  listAll(cursor: string | undefined, limit: number): Promise<AdminVideoPage>;
  /** Renames a video or changes who may see it; undefined when there is no such video. */
  update(uid: string, change: VideoChange): Promise<AdminVideo | undefined>;
  /** Deletes a video and its media; false when there is no such video. */
  remove(uid: string): Promise<boolean>;
}

/**
 * Who may see a video in the gallery, for both providers. Stream videos with
 * `requireSignedURLs` are private by default and join the gallery only when their `meta`
 * says `visibility: "public"`; videos anyone can already play join unless `meta` says
 * `visibility: "private"`. Either way the gallery signs every URL it hands out.
 */
export function isPublic(requireSignedURLs: boolean, visibility: unknown): boolean {
  if (visibility === "public") return true;
  if (visibility === "private") return false;
  return !requireSignedURLs;
}

/** Stream is used when all four of its settings are present. */
export function usesStream(env: Env): boolean {
  return Boolean(env.CLOUDFLARE_ACCOUNT_ID && env.STREAM_API_TOKEN && env.STREAM_SIGNING_JWK && env.STREAM_CUSTOMER_CODE);
}

/** Video uids are Stream's: 32 hex digits. */
export const UID_PATTERN = /^[0-9a-f]{32}$/;
