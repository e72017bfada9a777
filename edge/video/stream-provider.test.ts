import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { importJWK, jwtVerify } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../index.ts";
import { BASE } from "../../test/edge/support.ts";
import { makeStreamKey, type TestKey } from "../../test/edge/video-keys.ts";

/**
 * The Worker with Stream configured, against the Stream API stand-in (test/stream-api-standin.js,
 * an auxiliary Worker bound as STREAM_API). Its library is 30 videos, one a day; n is the day.
 */
const uid = (n: number) => n.toString(16).padStart(2, "0").repeat(16);
/** Public for the gallery and ready, newest first (see the stand-in's rules). */
const PUBLIC_READY = [29, 28, 26, 23, 22, 20, 19, 17, 16, 14, 13, 10, 8, 7, 5, 1];

let key: TestKey;
let streamEnv: Cloudflare.Env;
beforeAll(async () => {
  key = await makeStreamKey();
  streamEnv = {
    ...env,
    CLOUDFLARE_ACCOUNT_ID: "023e105f4ecef8ad9ca31a8372d0c353",
    STREAM_API_TOKEN: "stand-in-api-token",
    STREAM_SIGNING_JWK: key.base64,
    STREAM_CUSTOMER_CODE: "f33zs165nr7gyfy4",
  };
});

interface Listed {
  uid: string;
  name: string;
  duration: number;
  created: string;
  thumbnail: string;
  playback: { hls: string };
}

async function call(path: string, init?: RequestInit, overrides: Partial<Cloudflare.Env> = {}): Promise<Response> {
  const request = new Request(`${BASE}${path}`, init) as Request<unknown, IncomingRequestCfProperties>;
  return worker.fetch(request, { ...streamEnv, ...overrides }, createExecutionContext());
}

async function list(query = ""): Promise<{ videos: Listed[]; cursor: string | null }> {
  const response = await call(`/api/videos${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { videos: Listed[]; cursor: string | null };
}

describe("the Stream provider against the Stream API stand-in", { timeout: 30_000 }, () => {
  it("lists only videos that are public for the gallery and ready, newest first", async () => {
    const { videos, cursor } = await list("?limit=50");
    expect(videos.map((v) => v.uid)).toEqual(PUBLIC_READY.map(uid));
    expect(cursor).toBeNull();
    expect(videos[0]).toMatchObject({ name: "Mountain clip 29", duration: 39, created: "2026-01-29T10:00:00.000000Z" });
  });

  it("never lists private-by-default, explicitly private or unfinished videos", async () => {
    const listed = JSON.stringify(await list("?limit=50"));
    expect(listed).not.toContain(uid(3)); // requires signed URLs, no visibility
    expect(listed).not.toContain(uid(2)); // plays unsigned, but meta says private
    expect(listed).not.toContain(uid(4)); // public by meta, still processing
  });

  it("rewrites thumbnail and HLS URLs to the customer host with a token in place of the uid", async () => {
    const [video] = (await list("?limit=1")).videos;
    const host = "https://customer-f33zs165nr7gyfy4.cloudflarestream.com/";
    expect(video!.playback.hls).toMatch(new RegExp(`^${host}[\\w-]+\\.[\\w-]+\\.[\\w-]+/manifest/video\\.m3u8$`));
    expect(video!.thumbnail).toMatch(new RegExp(`^${host}[\\w-]+\\.[\\w-]+\\.[\\w-]+/thumbnails/thumbnail\\.jpg$`));
    expect(video!.playback.hls).not.toContain(video!.uid);
    const token = new URL(video!.playback.hls).pathname.split("/")[1]!;
    const { payload, protectedHeader } = await jwtVerify(token, await importJWK(key.publicJwk, "RS256"), { algorithms: ["RS256"] });
    expect(protectedHeader.kid).toBe(key.kid);
    expect(payload).toMatchObject({ sub: video!.uid, kid: key.kid });
  });

  it("passes the search to Stream and still filters what comes back", async () => {
    const { videos } = await list("?search=harbour&limit=50");
    expect(videos.map((v) => v.uid)).toEqual(PUBLIC_READY.filter((n) => n % 2 === 0).map(uid));
    expect(videos.every((v) => v.name.startsWith("Harbour"))).toBe(true);
  });

  it("pages through every public video exactly once, however many private ones lie between", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { videos: Listed[]; cursor: string | null } = await list(`?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      expect(page.videos.length).toBeLessThanOrEqual(3);
      seen.push(...page.videos.map((v) => v.uid));
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(PUBLIC_READY.map(uid));
    expect(pages).toBe(6);
  });

  it("asks Stream once for the same listing within a few seconds, and still signs each response afresh", async () => {
    const calls = async () => ((await (await env.STREAM_API!.fetch("https://standin/__standin/list-calls?search=Mountain")).json()) as { calls: number }).calls;
    const before = await calls();
    const first = await list("?search=Mountain&limit=2");
    const second = await list("?search=Mountain&limit=2");
    expect(await calls()).toBe(before + 1);
    expect(second.videos.map((v) => v.uid)).toEqual(first.videos.map((v) => v.uid));
  });

  it("signs one public video on request, and answers 404 alike for private and unknown ones", async () => {
    const found = await call(`/api/videos/${uid(1)}`);
    expect(found.status).toBe(200);
    expect(((await found.json()) as Listed).uid).toBe(uid(1));
    const answers = await Promise.all([uid(3), uid(2), uid(4), "ee".repeat(16)].map((u) => call(`/api/videos/${u}`)));
    expect(answers.map((r) => r.status)).toEqual([404, 404, 404, 404]);
    expect(new Set(await Promise.all(answers.map((r) => r.text()))).size).toBe(1);
  });

  it("creates a direct creator upload for the admin", async () => {
    const response = await call("/api/videos/uploads", {
      method: "POST",
      headers: { Authorization: "Bearer test-admin-token", "Content-Type": "application/json" },
      body: JSON.stringify({ name: "From the site" }),
    });
    expect(response.status).toBe(201);
    const upload = (await response.json()) as { uid: string; uploadURL: string };
    expect(upload.uploadURL).toMatch(/^https:\/\/upload\.videodelivery\.net\/[0-9a-f]{32}$/);
    expect(upload.uid).toMatch(/^[0-9a-f]{32}$/);
  });

  it("does not serve local media or take local uploads while Stream is in use", async () => {
    expect((await call("/api/videos/play/a.b.c/manifest/video.m3u8")).status).toBe(404);
    expect((await call(`/api/videos/uploads/${"ab".repeat(16)}`, { method: "POST" })).status).toBe(404);
  });

  it("answers 502 with a readable error when Stream refuses the API token, without leaking it", async () => {
    const response = await call("/api/videos", undefined, { STREAM_API_TOKEN: "revoked-token" });
    expect(response.status).toBe(502);
    const body = await response.text();
    expect(body).toContain("stream_error");
    expect(body).not.toContain("revoked-token");
  });
});

describe("the owner's operations on Cloudflare Stream (against the stand-in)", { timeout: 30_000 }, () => {
  const ADMIN = { Authorization: "Bearer test-admin-token" };
  /** A fresh direct upload: the stand-in keeps it as a video still to arrive, private by default. */
  async function newUpload(name: string): Promise<string> {
    const response = await call("/api/videos/uploads", { method: "POST", headers: { "Content-Type": "application/json", ...ADMIN }, body: JSON.stringify({ name, visibility: "public" }) });
    expect(response.status).toBe(201);
    return ((await response.json()) as { uid: string }).uid;
  }
  const change = (uid: string, body: unknown) =>
    call(`/api/videos/${uid}`, { method: "PATCH", headers: { "Content-Type": "application/json", ...ADMIN }, body: JSON.stringify(body) });

  it("lists every video, private and unfinished ones too, newest first", async () => {
    const response = await call("/api/admin/videos?limit=100", { headers: ADMIN });
    const { videos } = (await response.json()) as { videos: { uid: string; visibility: string; status: string }[] };
    expect(videos.find((v) => v.uid === uid(3))).toMatchObject({ visibility: "private", status: "ready" });
    expect(videos.find((v) => v.uid === uid(4))).toMatchObject({ status: "inprogress" });
  });

  it("renames a video and makes it private, which Stream then also requires signed URLs for", async () => {
    const id = await newUpload("Draft");
    const renamed = await change(id, { name: "Final cut" });
    expect(await renamed.json()).toMatchObject({ uid: id, name: "Final cut", visibility: "public" });
    const hidden = await change(id, { visibility: "private" });
    expect(await hidden.json()).toMatchObject({ name: "Final cut", visibility: "private" });
  });

  it("deletes a video", async () => {
    const id = await newUpload("Gone soon");
    expect((await call(`/api/videos/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(200);
    expect((await call(`/api/videos/${id}`, { method: "DELETE", headers: ADMIN })).status).toBe(404);
  });
});
