import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../rate-limiter/policies.ts";
import { tinyMp4 } from "../../test/edge/tiny-mp4.ts";
import { BASE, fetchWithVars, freshIp } from "../../test/edge/support.ts";

const ADMIN = "test-admin-token";
const SECRET = new TextEncoder().encode("test-video-upload-secret");

/** An upload token as the host site mints it (README); `aud: null` leaves the audience out. */
async function uploadToken(claims: { scope?: string; expiresIn?: string | number; iat?: number; aud?: string | null } = {}) {
  const aud = claims.aud === undefined ? "edge-widgets:video-upload" : claims.aud;
  const jwt = new SignJWT({ scope: claims.scope ?? "video:upload", ...(aud !== null && { aud }) }).setProtectedHeader({ alg: "HS256" }).setSubject("member-7");
  if (claims.iat !== undefined) jwt.setIssuedAt(claims.iat);
  else jwt.setIssuedAt();
  return jwt.setExpirationTime(claims.expiresIn ?? "10m").sign(SECRET);
}

function askForUpload(bearer: string | undefined, body: unknown = { name: "Holiday" }) {
  return exports.default.fetch(`${BASE}/api/videos/uploads`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}) },
    body: JSON.stringify(body),
  });
}

function send(uploadURL: string, bytes: Uint8Array | string, field = "file") {
  const form = new FormData();
  form.set(field, new File([bytes], "clip.mp4", { type: "video/mp4" }));
  return exports.default.fetch(uploadURL, { method: "POST", body: form });
}

interface Upload {
  uid: string;
  uploadURL: string;
}

const ticketKey = (uploadURL: string) => `uploads/${uploadURL.split("/").pop()}`;

async function newUpload(name = "Holiday"): Promise<Upload> {
  const response = await askForUpload(ADMIN, { name });
  expect(response.status).toBe(201);
  return response.json();
}

/** As if the upload URL had been handed out long ago: its expiry moved `agoMs` into the past. */
async function expire(upload: Upload, agoMs: number): Promise<void> {
  const key = ticketKey(upload.uploadURL);
  const stored = (await env.VIDEOS.get(key))!;
  const expiresAt = new Date(Date.now() - agoMs).toISOString();
  const ticket = { ...(await stored.json<Record<string, unknown>>()), expiresAt };
  await env.VIDEOS.put(key, JSON.stringify(ticket), { customMetadata: { ...stored.customMetadata, expiresAt } });
}

describe("POST /api/videos/uploads", { timeout: 30_000 }, () => {
  it("refuses anonymous visitors, a wrong admin token and a forged upload token", async () => {
    const forged = await new SignJWT({ scope: "video:upload" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("5m").sign(new TextEncoder().encode("not the secret"));
    for (const bearer of [undefined, "wrong-admin-token", forged]) {
      const response = await askForUpload(bearer);
      expect(response.status).toBe(401);
      expect(response.headers.get("WWW-Authenticate")).toBe("Bearer");
    }
  });

  it("charges a token that is no upload token as a guess at the admin token, refused before it is compared once the address is out of guesses", async () => {
    const ip = freshIp();
    const ask = (bearer: string) =>
      exports.default.fetch(`${BASE}/api/videos/uploads`, { method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}`, "CF-Connecting-IP": ip }, body: '{"name":"Guess"}' });
    for (let i = 0; i < 10; i += 1) expect((await ask(`guess-${i}`)).status).toBe(401);
    expect((await ask(ADMIN)).status).toBe(429);
    // An upload token from that address is not held back.
    expect((await ask(await uploadToken())).status).toBe(201);
  });

  it("refuses upload tokens that are expired, long-lived or for another scope", async () => {
    const now = Math.floor(Date.now() / 1000);
    const expired = await uploadToken({ iat: now - 1200, expiresIn: now - 600 });
    const longLived = await uploadToken({ expiresIn: "2h" });
    const otherScope = await uploadToken({ scope: "chat:moderate" });
    for (const bearer of [expired, longLived, otherScope]) expect((await askForUpload(bearer)).status).toBe(401);
  });

  it("refuses upload tokens without an audience, or minted for another use with the same secret", async () => {
    const noAudience = await uploadToken({ aud: null });
    const streamToken = await uploadToken({ aud: "edge-widgets:stream" });
    for (const bearer of [noAudience, streamToken]) {
      const response = await askForUpload(bearer);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized", message: expect.stringContaining("edge-widgets:video-upload") } });
    }
  });

  it("refuses an upload token that never expires", async () => {
    const forever = await new SignJWT({ scope: "video:upload", aud: "edge-widgets:video-upload" }).setProtectedHeader({ alg: "HS256" }).setIssuedAt().sign(SECRET);
    expect((await askForUpload(forever)).status).toBe(401);
  });

  it("gives the admin a one-time upload URL", async () => {
    const response = await askForUpload(ADMIN);
    expect(response.status).toBe(201);
    const upload = (await response.json()) as { uid: string; uploadURL: string; expiresAt: string };
    expect(upload.uid).toMatch(/^[0-9a-f]{32}$/);
    expect(upload.uploadURL).toMatch(new RegExp(`^${BASE}/api/videos/uploads/[0-9a-f]{32}$`));
    expect(Date.parse(upload.expiresAt)).toBeGreaterThan(Date.now());
  });

  it("validates the request body", async () => {
    const response = await askForUpload(ADMIN, { name: "" });
    expect(response.status).toBe(400);
  });

  it("stores an MP4 sent with a site's upload token, which then lists and plays as MP4 with Range", async () => {
    const name = `Upload ${crypto.randomUUID().slice(0, 6)}`;
    const upload = (await (await askForUpload(await uploadToken(), { name })).json()) as { uid: string; uploadURL: string };
    const pending = await exports.default.fetch(`${BASE}/api/videos/${upload.uid}`);
    expect(pending.status).toBe(404);

    const stored = await send(upload.uploadURL, tinyMp4(2500));
    expect(stored.status).toBe(201);
    expect(await stored.json()).toEqual({ uid: upload.uid, duration: 2.5 });

    const listing = (await (await exports.default.fetch(`${BASE}/api/videos?search=${encodeURIComponent(name)}`)).json()) as {
      videos: { uid: string; duration: number; thumbnail: string | null; playback: { hls: string | null; mp4?: string } }[];
    };
    expect(listing.videos).toHaveLength(1);
    const video = listing.videos[0]!;
    expect(video).toMatchObject({ uid: upload.uid, duration: 2.5, thumbnail: null, playback: { hls: null } });
    expect(video.playback.mp4).toMatch(/\/downloads\/default\.mp4$/);

    const whole = await exports.default.fetch(`${BASE}${video.playback.mp4}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("Content-Type")).toBe("video/mp4");
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(tinyMp4(2500));
    const part = await exports.default.fetch(`${BASE}${video.playback.mp4}`, { headers: { Range: "bytes=4-7" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("Content-Range")).toBe(`bytes 4-7/${tinyMp4(2500).length}`);
    expect(new TextDecoder().decode(await part.arrayBuffer())).toBe("ftyp");
  });

  it("takes one video per upload URL, and then deletes its ticket", async () => {
    const { uploadURL } = (await (await askForUpload(ADMIN)).json()) as { uploadURL: string };
    expect(await env.VIDEOS.head(ticketKey(uploadURL))).not.toBeNull();
    expect((await send(uploadURL, tinyMp4(1000))).status).toBe(201);
    expect(await env.VIDEOS.head(ticketKey(uploadURL))).toBeNull();
    const again = await send(uploadURL, tinyMp4(1000));
    expect(again.status).toBe(404);
  });

  it("refuses a file that is not an MP4, or is longer than allowed, and keeps the URL usable", async () => {
    const { uploadURL } = (await (await askForUpload(ADMIN, { name: "Short", maxDurationSeconds: 5 })).json()) as { uploadURL: string };
    const text = await send(uploadURL, "just some text");
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe("invalid_upload");
    const long = await send(uploadURL, tinyMp4(6000));
    expect(((await long.json()) as { error: { code: string } }).error.code).toBe("video_too_long");
    expect((await send(uploadURL, tinyMp4(4000))).status).toBe(201);
  });

  it("answers 404 for an upload URL it never handed out", async () => {
    expect((await send(`${BASE}/api/videos/uploads/${"ab".repeat(16)}`, tinyMp4(1000))).status).toBe(404);
  });
});

describe("rate limit of upload URLs", { timeout: 30_000 }, () => {
  const tickets = async () => (await env.VIDEOS.list({ prefix: "uploads/" })).objects.length;

  it("refuses an address past the strict default burst with a 429, before writing anything", async () => {
    const ip = freshIp();
    const ask = () =>
      fetchWithVars({ RATE_LIMITS: undefined }, "/api/videos/uploads", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${ADMIN}`, "CF-Connecting-IP": ip },
        body: JSON.stringify({ name: "Burst" }),
      });
    const { burst } = DEFAULT_LIMITS["video-upload"];
    expect(burst).toBeLessThanOrEqual(10);
    for (let i = 0; i < burst; i++) expect((await ask()).status).toBe(201);
    const before = await tickets();
    const refused = await ask();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThanOrEqual(30);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    expect(await tickets()).toBe(before);
  });
});

describe("expired upload tickets", { timeout: 30_000 }, () => {
  const hour = 3_600_000;

  it("are deleted, with the record of the video that never came, when a new upload URL is made", async () => {
    const abandoned = await newUpload("Never sent");
    const lately = await newUpload("Expired lately");
    const live = await newUpload("Still open");
    await expire(abandoned, 2 * hour);
    await expire(lately, 10 * 60_000);
    expect((await send(abandoned.uploadURL, tinyMp4(1000))).status).toBe(410);
    expect(await env.VIDEOS.head(`meta/${abandoned.uid}`)).not.toBeNull();

    await newUpload("The next one");
    expect(await env.VIDEOS.head(ticketKey(abandoned.uploadURL))).toBeNull();
    expect(await env.VIDEOS.head(`meta/${abandoned.uid}`)).toBeNull();
    expect((await send(abandoned.uploadURL, tinyMp4(1000))).status).toBe(404);
    // An upload let in just before its URL expired may still be arriving: kept for an hour.
    expect(await env.VIDEOS.head(ticketKey(lately.uploadURL))).not.toBeNull();
    expect(((await (await send(lately.uploadURL, tinyMp4(1000))).json()) as { error: { code: string } }).error.code).toBe("upload_expired");
    expect((await send(live.uploadURL, tinyMp4(1000))).status).toBe(201);
  });

  it("never take a stored video with them", async () => {
    const upload = await newUpload("Kept");
    const key = ticketKey(upload.uploadURL);
    const ticket = (await env.VIDEOS.get(key))!;
    const body = await ticket.text();
    expect((await send(upload.uploadURL, tinyMp4(1000))).status).toBe(201);
    // The ticket's own deletion was lost: it is back, used and long expired.
    await env.VIDEOS.put(key, JSON.stringify({ ...JSON.parse(body), used: true }), { customMetadata: ticket.customMetadata });
    await expire(upload, 2 * hour);

    await newUpload("The next one");
    expect(await env.VIDEOS.head(key)).toBeNull();
    const video = await exports.default.fetch(`${BASE}/api/videos/${upload.uid}`);
    expect(video.status).toBe(200);
  });
});
