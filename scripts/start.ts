/** `npm start`: build the widgets and the demo, then serve everything on 127.0.0.1:8787 (PORT overrides). */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { offlineEnv, root, startBackend } from "./backend.ts";

const build = spawnSync(process.execPath, [resolve(root, "node_modules/vite/bin/vite.js"), "build"], {
  cwd: root,
  env: offlineEnv(),
  stdio: "inherit",
});
if (build.status !== 0) process.exit(build.status ?? 1);

const port = Number(process.env.PORT ?? 8787);
const backend = await startBackend({ port, verbose: process.env.VERBOSE === "1" });
console.log(`\nedge-widgets is running at ${backend.url}/  (demo page; API under /api, streams under /v1)`);
console.log("State persists in .wrangler/state. Press Ctrl+C to stop.\n");

const shutdown = async () => {
  await backend.stop();
  process.exit(0);
};
process.on("SIGINT", shutdown);
process.on("SIGTERM", shutdown);
backend.process.on("exit", (code) => {
  console.error(`wrangler dev stopped (exit ${code}).`);
  process.exit(code ?? 1);
});
