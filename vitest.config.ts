import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { CHROMIUM_ARGS, findChromium } from "./scripts/chromium.ts";

/**
 * One `vitest run` holds every suite:
 * - edge: the Worker and its Durable Objects inside workerd, with real SQLite storage;
 * - widgets: each element in a real headless Chromium, against a real backend (wrangler dev);
 * - e2e: a plain HTML page that only uses the script tag, driven by playwright-core.
 */
export default defineConfig({
  test: {
    globalSetup: ["test/backends.ts"],
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ALLOWED_ORIGINS: "https://allowed.example, http://localhost:5173",
                RATE_LIMITS: JSON.stringify({ click: { burst: 5, perSecond: 1 } }),
                ADMIN_TOKEN: "test-admin-token",
                STREAMS_JWT_SECRET: "test-streams-secret",
                STREAMS_HOT_BYTES: "400",
                STREAMS_LONG_POLL_MS: "1000",
                VIDEO_UPLOAD_SECRET: "test-video-upload-secret",
                CHAT_IDENTITY_SECRET: "test-chat-identity-secret",
                CHAT_HISTORY_LIMIT: "40",
                CHAT_JOIN_HISTORY: "20",
              },
              // A stand-in for the Cloudflare Stream API, as a Worker of its own (see the file).
              serviceBindings: { STREAM_API: "stream-api-standin" },
              workers: [{ name: "stream-api-standin", modules: true, scriptPath: "./test/stream-api-standin.js", compatibilityDate: "2026-11-01" }],
            },
          }),
        ],
        // The first test of a file also pays for starting workerd.
        test: { name: "edge", include: ["edge/**/*.test.ts"], testTimeout: 30_000 },
      },
      {
        test: {
          name: "widgets",
          include: ["widgets/**/*.test.ts"],
          testTimeout: 20_000,
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({ launchOptions: { executablePath: findChromium(), args: CHROMIUM_ARGS } }),
            instances: [{ browser: "chromium" }],
            screenshotFailures: false,
          },
        },
      },
      {
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], environment: "node", testTimeout: 60_000, hookTimeout: 90_000 },
      },
      {
        test: {
          name: "conformance",
          include: ["test/conformance/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
