/**
 * Ours on both runtimes, for benchmarks that compare them in one run: `wrangler dev` (what
 * `npm start` runs) and plain workerd (what `npm run serve` runs). Both start with the local
 * runner's LOCAL_DEV, as every benchmark always has (stream auth off needs it; see
 * `startServe`'s `localDev`), and serve lets deliveries reach this process's receivers on
 * 127.0.0.1. Under wrangler dev, its local trace collector (`X_LOCAL_OBSERVABILITY`) is off: a
 * dev-only feature that stores a trace of every request and object call in SQLite and costs
 * about as much CPU as an append; a deployed Worker does not run it.
 */
import { startBackend, type Backend } from "../scripts/backend.ts";
import { startServe } from "../scripts/serve/runner.ts";

export interface Runtime {
  name: "wrangler dev" | "serve";
  start(options: { persistTo: string; vars?: Record<string, string> }): Promise<Backend>;
}

export const RUNTIMES: Runtime[] = [
  {
    name: "wrangler dev",
    async start(options) {
      const tracing = process.env.X_LOCAL_OBSERVABILITY;
      process.env.X_LOCAL_OBSERVABILITY = "false";
      try {
        return await startBackend(options);
      } finally {
        if (tracing === undefined) delete process.env.X_LOCAL_OBSERVABILITY;
        else process.env.X_LOCAL_OBSERVABILITY = tracing;
      }
    },
  },
  {
    name: "serve",
    start: (options) => startServe({ dataDir: options.persistTo, vars: options.vars, localDev: true, allowedPrivateOutbound: ["127.0.0.1/32"] }),
  },
];
