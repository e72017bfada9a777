/**
 * The official Durable Streams conformance suite (the version pinned in package.json), run
 * against the Worker on both runtimes (test/runtimes.ts: wrangler dev and plain workerd as
 * `npm run serve` runs it) with stream auth off and a short long-poll timeout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceTests, type ConformanceTestOptions } from "@durable-streams/server-conformance-tests";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";

const LONG_POLL_MS = 500;

describe.each(RUNTIMES)("on $name", (runtime) => {
  const state = mkdtempSync(join(tmpdir(), "streams-conformance-"));
  let backend: Backend | undefined;

  // The suite reads `baseUrl` when each test runs, so it can be filled in once the backend is up.
  const options: ConformanceTestOptions = { baseUrl: "", longPollTimeoutMs: LONG_POLL_MS, subscriptions: true };

  beforeAll(async () => {
    backend = await runtime.start({
      persistTo: state,
      vars: { STREAMS_AUTH: "off", STREAMS_LONG_POLL_MS: String(LONG_POLL_MS) },
    });
    options.baseUrl = backend.url;
  });

  afterAll(async () => {
    await backend?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  runConformanceTests(options);

  describe("with STREAMS_AUTH=off", () => {
    it("lets anyone create, write and read a stream without a token", async () => {
      const url = `${options.baseUrl}/v1/stream/auth-off-${Date.now()}`;
      expect((await fetch(url, { method: "PUT", headers: { "Content-Type": "text/plain" } })).status).toBe(201);
      expect((await fetch(url, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "open" })).status).toBe(204);
      expect(await (await fetch(`${url}?offset=-1`)).text()).toBe("open");
    });
  });
});
