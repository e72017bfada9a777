import { errors as joseErrors, importJWK, jwtVerify } from "jose";
import { z } from "zod";
import type { Env } from "../env.ts";
import { Refusal, notFound } from "../http/refusal.ts";
import { UNIDENTIFIED, clientIp } from "../http/client-ip.ts";
import { accessAllowed } from "./access-rules.ts";
import { mp4Duration } from "./mp4.ts";
import {
  UID_PATTERN,
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
import { AccessRules, generateSigningJwk, signingKey, type SigningKey } from "./sign-playback-token.ts";
import { playbackToken } from "./token-cache.ts";

/**
 * The local video library: the same contract as Cloudflare Stream, kept in the `VIDEOS` R2
 * bucket. Every key is built from a uid or ticket of 32 hex digits (checked before use, since
 * uids also arrive in URLs and token subjects), so none can reach outside its folder. Layout:
 *   meta/<uid>            the video's record (JSON; the listed fields also as custom metadata)
 *   hls/<uid>/<file>      HLS playlists, fMP4 init and segments, thumbnail.jpg
 *   mp4/<uid>/default.mp4 an uploaded MP4, played progressively
 *   uploads/<ticket>      a one-time upload URL's ticket (custom metadata: expiresAt), until
 *                         its video is stored or an hour after it expired
 *   keys/signing.jwk      the signing key, when STREAM_SIGNING_JWK is not set
 *   library/seeded        written once the sample videos are in
 */

/** Where signed media is served: Stream's `/<token>/...` paths under this prefix. */
export const PLAY_PREFIX = "/api/videos/play";
/**
 * Where the build puts the sample videos (demo/videos) among the static assets. Under `/api/`
 * the Worker runs first and answers 404, so only its ASSETS binding ever reads them.
 */
export const SAMPLES_PATH = "/api/video-samples";
/** Largest upload the local library takes. */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const UPLOAD_SECONDS = 30 * 60;
/** Tickets a new upload URL looks through for expired ones. */
const SWEEP_PAGE = 100;
/**
 * How long after its expiry a ticket is kept: an upload that was let in just before the URL
 * expired may still be arriving (100 MB over a slow line), and needs its ticket and record.
 */
const SWEEP_GRACE_MS = 60 * 60 * 1000;
const FILE_NAME = /^[A-Za-z0-9_-]{1,64}\.(m3u8|mp4|m4s|jpg)$/;

const Uid = z.string().regex(UID_PATTERN);

const Record = z.object({
  uid: Uid,
  name: z.string(),
  duration: z.number(),
  created: z.string(),
  visibility: z.enum(["public", "private"]),
  status: z.enum(["pendingupload", "ready"]),
  /** HLS (the samples) or a progressive MP4 (uploads). */
  kind: z.enum(["hls", "mp4"]),
});
type VideoRecord = z.infer<typeof Record>;

const Ticket = z.object({ uid: Uid, expiresAt: z.string(), maxDurationSeconds: z.number(), used: z.boolean() });

const Sample = z.object({
  uid: Uid,
  name: z.string(),
  duration: z.number(),
  created: z.string(),
  visibility: z.enum(["public", "private"]),
  files: z.array(z.string().regex(FILE_NAME)),
});

const CONTENT_TYPES: { [ext: string]: string } = {
  m3u8: "application/vnd.apple.mpegurl",
  mp4: "video/mp4",
  m4s: "video/iso.segment",
  jpg: "image/jpeg",
};

/** Per isolate: a seeding in progress (so concurrent first requests seed once), and the signing key. */
let seeding: Promise<boolean> | undefined;
let localKey: Promise<SigningKey> | undefined;
const verifyKeys = new Map<string, Promise<CryptoKey | Uint8Array>>();

export class LocalLibrary implements VideoProvider {
  constructor(private readonly env: Env) {}

  async list(query: ListQuery): Promise<VideoPage> {
    let all = await this.records();
    if (all.length === 0 && (await this.seeded())) all = await this.records();
    const search = query.search?.toLowerCase();
    const records = all.filter((record) => playable(record) && (!search || record.name.toLowerCase().includes(search)));
    // Newest first, as Stream lists; the cursor is the position after the last video shown.
    records.sort((a, b) => (order(a) < order(b) ? 1 : -1));
    const after = query.cursor;
    const rest = after ? records.filter((record) => order(record) < after) : records;
    const page = rest.slice(0, query.limit);
    const key = await this.key();
    return {
      videos: await Promise.all(page.map((record) => this.sign(key, record))),
      cursor: rest.length > query.limit ? order(page.at(-1)!) : null,
    };
  }

  async get(uid: string): Promise<Video | undefined> {
    const record = await this.record(uid);
    if (!record || !playable(record)) return undefined;
    return this.sign(await this.key(), record);
  }

  async listAll(cursor: string | undefined, limit: number): Promise<AdminVideoPage> {
    let all = await this.records();
    if (all.length === 0 && (await this.seeded())) all = await this.records();
    all.sort((a, b) => (order(a) < order(b) ? 1 : -1));
    const rest = cursor ? all.filter((record) => order(record) < cursor) : all;
    const page = rest.slice(0, limit);
    return { videos: page.map(adminView), cursor: rest.length > limit ? order(page.at(-1)!) : null };
  }

  async update(uid: string, change: VideoChange): Promise<AdminVideo | undefined> {
    const record = await this.record(uid);
    if (!record) return undefined;
    const changed = { ...record, ...change };
    await this.putRecord(changed);
    return adminView(changed);
  }

  async remove(uid: string): Promise<boolean> {
    const record = await this.record(uid);
    if (!record) return false;
    // The record goes first: a video half deleted is then simply gone, never listed without its media.
    await this.env.VIDEOS.delete(`meta/${uid}`);
    for (const prefix of [`hls/${uid}/`, `mp4/${uid}/`]) {
      let cursor: string | undefined;
      do {
        const listing = await this.env.VIDEOS.list({ prefix, cursor });
        if (listing.objects.length > 0) await this.env.VIDEOS.delete(listing.objects.map((object) => object.key));
        cursor = listing.truncated ? listing.cursor : undefined;
      } while (cursor);
    }
    return true;
  }

  async createUpload(request: UploadRequest, origin: string): Promise<Upload> {
    // An upload into a fresh bucket must not make the library look non-empty before the samples are in.
    await this.seeded();
    const uid = randomHex();
    const ticket = randomHex();
    const expiresAt = new Date(Date.now() + UPLOAD_SECONDS * 1000).toISOString();
    await this.putRecord({ uid, name: request.name, duration: 0, created: new Date().toISOString(), visibility: request.visibility, status: "pendingupload", kind: "mp4" });
    await this.env.VIDEOS.put(`uploads/${ticket}`, JSON.stringify({ uid, expiresAt, maxDurationSeconds: request.maxDurationSeconds, used: false }), {
      customMetadata: { expiresAt },
    });
    await this.sweepTickets().catch((error: unknown) => console.error("sweeping expired upload tickets failed", error));
    return { uid, uploadURL: `${origin}/api/videos/uploads/${ticket}`, expiresAt };
  }

  /**
   * Deletes the expired tickets among the first page of `uploads/`, with the record of each
   * video that never arrived. A new upload URL runs it, so the cost is bounded per request and
   * follows the rate-limited uploads rather than needing a timer. Ticket names are random, so
   * the first page is a sample of all tickets: the expired ones in it go, and the page then
   * takes in others; only while a whole page of live tickets sorts first do expired ones wait.
   */
  private async sweepTickets(): Promise<void> {
    const now = Date.now();
    const listing = await this.env.VIDEOS.list({ prefix: "uploads/", limit: SWEEP_PAGE, include: ["customMetadata"] });
    const expired = listing.objects.filter((object) => ticketExpiry(object) + SWEEP_GRACE_MS < now);
    if (expired.length === 0) return;
    const abandoned = await Promise.all(
      expired.map(async (object) => {
        const stored = await this.env.VIDEOS.get(object.key);
        const ticket = Ticket.safeParse(stored ? await stored.json().catch(() => undefined) : undefined);
        if (!ticket.success) return [];
        const meta = await this.env.VIDEOS.head(`meta/${ticket.data.uid}`);
        // A used ticket whose video is stored lost only its own deletion; the video stays.
        if (!meta || fromMetadata(meta)?.status !== "pendingupload") return [];
        return [`meta/${ticket.data.uid}`, `mp4/${ticket.data.uid}/default.mp4`];
      }),
    );
    await this.env.VIDEOS.delete([...expired.map((object) => object.key), ...abandoned.flat()]);
  }

  /** The one-time upload URL: a multipart/form-data POST with the MP4 in the field `file`, as Stream takes it. */
  async receiveUpload(ticketId: string, request: Request): Promise<{ uid: string; duration: number }> {
    if (!/^[0-9a-f]{32}$/.test(ticketId)) throw notFound("No such upload URL.");
    const stored = await this.env.VIDEOS.get(`uploads/${ticketId}`);
    if (!stored) throw notFound("No such upload URL.");
    const ticket = Ticket.parse(await stored.json());
    if (ticket.used) throw new Refusal("upload_used", "This upload URL has been used already.");
    if (Date.parse(ticket.expiresAt) < Date.now()) throw new Refusal("upload_expired", "This upload URL has expired.");
    if (Number(request.headers.get("content-length") ?? "0") > MAX_UPLOAD_BYTES) {
      throw new Refusal("payload_too_large", `Videos up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB can be uploaded here.`);
    }
    if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data")) {
      throw new Refusal("unsupported_media_type", "Send the video as multipart/form-data with the field `file`.");
    }
    let file: File | string | null;
    try {
      file = (await request.formData()).get("file");
    } catch {
      throw new Refusal("invalid_upload", "The body is not valid multipart/form-data.");
    }
    if (!file || typeof file === "string") throw new Refusal("invalid_upload", "The form has no file in the field `file`.");
    if (file.size > MAX_UPLOAD_BYTES) throw new Refusal("payload_too_large", `Videos up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MB can be uploaded here.`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const duration = mp4Duration(bytes);
    if (duration === undefined) throw new Refusal("invalid_upload", "The file is not an MP4 video.");
    if (duration > ticket.maxDurationSeconds) {
      throw new Refusal("video_too_long", `The video is ${Math.ceil(duration)} s; this upload URL takes up to ${ticket.maxDurationSeconds} s.`);
    }
    // Claim the ticket atomically, so one URL stores one video even when two uploads race.
    const claimed = await this.env.VIDEOS.put(`uploads/${ticketId}`, JSON.stringify({ ...ticket, used: true }), {
      onlyIf: { etagMatches: stored.etag },
      customMetadata: stored.customMetadata,
    });
    if (!claimed) throw new Refusal("upload_used", "This upload URL has been used already.");
    await this.env.VIDEOS.put(`mp4/${ticket.uid}/default.mp4`, bytes, { httpMetadata: { contentType: "video/mp4" } });
    const record = await this.record(ticket.uid);
    if (!record) throw notFound("The video of this upload URL is gone.");
    await this.putRecord({ ...record, duration, status: "ready" });
    // The URL is spent, so its ticket goes: a second POST finds nothing (404). Should this
    // delete fail, the video is stored all the same and a later sweep removes the ticket.
    await this.env.VIDEOS.delete(`uploads/${ticketId}`).catch((error: unknown) => console.error("deleting a used upload ticket failed", error));
    return { uid: ticket.uid, duration };
  }

  /**
   * Signed media, as Stream serves it: `<token>/manifest/video.m3u8`, `<token>/thumbnails/thumbnail.jpg`,
   * `<token>/downloads/default.mp4`, and the segments the manifests point to. 401 for a missing or
   * bad token, 403 for an expired one or one that does not open this video.
   */
  async serve(token: string, kind: string, file: string, request: Request): Promise<Response> {
    const uid = await this.verify(token, request, kind === "downloads");
    if (!FILE_NAME.test(file)) throw notFound("No such file.");
    const record = await this.record(uid);
    if (!record || record.status !== "ready") throw new Refusal("forbidden", "The token does not open a video in this library.");
    const key = storageKey(record, kind, file);
    if (!key) throw notFound("No such file.");
    const ext = file.slice(file.lastIndexOf(".") + 1);
    const headers = new Headers({ "Content-Type": CONTENT_TYPES[ext]!, "Cache-Control": "private, max-age=300", "Accept-Ranges": "bytes" });
    if (ext === "m3u8") {
      const object = await this.env.VIDEOS.get(key);
      if (!object) throw notFound("No such file.");
      return new Response(signManifest(await object.text(), token), { headers });
    }
    let object: R2ObjectBody | null;
    try {
      object = await this.env.VIDEOS.get(key, { range: request.headers });
    } catch {
      throw new Refusal("range_not_satisfiable", "The requested range is not in the file.");
    }
    if (!object) throw notFound("No such file.");
    headers.set("ETag", object.httpEtag);
    const range = object.range as { offset?: number; length?: number } | undefined;
    if (range && request.headers.has("range")) {
      const offset = range.offset ?? 0;
      const length = range.length ?? object.size - offset;
      headers.set("Content-Range", `bytes ${offset}-${offset + length - 1}/${object.size}`);
      headers.set("Content-Length", String(length));
      return new Response(object.body, { status: 206, headers });
    }
    headers.set("Content-Length", String(object.size));
    return new Response(object.body, { headers });
  }

  /** The signing key: STREAM_SIGNING_JWK when set, else one made for this bucket and kept in it. */
  async key(): Promise<SigningKey> {
    if (this.env.STREAM_SIGNING_JWK) return signingKey(this.env.STREAM_SIGNING_JWK);
    localKey ??= this.localKey().catch((error: unknown) => {
      localKey = undefined;
      throw error;
    });
    return localKey;
  }

  private async localKey(): Promise<SigningKey> {
    const stored = await this.env.VIDEOS.get("keys/signing.jwk");
    if (stored) return signingKey(await stored.text());
    const { base64 } = await generateSigningJwk(randomHex());
    await this.env.VIDEOS.put("keys/signing.jwk", base64);
    // Read back what is stored: if two isolates raced, both now sign with the same key.
    return signingKey(await (await this.env.VIDEOS.get("keys/signing.jwk"))!.text());
  }

  private async verify(token: string, request: Request, download: boolean): Promise<string> {
    const key = await this.key();
    let verifyKey = verifyKeys.get(key.kid);
    if (!verifyKey) {
      verifyKey = importJWK(key.publicJwk, "RS256");
      verifyKeys.set(key.kid, verifyKey);
    }
    let payload: { sub?: string; kid?: unknown; downloadable?: unknown; accessRules?: unknown };
    try {
      ({ payload } = await jwtVerify(token, await verifyKey, { algorithms: ["RS256"] }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new Refusal("token_expired", "The playback token has expired.", { status: 403 });
      if (error instanceof joseErrors.JWTClaimValidationFailed) throw new Refusal("token_not_valid", `The playback token is not valid yet (${error.claim}).`);
      throw new Refusal("token_invalid", "The playback token is missing or not valid.");
    }
    if (payload.kid !== key.kid || typeof payload.sub !== "string" || !UID_PATTERN.test(payload.sub)) throw new Refusal("token_invalid", "The playback token is missing or not valid.");
    const rules = AccessRules.safeParse(payload.accessRules ?? []);
    if (!rules.success) throw new Refusal("token_invalid", "The playback token's access rules are not valid.");
    const cf = (request as { cf?: { country?: unknown } }).cf;
    const country = typeof cf?.country === "string" ? cf.country : null;
    const ip = clientIp(this.env, request);
    if (!accessAllowed(rules.data, { ip: ip === UNIDENTIFIED ? null : ip, country })) throw new Refusal("access_denied", "The playback token's access rules refuse this viewer.");
    if (download && payload.downloadable !== true) throw new Refusal("not_downloadable", "The playback token does not allow downloads.");
    return payload.sub;
  }

  private async sign(key: SigningKey, record: VideoRecord): Promise<Video> {
    const { token, exp } = await playbackToken(key, record.uid, { downloadable: record.kind === "mp4" ? true : undefined });
    const base = `${PLAY_PREFIX}/${token}`;
    return {
      uid: record.uid,
      name: record.name,
      duration: record.duration,
      created: record.created,
      thumbnail: record.kind === "hls" ? `${base}/thumbnails/thumbnail.jpg` : null,
      playback: record.kind === "hls" ? { hls: `${base}/manifest/video.m3u8` } : { hls: null, mp4: `${base}/downloads/default.mp4` },
      expiresAt: new Date(exp * 1000).toISOString(),
    };
  }

  /** Every record, from the listing's custom metadata (one R2 call per thousand videos). */
  private async records(): Promise<VideoRecord[]> {
    const records: VideoRecord[] = [];
    let cursor: string | undefined;
    do {
      const listing = await this.env.VIDEOS.list({ prefix: "meta/", include: ["customMetadata"], cursor });
      for (const object of listing.objects) {
        const record = fromMetadata(object);
        if (record) records.push(record);
      }
      cursor = listing.truncated ? listing.cursor : undefined;
    } while (cursor);
    return records;
  }

  private async record(uid: string): Promise<VideoRecord | undefined> {
    if (!UID_PATTERN.test(uid)) return undefined;
    let object = await this.env.VIDEOS.head(`meta/${uid}`);
    if (!object && (await this.seeded())) object = await this.env.VIDEOS.head(`meta/${uid}`);
    return object ? fromMetadata(object) : undefined;
  }

  private async putRecord(record: VideoRecord): Promise<void> {
    await this.env.VIDEOS.put(`meta/${record.uid}`, JSON.stringify(record), {
      httpMetadata: { contentType: "application/json" },
      customMetadata: { ...record, duration: String(record.duration) },
    });
  }

  /**
   * Copies the sample videos from the build's assets into R2, once per bucket. Asked only when
   * the library looks empty or a video is missing, so it costs nothing on the common path.
   * Resolves true when samples were copied just now (worth looking again).
   */
  private seeded(): Promise<boolean> {
    seeding ??= this.seed().finally(() => {
      seeding = undefined;
    });
    return seeding;
  }

  private async seed(): Promise<boolean> {
    if (await this.env.VIDEOS.head("library/seeded")) return false;
    const asset = (path: string) => this.env.ASSETS.fetch(new Request(`https://assets.local${SAMPLES_PATH}/${path}`));
    const index = await asset("library.json");
    if (!index.ok) {
      console.error("no sample videos in the assets; the library starts empty");
      await index.body?.cancel();
      return false;
    }
    const samples = z.array(Sample).parse(await index.json());
    for (const sample of samples) {
      for (const file of sample.files) {
        const response = await asset(`${sample.uid}/${file}`);
        if (!response.ok) throw new Error(`sample file ${sample.uid}/${file} is missing from the assets`);
        await this.env.VIDEOS.put(`hls/${sample.uid}/${file}`, await response.arrayBuffer());
      }
      const { files: _files, ...rest } = sample;
      await this.putRecord({ ...rest, status: "ready", kind: "hls" });
    }
    await this.env.VIDEOS.put("library/seeded", new Date().toISOString());
    return true;
  }
}

/** Where a media path of a video lives in the bucket, if it names something the video has. */
function storageKey(record: VideoRecord, kind: string, file: string): string | undefined {
  switch (kind) {
    case "thumbnails":
      return record.kind === "hls" && file === "thumbnail.jpg" ? `hls/${record.uid}/${file}` : undefined;
    case "manifest":
      return record.kind === "hls" && file.endsWith(".m3u8") ? `hls/${record.uid}/${file}` : undefined;
    case "segments":
      return record.kind === "hls" && !file.endsWith(".m3u8") && file !== "thumbnail.jpg" ? `hls/${record.uid}/${file}` : undefined;
    case "downloads":
      return record.kind === "mp4" && file === "default.mp4" ? `mp4/${record.uid}/default.mp4` : undefined;
  }
  return undefined;
}

/** When a ticket expires; one written before tickets carried it in metadata, half an hour after it was last written. */
function ticketExpiry(object: R2Object): number {
  return Date.parse(object.customMetadata?.expiresAt ?? "") || object.uploaded.getTime() + UPLOAD_SECONDS * 1000;
}

/** A record from an object's custom metadata (R2 keeps only strings there). */
function fromMetadata(object: R2Object): VideoRecord | undefined {
  const meta = object.customMetadata;
  const parsed = Record.safeParse(meta ? { ...meta, duration: Number(meta.duration) } : undefined);
  return parsed.success ? parsed.data : undefined;
}

function playable(record: VideoRecord): boolean {
  // Everything in the local library requires signed URLs, as uploads through Stream do.
  return record.status === "ready" && isPublic(true, record.visibility);
}

/** Sort key and cursor: newest first, the uid breaks ties. */
const order = (record: VideoRecord) => `${record.created}~${record.uid}`;

/**
 * Playlists point at `<token>/manifest/<playlist>` and `<token>/segments/<file>`, so every
 * fetch the player makes carries the token and is checked.
 */
export function signManifest(text: string, token: string): string {
  const base = `${PLAY_PREFIX}/${token}`;
  const target = (uri: string) => {
    const name = uri.trim();
    if (!FILE_NAME.test(name)) return name;
    return name.endsWith(".m3u8") ? `${base}/manifest/${name}` : `${base}/segments/${name}`;
  };
  return text
    .split("\n")
    .map((line) => {
      if (line.startsWith("#")) return line.replace(/URI="([^"]+)"/g, (_, uri: string) => `URI="${target(uri)}"`);
      return line.trim() ? target(line) : line;
    })
    .join("\n");
}

function randomHex(): string {
  return [...crypto.getRandomValues(new Uint8Array(16))].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

const adminView = (record: VideoRecord): AdminVideo => ({
  uid: record.uid,
  name: record.name,
  created: record.created,
  duration: record.duration,
  visibility: record.visibility,
  status: record.status,
});
