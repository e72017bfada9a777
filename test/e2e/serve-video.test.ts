/**
 * The local video library under `npm run serve`, where its bucket is serve's own R2 binding:
 * an upload with a site's upload token, the listing, and the signed MP4 read by ranges as a
 * `<video>` element reads it.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { mintToken } from "../../edge/http/tokens.ts";
import { root } from "../../scripts/backend.ts";
import { cleanUp, startServe } from "./serve-support.ts";

afterEach(cleanUp);

const UPLOAD_SECRET = "serve-test-video-upload-secret-0123";

interface Video {
  uid: string;
  name: string;
  playback: { mp4?: string };
}

describe("npm run serve's video library", () => {
  it("takes an MP4 with an upload token, lists it, and serves its signed MP4 by ranges", async () => {
    const served = await startServe({ env: { VIDEO_UPLOAD_SECRET: UPLOAD_SECRET } });
    const mp4 = readFileSync(resolve(root, "test/fixtures/upload-sample.mp4"));
    const token = await mintToken(UPLOAD_SECRET, "videoUpload", { scope: "video:upload", sub: "member-42" }, "10m");

    const asked = await fetch(`${served.url}/api/videos/uploads`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: "Harbour at dusk" }),
    });
    expect(asked.status).toBe(201);
    const { uid, uploadURL } = (await asked.json()) as { uid: string; uploadURL: string };
    const form = new FormData();
    form.set("file", new Blob([mp4], { type: "video/mp4" }), "harbour.mp4");
    const uploaded = await fetch(uploadURL, { method: "POST", body: form });
    expect(uploaded.status).toBe(201);
    expect(await uploaded.json()).toMatchObject({ uid });

    const { videos } = (await (await fetch(`${served.url}/api/videos`)).json()) as { videos: Video[] };
    const listed = videos.find((video) => video.uid === uid);
    expect(listed).toMatchObject({ name: "Harbour at dusk" });
    expect(listed!.playback.mp4).toMatch(/\/downloads\/default\.mp4$/);
    const playback = new URL(listed!.playback.mp4!, served.url);

    const whole = await fetch(playback);
    expect(whole.status).toBe(200);
    expect(Buffer.from(await whole.arrayBuffer()).equals(mp4)).toBe(true);
    const part = await fetch(playback, { headers: { Range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${mp4.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(mp4.subarray(100, 200))).toBe(true);
    const tail = await fetch(playback, { headers: { Range: "bytes=-16" } });
    expect(tail.status).toBe(206);
    expect(Buffer.from(await tail.arrayBuffer()).equals(mp4.subarray(-16))).toBe(true);
  });
});
