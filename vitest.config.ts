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
                RATE_LIMITS: JSON.stringify({ click: { burst: 5, perSecond: 1 }, schedule: { burst: 100_000, perSecond: 100_000 } }),
                ADMIN_TOKEN: "test-admin-token",
                SCHEDULE_TARGETS: JSON.stringify({
                  reminders: { stream: "reminders" },
                  hook: "https://hooks.example.com/owner",
                  flaky: "https://hooks.example.com/flaky?respond=503,200",
                  "hook-with-headers": { url: "https://hooks.example.com/headers", headers: { "X-Owner-Key": "k1" } },
                }),
                WEBHOOK_SIGNING_SECRET: "test-signing-secret",
                SCHEDULE_MIN_INTERVAL_SECONDS: "1",
                SCHEDULE_RETRY_BASE_MS: "100",
                SCHEDULE_MAX_ATTEMPTS: "3",
              },
              // Scheduler deliveries go to a receiver Worker standing in for the internet.
              outboundService: "receiver",
              serviceBindings: { RECEIVER: "receiver" },
              workers: [{ name: "receiver", modules: true, compatibilityDate: "2026-11-01", scriptPath: "./test/webhook-receiver.worker.js" }],
            },
          }),
        ],
        test: { name: "edge", include: ["edge/**/*.test.ts"] },
      },
      {
        test: {
          name: "widgets",
          include: ["widgets/**/*.test.ts"],
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
    ],
  },
});
