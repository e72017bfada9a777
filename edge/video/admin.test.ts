import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "../../test/edge/support.ts";
import { tinyMp4 } from "../../test/edge/tiny-mp4.ts";
import type { AdminVideo } from "./provider.ts";

const ADMIN = { Authorization: "Bearer test-admin-token" };
/** The committed samples' private one, which the gallery never lists. */
const PRIVATE = "f0e1d2c3b4a54968a7b6c5d4e3f2a1b0";

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`${BASE}${path}`, init);
const patch = (uid: string, body: unknown, headers: Record<string, string> = ADMIN) =>
  call(`/api/videos/${uid}`, { method: "PATCH", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(body) });

async function allVideos(): Promise<AdminVideo[]> {
  const response = await call("/api/admin/videos?limit=100", { headers: ADMIN });
  expect(response.status).toBe(200);
  return ((await response.json()) as { videos: AdminVideo[] }).videos;
}

const gallery = async () => ((await (await call("/api/videos?limit=50")).json()) as { videos: { uid: string }[] }).videos.map((v) => v.uid);

async function newUpload(name: string): Promise<string> {
  return (await askForUpload(name)).uid;
}

async function askForUpload(name: string): Promise<{ uid: string; uploadURL: string }> {
  const response = await call("/api/videos/uploads", { method: "POST", headers: { "Content-Type": "application/json", ...ADMIN }, body: JSON.stringify({ name }) });
  expect(response.status).toBe(201);
  return (await response.json()) as { uid: string; uploadURL: string };
}

/** A public video that is in the gallery: uploaded and stored. */
async function uploadedVideo(name: string): Promise<string> {
  const { uid, uploadURL } = await askForUpload(name);
  const form = new FormData();
  form.set("file", new File([tinyMp4(2000)], "clip.mp4", { type: "video/mp4" }));
  expect((await exports.default.fetch(uploadURL, { method: "POST", body: form })).status).toBe(201);
  return uid;
}

describe("the owner's video operations (local library)", { timeout: 30_000 }, () => {
  it("lists every video, private and not yet uploaded ones too", async () => {
    const pending = await newUpload("Not here yet");
    const videos = await allVideos();
    expect(videos.find((v) => v.uid === PRIVATE)).toMatchObject({ visibility: "private", status: "ready" });
    expect(videos.find((v) => v.uid === pending)).toMatchObject({ name: "Not here yet", status: "pendingupload" });
  });

  it("renames a video", async () => {
    const uid = await newUpload("Old name");
    const response = await patch(uid, { name: "  New name " });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ uid, name: "New name" });
    expect((await allVideos()).find((v) => v.uid === uid)!.name).toBe("New name");
  });

  it("takes a public video out of the gallery by making it private, and back", async () => {
    const uid = await uploadedVideo("Going private");
    expect(await gallery()).toContain(uid);
    expect((await patch(uid, { visibility: "private" })).status).toBe(200);
    expect(await gallery()).not.toContain(uid);
    expect((await call(`/api/videos/${uid}`)).status).toBe(404);
    expect((await patch(uid, { visibility: "public" })).status).toBe(200);
    expect(await gallery()).toContain(uid);
  });

  it("deletes a video with its media", async () => {
    const uid = await uploadedVideo("Short-lived");
    const response = await call(`/api/videos/${uid}`, { method: "DELETE", headers: ADMIN });
    expect(response.status).toBe(200);
    expect((await allVideos()).map((v) => v.uid)).not.toContain(uid);
    expect((await env.VIDEOS.list({ prefix: `mp4/${uid}/` })).objects).toEqual([]);
    expect((await call(`/api/videos/${uid}`, { method: "DELETE", headers: ADMIN })).status).toBe(404);
  });

  it("refuses a change that is not a name or a visibility", async () => {
    const uid = await newUpload("Strict");
    expect((await patch(uid, { visibility: "secret" })).status).toBe(400);
    expect((await patch(uid, { owner: "me" })).status).toBe(400);
    expect((await patch(uid, {})).status).toBe(400);
    expect((await patch(uid, { name: "a\u0007b" })).status).toBe(400);
  });

  it("answers 404 for an unknown video and 401 without the admin's credentials", async () => {
    expect((await patch("ab".repeat(16), { name: "x" })).status).toBe(404);
    expect((await patch(PRIVATE, { name: "x" }, {})).status).toBe(401);
    expect((await call(`/api/videos/${PRIVATE}`, { method: "DELETE" })).status).toBe(401);
    expect((await call("/api/admin/videos")).status).toBe(401);
  });
});
