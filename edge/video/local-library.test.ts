import { env, exports } from "cloudflare:workers";
import { SignJWT, importJWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, fetchWithVars, freshIp } from "../../test/edge/support.ts";
import { signPlaybackToken, signingKey, type AccessRule } from "./sign-playback-token.ts";
import { makeStreamKey } from "../../test/edge/video-keys.ts";
import type { Video } from "../../contract/video.ts";

/** The committed samples (demo/videos/library.json): three public, one private. */
const TEST_CARD = "5d5bc37ffcf54c9b82e996823bffbb81";
const BARS = "a3e7f1b2c4d54e6f8091a2b3c4d5e6f7";
const MANDELBROT = "0b1c2d3e4f5a4b6c8d7e9f0a1b2c3d4e";
const PRIVATE = "f0e1d2c3b4a54968a7b6c5d4e3f2a1b0";


const get = (path: string, headers: Record<string, string> = {}) => exports.default.fetch(`${BASE}${path}`, { headers });
const json = async <T>(response: Response) => (await response.json()) as T;

async function list(query = ""): Promise<{ videos: Video[]; cursor: string | null }> {
  const response = await get(`/api/videos${query}`);
  expect(response.status).toBe(200);
  return json(response);
}

/** The library's own signing key (made on first use and kept in R2), as a signer and a public key. */
async function libraryKey() {
  await list();
  const base64 = await (await env.VIDEOS.get("keys/signing.jwk"))!.text();
  const jwk = JSON.parse(atob(base64)) as JsonWebKey & { kid: string };
  return { signer: await signingKey(base64), publicKey: await importJWK({ kty: "RSA", n: jwk.n, e: jwk.e }, "RS256") };
}

async function tokenFor(uid: string, options: { now?: number; notBefore?: number; accessRules?: AccessRule[]; downloadable?: boolean } = {}) {
  return signPlaybackToken((await libraryKey()).signer, uid, options);
}

describe("GET /api/videos (local library)", { timeout: 30_000 }, () => {
  it("lists the public sample videos newest first, with name, duration, created and signed URLs", async () => {
    const { videos, cursor } = await list();
    expect(videos.map((v) => v.uid)).toEqual([MANDELBROT, BARS, TEST_CARD]);
    expect(cursor).toBeNull();
    expect(videos[2]).toMatchObject({ name: "Test card with tone", duration: 4, created: "2026-01-05T09:00:00Z" });
    expect(videos[2]!.playback.hls).toMatch(/^\/api\/videos\/play\/[\w-]+\.[\w-]+\.[\w-]+\/manifest\/video\.m3u8$/);
    expect(videos[2]!.thumbnail).toMatch(/^\/api\/videos\/play\/[\w-]+\.[\w-]+\.[\w-]+\/thumbnails\/thumbnail\.jpg$/);
    // Tokens are reused for up to 10 minutes, so each still has at least 50 to go.
    expect(Date.parse(videos[2]!.expiresAt) - Date.now()).toBeGreaterThan(49 * 60 * 1000);
  });

  it("signs each video's URLs with a token for that video, verifiable with the public key", async () => {
    const { videos } = await list();
    const { publicKey } = await libraryKey();
    for (const video of videos) {
      const token = video.playback.hls!.split("/")[4]!;
      const { payload } = await jwtVerify(token, publicKey, { algorithms: ["RS256"] });
      expect(payload.sub).toBe(video.uid);
    }
  });

  it("never lists or signs the private sample", async () => {
    const { videos } = await list("?limit=50");
    expect(videos.map((v) => v.uid)).not.toContain(PRIVATE);
    expect(JSON.stringify(videos)).not.toContain(PRIVATE);
  });

  it("searches names, case-insensitively", async () => {
    const { videos } = await list("?search=COLOUR");
    expect(videos.map((v) => v.name)).toEqual(["Colour bars"]);
    expect((await list("?search=rehearsal")).videos).toEqual([]);
  });

  it("pages with limit and cursor, without repeating or skipping", async () => {
    const first = await list("?limit=2");
    expect(first.videos.map((v) => v.uid)).toEqual([MANDELBROT, BARS]);
    expect(first.cursor).toEqual(expect.any(String));
    const second = await list(`?limit=2&cursor=${encodeURIComponent(first.cursor!)}`);
    expect(second.videos.map((v) => v.uid)).toEqual([TEST_CARD]);
    expect(second.cursor).toBeNull();
  });

  it("refuses a bad limit with a 400", async () => {
    for (const limit of ["0", "51", "ten"]) {
      const response = await get(`/api/videos?limit=${limit}`);
      expect(response.status).toBe(400);
      expect((await json<{ error: { code: string } }>(response)).error.code).toBe("invalid_request");
    }
  });
});

describe("GET /api/videos/{uid} (local library)", { timeout: 30_000 }, () => {
  it("answers one public video with fresh signed URLs", async () => {
    const response = await get(`/api/videos/${BARS}`);
    expect(response.status).toBe(200);
    const video = await json<Video>(response);
    expect(video).toMatchObject({ uid: BARS, name: "Colour bars" });
    expect(video.playback.hls).toContain("/manifest/video.m3u8");
  });

  it("answers a private video exactly as an unknown one: 404", async () => {
    const hidden = await get(`/api/videos/${PRIVATE}`);
    const unknown = await get(`/api/videos/${"0".repeat(32)}`);
    const malformed = await get("/api/videos/not-a-uid");
    expect([hidden.status, unknown.status, malformed.status]).toEqual([404, 404, 404]);
    const bodies = await Promise.all([hidden, unknown, malformed].map((r) => r.text()));
    expect(new Set(bodies).size).toBe(1);
  });
});

describe("signed media (local library)", { timeout: 30_000 }, () => {
  it("serves the manifest with a valid token, pointing every playlist and segment at a tokened path", async () => {
    const token = await tokenFor(TEST_CARD);
    const master = await get(`/api/videos/play/${token}/manifest/video.m3u8`);
    expect(master.status).toBe(200);
    expect(master.headers.get("Content-Type")).toBe("application/vnd.apple.mpegurl");
    const masterText = await master.text();
    expect(masterText).toContain(`/api/videos/play/${token}/manifest/stream.m3u8`);
    const media = await (await get(`/api/videos/play/${token}/manifest/stream.m3u8`)).text();
    expect(media).toContain(`#EXT-X-MAP:URI="/api/videos/play/${token}/segments/init.mp4"`);
    const uris = media.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(uris).toHaveLength(4);
    for (const uri of [...uris, `/api/videos/play/${token}/segments/init.mp4`]) {
      expect(uri.startsWith(`/api/videos/play/${token}/segments/`)).toBe(true);
      const segment = await get(uri);
      expect(segment.status).toBe(200);
      expect((await segment.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
  });

  it("serves the thumbnail as a JPEG", async () => {
    const response = await get(`/api/videos/play/${await tokenFor(BARS)}/thumbnails/thumbnail.jpg`);
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toBe("image/jpeg");
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);
  });

  it("answers 401 without a token or with a malformed one", async () => {
    expect((await get("/api/videos/play/manifest/video.m3u8")).status).toBe(401);
    expect((await get("/api/videos/play/not.a.token/manifest/video.m3u8")).status).toBe(401);
    expect((await get(`/api/videos/play/${TEST_CARD}/manifest/video.m3u8`)).status).toBe(401);
  });

  it("answers 401 for a token signed with another key", async () => {
    const stranger = await makeStreamKey();
    const token = await signPlaybackToken(await signingKey(stranger.base64), TEST_CARD);
    expect((await get(`/api/videos/play/${token}/manifest/video.m3u8`)).status).toBe(401);
  });

  it("answers 401 for an HS256 token, whatever it claims", async () => {
    const token = await new SignJWT({ kid: "x" }).setProtectedHeader({ alg: "HS256" }).setSubject(TEST_CARD).setExpirationTime("1h").sign(new TextEncoder().encode("guess"));
    expect((await get(`/api/videos/play/${token}/manifest/video.m3u8`)).status).toBe(401);
  });

  it("answers 403 for an expired token, on the manifest and on segments alike", async () => {
    const token = await tokenFor(TEST_CARD, { now: Math.floor(Date.now() / 1000) - 3 * 3600 });
    const manifest = await get(`/api/videos/play/${token}/manifest/video.m3u8`);
    expect(manifest.status).toBe(403);
    expect((await json<{ error: { code: string } }>(manifest)).error.code).toBe("token_expired");
    expect((await get(`/api/videos/play/${token}/segments/seg0.m4s`)).status).toBe(403);
  });

  it("answers 403 before the token's nbf", async () => {
    const token = await tokenFor(TEST_CARD, { notBefore: Math.floor(Date.now() / 1000) + 600 });
    expect((await get(`/api/videos/play/${token}/manifest/video.m3u8`)).status).toBe(403);
  });

  it("answers 403 for a genuine token of a video that is not in the library", async () => {
    const token = await tokenFor("9".repeat(32));
    expect((await get(`/api/videos/play/${token}/manifest/video.m3u8`)).status).toBe(403);
  });

  it("answers 401 for a token whose subject is not a video uid, and reads nothing it names", async () => {
    // Planted beside the library's folders: a key built from the subject would reach it.
    const planted = "../planted";
    const record = { uid: planted, name: "planted", duration: "1", created: "2026-01-01T00:00:00Z", visibility: "public", status: "ready", kind: "mp4" };
    await env.VIDEOS.put(`meta/${planted}`, JSON.stringify(record), { customMetadata: record });
    await env.VIDEOS.put(`mp4/${planted}/default.mp4`, "not a video");
    const token = await tokenFor(planted, { downloadable: true });
    const response = await get(`/api/videos/play/${token}/downloads/default.mp4`);
    expect(response.status).toBe(401);
    expect((await json<{ error: { code: string } }>(response)).error.code).toBe("token_invalid");
  });

  it("enforces the token's access rules against the viewer's address", async () => {
    const rules: AccessRule[] = [
      { type: "ip.src", action: "allow", ip: ["203.0.113.0/24"] },
      { type: "any", action: "block" },
    ];
    const token = await tokenFor(TEST_CARD, { accessRules: rules });
    const inside = await get(`/api/videos/play/${token}/manifest/video.m3u8`, { "CF-Connecting-IP": "203.0.113.9" });
    const outside = await get(`/api/videos/play/${token}/manifest/video.m3u8`, { "CF-Connecting-IP": "198.51.100.1" });
    expect([inside.status, outside.status]).toEqual([200, 403]);
  });

  it("enforces country rules with the viewer's country", async () => {
    const token = await tokenFor(TEST_CARD, { accessRules: [{ type: "ip.geoip.country", action: "block", country: ["NZ"] }] });
    const path = `${BASE}/api/videos/play/${token}/manifest/video.m3u8`;
    const blocked = await exports.default.fetch(new Request(path, { cf: { country: "NZ" } } as RequestInit));
    const allowed = await exports.default.fetch(new Request(path, { cf: { country: "DE" } } as RequestInit));
    expect([blocked.status, allowed.status]).toEqual([403, 200]);
  });

  it("does not hand out the sample files unsigned from the assets", async () => {
    expect((await get(`/api/video-samples/${TEST_CARD}/seg0.m4s`)).status).toBe(404);
    expect((await get("/api/video-samples/library.json")).status).toBe(404);
  });
});

describe("rate limits of the video reads", { timeout: 30_000 }, () => {
  const strict = { RATE_LIMITS: JSON.stringify({ "video-list": { burst: 2, perSecond: 0.01 }, "video-get": { burst: 2, perSecond: 0.01 } }) };
  const from = (ip: string) => ({ headers: { "CF-Connecting-IP": ip } });

  it.each([
    ["GET /api/videos", "/api/videos?limit=2"],
    ["GET /api/videos/{uid}", `/api/videos/${BARS}`],
  ])("refuses %s past the address's burst with a 429 that says when to come back", async (_, path) => {
    const ip = freshIp();
    for (let i = 0; i < 2; i++) expect((await fetchWithVars(strict, path, from(ip))).status).toBe(200);
    const refused = await fetchWithVars(strict, path, from(ip));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toBe("100");
    expect(await json(refused)).toEqual({ error: { code: "rate_limited", message: expect.stringMatching(/try again in 100 s/) } });
    // Another address is not held back.
    expect((await fetchWithVars(strict, path, from(freshIp()))).status).toBe(200);
  });

  it("counts listings and single videos apart, so a search spree does not stop a playing video", async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) await fetchWithVars(strict, "/api/videos", from(ip));
    expect((await fetchWithVars(strict, "/api/videos", from(ip))).status).toBe(429);
    expect((await fetchWithVars(strict, `/api/videos/${BARS}`, from(ip))).status).toBe(200);
  });

  it("by default lets one address load, search and page a gallery many times over", async () => {
    const defaults = { RATE_LIMITS: undefined };
    const ip = freshIp();
    const paths = ["/api/videos", "/api/videos?search=bars", "/api/videos?limit=2", `/api/videos/${BARS}`];
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetchWithVars(defaults, paths[i % paths.length]!, from(ip))).status);
    expect(statuses.every((status) => status === 200)).toBe(true);
  });
});
