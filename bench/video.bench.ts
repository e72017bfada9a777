/**
 * <video-gallery> and the video library:
 * - bytes a page downloads for /widgets/video-gallery.js (min+gzip, hls.js excluded) and for
 *   the hls.js chunk fetched on the first play with prefer-playback="mse";
 * - click to first frame on localhost, per playback engine, each run in a fresh browser
 *   context (so the mse runs include fetching hls.js);
 * - signed list responses per second: `GET /api/videos?limit=12` (3 videos, each signed) from
 *   20 concurrent clients, with the server's CPU per response, next to /api/health under the
 *   same load (the runtime's ceiling);
 * - playback tokens signed per second by signPlaybackToken itself (WebCrypto, one core).
 * The first frames and the listing run on both runtimes (bench/runtimes.ts: wrangler dev, and
 * plain workerd as `npm run serve` runs it), side by side.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser } from "playwright-core";
import { root, type Backend } from "../scripts/backend.ts";
import { embedding, hostPage, launchBrowser } from "../test/e2e/support.ts";
import { cpuMs, quantile, sideBySide, type Figure } from "./figures.ts";
import { RUNTIMES, type Runtime } from "./runtimes.ts";
import { gzipSize, staticClosure } from "./sizes.bench.ts";
import { signPlaybackToken, signingKey } from "../edge/video/sign-playback-token.ts";
import { makeStreamKey } from "../test/edge/video-keys.ts";

const FRAME_RUNS = 8;
const LIST_CLIENTS = 20;
const LIST_SECONDS = 5;

export default async function video(): Promise<Figure[]> {
  const dist = resolve(root, "dist");
  const closure = staticClosure(resolve(dist, "video-gallery.js"));
  const hlsChunk = readdirSync(resolve(dist, "chunks")).find((file) => /^hls-.*\.js$/.test(file));
  const figures: Figure[] = [
    { name: "/widgets/video-gallery.js min+gzip", value: gzipSize(closure), unit: "B", note: `${closure.size} file(s), hls.js excluded` },
  ];
  if (hlsChunk) figures.push({ name: "hls.js chunk min+gzip (lazy)", value: gzipSize([resolve(dist, "chunks", hlsChunk)]), unit: "B", note: "fetched on first mse play" });

  figures.push(await signingRate());

  const browser = await launchBrowser();
  try {
    const [dev, serve] = [await onRuntime(RUNTIMES[0]!, browser), await onRuntime(RUNTIMES[1]!, browser)];
    figures.push(...sideBySide(dev, serve));
  } finally {
    await browser.close();
  }
  return figures;
}

async function onRuntime(runtime: Runtime, browser: Browser): Promise<Figure[]> {
  const state = mkdtempSync(join(tmpdir(), "bench-video-"));
  // Twenty clients on one address would meet the per-IP listing limit within a second.
  const backend = await runtime.start({ persistTo: state, vars: { RATE_LIMITS: JSON.stringify({ "video-list": { burst: 1e9, perSecond: 1e9 } }) } });
  try {
    const figures: Figure[] = [];
    for (const engine of ["native", "mse"] as const) {
      const samples = await firstFrames(browser, backend.url, engine);
      figures.push({ name: `click to first frame (${engine}) p50`, value: quantile(samples, 0.5), unit: "ms", note: `${FRAME_RUNS} fresh contexts, localhost` });
    }
    figures.push(...(await listThroughput(backend)));
    return figures;
  } finally {
    await backend.stop();
    rmSync(state, { recursive: true, force: true });
  }
}

async function firstFrames(browser: Browser, backend: string, engine: "mse" | "native"): Promise<number[]> {
  const host = await hostPage(embedding(backend, `<video-gallery prefer-playback="${engine}"></video-gallery>`));
  const samples: number[] = [];
  try {
    for (let run = 0; run < FRAME_RUNS; run++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(host.url);
      const button = page.locator("video-gallery [part~=video]").nth(2);
      await button.waitFor();
      const firstFrame = page.evaluate(
        () =>
          new Promise<number>((done) => {
            const gallery = document.querySelector("video-gallery")!;
            gallery.addEventListener("edge-video-open", () => {
              const media = gallery.shadowRoot!.querySelector("video")!;
              media.requestVideoFrameCallback(() => done(performance.now() - (window as unknown as { clickedAt: number }).clickedAt));
            });
            gallery.shadowRoot!.querySelectorAll("[part~=video]")[2]!.addEventListener("click", () => {
              (window as unknown as { clickedAt: number }).clickedAt = performance.now();
            }, { capture: true });
          }),
      );
      await button.click();
      samples.push(await firstFrame);
      await context.close();
    }
  } finally {
    await host.close();
  }
  return samples;
}

async function listThroughput(backend: Backend): Promise<Figure[]> {
  const cpuBefore = cpuMs(backend.process.pid!);
  const list = await throughput(`${backend.url}/api/videos?limit=12`);
  const cpuPerList = (cpuMs(backend.process.pid!) - cpuBefore) / list.count;
  // The same load on /api/health: what the runtime itself costs per request on this machine.
  const health = await throughput(`${backend.url}/api/health`);
  return [
    { name: "signed list responses per second", value: list.perSecond, unit: "req/s", note: `${LIST_CLIENTS} clients, 3 signed videos per response` },
    { name: "signed list latency p50", value: list.p50, unit: "ms", note: `p99 ${list.p99.toFixed(1)} ms` },
    { name: "CPU per signed list response", value: Math.round(cpuPerList * 100) / 100, unit: "ms", note: "every process of the server" },
    { name: "baseline: /api/health per second", value: health.perSecond, unit: "req/s", note: "same load, no work: the runtime's ceiling" },
  ];
}

async function throughput(url: string): Promise<{ perSecond: number; count: number; p50: number; p99: number }> {
  await (await fetch(url)).arrayBuffer();
  const latencies: number[] = [];
  const deadline = performance.now() + LIST_SECONDS * 1000;
  const started = performance.now();
  let done = 0;
  await Promise.all(
    Array.from({ length: LIST_CLIENTS }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        const response = await fetch(url);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${url} failed: ${response.status}`);
        latencies.push(performance.now() - t);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { perSecond: Math.round(done / seconds), count: done, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

async function signingRate(): Promise<Figure> {
  const key = await signingKey((await makeStreamKey()).base64);
  const uid = "5d5bc37ffcf54c9b82e996823bffbb81";
  for (let i = 0; i < 50; i++) await signPlaybackToken(key, uid);
  const count = 2000;
  const started = performance.now();
  for (let i = 0; i < count; i++) await signPlaybackToken(key, uid);
  const seconds = (performance.now() - started) / 1000;
  return { name: "playback tokens signed per second", value: Math.round(count / seconds), unit: "tokens/s", note: "RS256 2048-bit, WebCrypto in Node, one core" };
}
