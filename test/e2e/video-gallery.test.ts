import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SignJWT } from "jose";
import type { Browser, Page, Request } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, type Backend } from "../../scripts/backend.ts";
import { signPlaybackToken, signingKey } from "../../edge/video/sign-playback-token.ts";
import { makeStreamKey, type TestKey } from "../edge/video-keys.ts";
import { embedding, hostPage, launchBrowser, type HostPage } from "./support.ts";
import { staticClosure } from "../../bench/sizes.bench.ts";
import { RUNTIMES } from "../runtimes.ts";

const UPLOAD_SECRET = "e2e-video-upload-secret";
const TEST_CARD = "5d5bc37ffcf54c9b82e996823bffbb81";
/** Playback on a busy 2-core machine can take seconds to get going; wait for it, not for a clock. */
const PLAYBACK = { timeout: 20_000, interval: 50 };

let browser: Browser;
let key: TestKey;

beforeAll(async () => {
  key = await makeStreamKey();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

const gallery = (page: Page) => page.locator("video-gallery");
const currentTime = (page: Page) => page.locator("video-gallery [part~=media]").evaluate((media: HTMLVideoElement) => media.currentTime);

describe("the built widget files", () => {
  it("keep hls.js out of /widgets.js and /widgets/video-gallery.js: it is only a lazy chunk", () => {
    const dist = resolve(root, "dist");
    const hlsChunks = readdirSync(resolve(dist, "chunks")).filter((file) => /^hls-.*\.js$/.test(file));
    expect(hlsChunks).toHaveLength(1);
    for (const entry of ["widgets.js", "video-gallery.js"]) {
      const files = [...staticClosure(resolve(dist, entry))].map((file) => file.slice(dist.length + 1));
      expect(files).not.toContain(`chunks/${hlsChunks[0]}`);
      expect(files.some((file) => readFileSync(resolve(dist, file), "utf8").includes("MANIFEST_PARSED"))).toBe(false);
    }
    expect(readFileSync(resolve(dist, "chunks", hlsChunks[0]!), "utf8")).toContain("MANIFEST_PARSED");
  });
});

describe.each(RUNTIMES)("<video-gallery> on a third-party page, on $name", (runtime) => {
  let backend: Backend;
  let state: string;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), "e2e-video-"));
    backend = await runtime.start({ persistTo: state, vars: { STREAM_SIGNING_JWK: key.base64, VIDEO_UPLOAD_SECRET: UPLOAD_SECRET } });
  });
  afterAll(async () => {
    await backend?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  /** A page on its own origin with the gallery, and every request it makes from now on. */
  async function open(attributes: string): Promise<{ page: Page; host: HostPage; requests: Request[]; errors: string[] }> {
    const host = await hostPage(embedding(backend.url, `<video-gallery ${attributes}></video-gallery>`));
    const page = await browser.newPage();
    const requests: Request[] = [];
    page.on("request", (request) => requests.push(request));
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      // The host page has no favicon; that 404 is not ours.
      if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) errors.push(`${message.text()} ${message.location().url}`);
    });
    await page.goto(host.url);
    await page.locator("video-gallery [part~=video]").first().waitFor();
    return { page, host, requests, errors };
  }

  for (const engine of ["mse", "native"] as const) {
    it(`lists the samples and plays one with prefer-playback="${engine}"; hls.js is fetched only after the click and only for mse`, async () => {
      const { page, host, requests, errors } = await open(`prefer-playback="${engine}"`);
      try {
        await expect.poll(() => gallery(page).locator("[part~=name]").allTextContents(), PLAYBACK).toEqual(["Mandelbrot zoom", "Colour bars", "Test card with tone"]);
        const hlsChunk = (r: Request) => /\/chunks\/hls-[\w-]+\.js$/.test(r.url());
        expect(requests.some(hlsChunk)).toBe(false);

        await gallery(page).locator("[part~=video]").nth(2).click();
        await expect.poll(() => gallery(page).getAttribute("playing"), PLAYBACK).toBe(engine);
        await expect.poll(() => currentTime(page), PLAYBACK).toBeGreaterThan(0.5);
        expect(requests.some(hlsChunk)).toBe(engine === "mse");
        // Every media request carried a token in its path.
        const media = requests.filter((r) => r.url().includes("/api/videos/play/"));
        expect(media.some((r) => r.url().endsWith("/segments/seg0.m4s"))).toBe(true);
        expect(media.every((r) => /\/api\/videos\/play\/[\w-]+\.[\w-]+\.[\w-]+\//.test(r.url()))).toBe(true);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
        await host.close();
      }
    });

    it(`renews an expired signed URL and plays on (${engine})`, async () => {
      const host = await hostPage(embedding(backend.url, `<video-gallery prefer-playback="${engine}"></video-gallery>`));
      const page = await browser.newPage();
      // The list as a page left open for two hours would hold it: tokens already expired.
      const expired = await signPlaybackToken(await signingKey(key.base64), TEST_CARD, { now: Math.floor(Date.now() / 1000) - 7200 });
      await page.route(`${backend.url}/api/videos?*`, async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { videos: { uid: string; playback: { hls: string } }[] };
        for (const video of body.videos) video.playback.hls = `/api/videos/play/${expired}/manifest/video.m3u8`;
        await route.fulfill({ response, json: body });
      });
      const refused: string[] = [];
      // hls.js sees the 403; the media element's own request is blocked (ORB) as a failed load.
      page.on("response", (response) => {
        if (response.status() === 403) refused.push(response.url());
      });
      page.on("requestfailed", (request) => refused.push(request.url()));
      const renewed = page.waitForRequest(`${backend.url}/api/videos/${TEST_CARD}`);
      try {
        await page.goto(host.url);
        await gallery(page).locator("[part~=video]").nth(2).click();
        await renewed;
        await expect.poll(() => currentTime(page), PLAYBACK).toBeGreaterThan(0.5);
        expect(refused.some((url) => url.includes(expired))).toBe(true);
      } finally {
        await page.close();
        await host.close();
      }
    });
  }

  it("resumes at the same time when a segment is refused mid-playback (mse)", async () => {
    const { page, host, requests } = await open(`prefer-playback="mse"`);
    // Hold the third segment until playback is past one second, then refuse it as an expired token would be.
    let reached!: () => void;
    const atSegment = new Promise<void>((done) => (reached = done));
    let refuse!: () => void;
    const refused = new Promise<void>((done) => (refuse = done));
    let first = true;
    await page.route("**/segments/seg2.m4s", async (route) => {
      if (!first) return route.continue();
      first = false;
      reached();
      await refused;
      await route.fulfill({ status: 403, contentType: "application/json", body: '{"error":{"code":"token_expired","message":"expired"}}' });
    });
    try {
      await gallery(page).locator("[part~=video]").nth(2).click();
      await atSegment;
      await expect.poll(() => currentTime(page), PLAYBACK).toBeGreaterThan(1.2);
      const before = requests.length;
      refuse();
      await page.waitForRequest(`${backend.url}/api/videos/${TEST_CARD}`);
      await expect.poll(() => currentTime(page), PLAYBACK).toBeGreaterThan(2.5);
      // The new player started where the old one was: it never went back for the first segment.
      const after = requests.slice(before).map((r) => r.url()).filter((url) => url.includes("/segments/seg"));
      expect(after.length).toBeGreaterThan(0);
      expect(after.some((url) => url.endsWith("/seg0.m4s"))).toBe(false);
    } finally {
      await page.close();
      await host.close();
    }
  });

  it("stops every request when the element is removed mid-playback", async () => {
    const { page, host, requests } = await open(`prefer-playback="mse"`);
    // Hold the second segment so hls.js has more to fetch at the moment of removal.
    let release!: () => void;
    const held = new Promise<void>((done) => (release = done));
    const holding = new Promise<void>((reached) =>
      page.route("**/segments/seg1.m4s", async (route) => {
        reached();
        await held;
        await route.continue().catch(() => undefined);
      }),
    );
    try {
      await gallery(page).locator("[part~=video]").nth(2).click();
      await holding;
      await page.evaluate(() => document.querySelector("video-gallery")!.remove());
      const after = requests.length;
      release();
      // Give a player that was not torn down every chance to fetch the next segments.
      await page.evaluate(() => new Promise((done) => setTimeout(done, 1500)));
      expect(requests.slice(after).map((r) => r.url())).toEqual([]);
    } finally {
      await page.close();
      await host.close();
    }
  });

  it("uploads an MP4 with a site's upload token, with a progress bar, and plays it", async () => {
    const token = await new SignJWT({ scope: "video:upload", aud: "edge-widgets:video-upload" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject("member-42")
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(UPLOAD_SECRET));
    const { page, host } = await open(`upload-token="${token}"`);
    try {
      const progress: number[] = [];
      await page.exposeFunction("recordProgress", (value: number) => progress.push(value));
      await page.evaluate(() => {
        const root = document.querySelector("video-gallery")!.shadowRoot!;
        new MutationObserver(() => {
          const bar = root.querySelector<HTMLProgressElement>("[part~=progress]");
          if (bar) (window as unknown as { recordProgress(v: number): void }).recordProgress(bar.value);
        }).observe(root, { subtree: true, childList: true, attributes: true });
      });
      const chooser = page.waitForEvent("filechooser");
      await gallery(page).locator("[part~=upload]").click();
      await (await chooser).setFiles({ name: "Harbour at dusk.mp4", mimeType: "video/mp4", buffer: readFileSync(resolve(root, "test/fixtures/upload-sample.mp4")) });
      await expect.poll(() => gallery(page).locator("[part~=name]").allTextContents(), PLAYBACK).toContain("Harbour at dusk");
      expect(progress.length).toBeGreaterThan(0);
      await expect(gallery(page).locator("[part~=upload-status]").textContent()).resolves.toMatch(/uploaded/);
      await gallery(page).locator("[part~=video]", { hasText: "Harbour at dusk" }).click();
      await expect.poll(() => gallery(page).getAttribute("playing"), PLAYBACK).toBe("native");
      await expect.poll(() => currentTime(page), PLAYBACK).toBeGreaterThan(0.5);
    } finally {
      await page.close();
      await host.close();
    }
  });
});
