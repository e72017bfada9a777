/**
 * The two runtimes the backend is tested on, for `describe.each`: `wrangler dev` (what
 * `npm start` runs) and plain workerd (what `npm run serve` runs). Both start with the local
 * runner's LOCAL_DEV, so a suite behaves the same on either; serve also lets deliveries reach
 * the test's own receivers on 127.0.0.1, which a deployment refuses unless its owner allows it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inject } from "vitest";
import { startBackend, type Backend, type BackendOptions } from "../scripts/backend.ts";
import { startServe } from "../scripts/serve/runner.ts";

export interface Runtime {
  name: string;
  start(options?: BackendOptions): Promise<Backend>;
}

export const RUNTIMES: Runtime[] = [
  { name: "wrangler dev", start: startBackend },
  {
    name: "serve",
    start: (options = {}) =>
      startServe({
        port: options.port,
        dataDir: options.persistTo ?? mkdtempSync(join(tmpdir(), "serve-state-")),
        vars: options.vars,
        localDev: true,
        allowedPrivateOutbound: ["127.0.0.1/32"],
        // Bundled once by test/backends.ts for the whole run.
        bundle: inject("serveBundle"),
        output: options.verbose ? "inherit" : "collect",
      }),
  },
];
