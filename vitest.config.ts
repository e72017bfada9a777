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
                // The tests play many visitors, each naming its own address.
                CLIENT_IP_HEADER: "CF-Connecting-IP",
                SOCKETS_PER_IP: "6",
                RATE_LIMITS: JSON.stringify({
                  click: { burst: 5, perSecond: 1 },
                  schedule: { burst: 100_000, perSecond: 100_000 },
                  "video-list": { burst: 100_000, perSecond: 100_000 },
                  "video-get": { burst: 100_000, perSecond: 100_000 },
                  "video-upload": { burst: 100_000, perSecond: 100_000 },
                }),
                ADMIN_TOKEN: "test-admin-token",
                STREAMS_JWT_SECRET: "test-streams-secret",
                STREAMS_HOT_BYTES: "400",
                STREAMS_LONG_POLL_MS: "1000",
                VIDEO_UPLOAD_SECRET: "test-video-upload-secret",
                CHAT_IDENTITY_SECRET: "test-chat-identity-secret",
                CHAT_HISTORY_LIMIT: "40",
                CHAT_JOIN_HISTORY: "20",
                // Small, so a test of a few sockets sees a room turn large.
                CHAT_PRESENCE_EVERY_MS: "50",
                CHAT_PEOPLE_LIST_MAX: "6",
                CHAT_TYPING_MAX_PEOPLE: "4",
                SCHEDULE_TARGETS: JSON.stringify({
                  reminders: { stream: "reminders", expiresAfter: 86_400 },
                  hook: "https://hooks.example.com/owner",
                  flaky: "https://hooks.example.com/flaky?respond=503,200",
                  "hook-with-headers": { url: "https://hooks.example.com/headers", headers: { "X-Owner-Key": "k1" } },
                }),
                WEBHOOK_SIGNING_SECRET: "test-signing-secret",
                SCHEDULE_MIN_INTERVAL_SECONDS: "1",
                // Most tests create schedules from one address; the caps have tests of their own.
                SCHEDULE_MAX_PER_IP: "100000",
                SCHEDULE_RETRY_BASE_MS: "100",
                SCHEDULE_MAX_ATTEMPTS: "3",
              },
              // Stand-ins, each a Worker of its own: the Cloudflare Stream API, and a receiver
              // that plays the internet for scheduler deliveries (every outbound fetch goes there).
              outboundService: "receiver",
              serviceBindings: { STREAM_API: "stream-api-standin", RECEIVER: "receiver" },
              workers: [
                { name: "stream-api-standin", modules: true, scriptPath: "./test/stream-api-standin.js", compatibilityDate: "2026-11-01" },
                { name: "receiver", modules: true, compatibilityDate: "2026-11-01", scriptPath: "./test/webhook-receiver.worker.js" },
              ],
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
