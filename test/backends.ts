/**
 * Global setup: the Worker bundled once for the servers on plain workerd (test/runtimes.ts), and
 * real backends under wrangler dev for the browser and end-to-end suites, each
 * with its own throwaway state. `endpoint` has generous limits; `strictEndpoint` refuses
 * after a few clicks (and past 2 sockets per route), so refusals can be seen without slowing every other test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startBackend, type Backend } from "../scripts/backend.ts";
import { bundleWorker } from "../scripts/serve/runner.ts";

export const GENEROUS_LIMITS = JSON.stringify({
  click: { burst: 100_000, perSecond: 100_000 },
  "chat-message": { burst: 100_000, perSecond: 100_000 },
  "chat-join": { burst: 100_000, perSecond: 100_000 },
  "chat-read": { burst: 100_000, perSecond: 100_000 },
  schedule: { burst: 100_000, perSecond: 100_000 },
  "video-list": { burst: 100_000, perSecond: 100_000 },
  "video-get": { burst: 100_000, perSecond: 100_000 },
  "video-upload": { burst: 100_000, perSecond: 100_000 },
});
export const STRICT_LIMITS = JSON.stringify({
  click: { burst: 3, perSecond: 0.2 },
  "chat-message": { burst: 3, perSecond: 0.5 },
  "video-get": { burst: 1, perSecond: 0.01 },
});

export default async function setup(project: TestProject) {
  const state = mkdtempSync(join(tmpdir(), "edge-widgets-test-"));
  // Every server of the run on plain workerd (test/runtimes.ts) starts from this one bundle.
  const bundle = join(state, "serve-bundle");
  project.provide("serveBundle", bundle);
  const [, ...backends]: [void, ...Backend[]] = await Promise.all([
    bundleWorker(bundle),
    startBackend({
      persistTo: join(state, "main"),
      vars: {
        RATE_LIMITS: GENEROUS_LIMITS,
        SCHEDULE_MAX_PER_IP: "100000",
        CHAT_IDENTITY_SECRET: "test-chat-identity-secret",
        // Widget tests set a room's moderation (blocked words, slow mode) as its owner would.
        ADMIN_TOKEN: "widget-test-admin-token",
      },
    }),
    startBackend({ persistTo: join(state, "strict"), vars: { RATE_LIMITS: STRICT_LIMITS, SOCKETS_PER_IP: "2" } }),
  ]);
  project.provide("endpoint", backends[0]!.url);
  project.provide("strictEndpoint", backends[1]!.url);
  return async () => {
    await Promise.all(backends.map((backend) => backend.stop()));
    rmSync(state, { recursive: true, force: true });
  };
}
