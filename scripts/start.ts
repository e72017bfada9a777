/**
 * `npm start`: build the widgets and the demo, then serve everything on 127.0.0.1:8787 (PORT
 * overrides). The backend ends with this process however this one ends (scripts/watchdog.ts).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkPortFree, offlineEnv, PortInUseError, root, startBackend } from "./backend.ts";

function giveUp(error: unknown): never {
  console.error(error instanceof PortInUseError ? `\n${error.message}\n` : error);
  process.exit(1);
}

const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65_535) giveUp(`PORT must be a port number (1–65535), not "${process.env.PORT}".`);
// Before the build: a second start must neither rebuild dist/ under a running server nor wait.
await checkPortFree(port).catch(giveUp);

// SKIP_BUILD=1 serves the dist/ that is there (the tests of this script use it).
if (process.env.SKIP_BUILD !== "1") {
  const build = spawnSync(process.execPath, [resolve(root, "node_modules/vite/bin/vite.js"), "build"], {
    cwd: root,
    env: offlineEnv(),
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const persistTo = resolve(root, process.env.STATE_DIR ?? ".wrangler/state");
const backend = await startBackend({ port, persistTo, verbose: process.env.VERBOSE === "1" }).catch(giveUp);
console.log(`\nedge-widgets is running at ${backend.url}/  (demo page; API under /api, streams under /v1)`);
console.log(`State persists in ${persistTo}. Press Ctrl+C to stop.\n`);

let stopping = false;
const shutdown = async () => {
  if (stopping) return;
  stopping = true;
  await backend.stop();
  process.exit(0);
};
// SIGHUP: the terminal was closed.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, shutdown);
if (process.env.npm_lifecycle_event) watchNpm(shutdown);
backend.process.on("exit", (code) => {
  if (stopping) return;
  console.error(`wrangler dev stopped (exit ${code}).`);
  process.exit(code ?? 1);
});

/**
 * npm runs this script through `sh -c`, so npm killed with SIGKILL leaves that shell and this
 * process running, and nothing tells a process that its grandparent died. Look instead: when
 * the shell or npm above it is gone (the shell has another parent), stop too.
 */
function watchNpm(gone: () => void): void {
  const parent = process.ppid;
  const grandparent = parentOf(parent);
  if (grandparent === undefined) return; // Neither /proc nor ps here: nothing to watch with.
  setInterval(() => {
    if (process.ppid !== parent || parentOf(parent) !== grandparent) gone();
  }, 1_000).unref();
}

function parentOf(pid: number): number | undefined {
  try {
    if (existsSync("/proc/self/stat")) {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      // After the parenthesised name: state, then the parent's pid.
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    }
    return Number(execFileSync("ps", ["-o", "ppid=", "-p", String(pid)], { encoding: "utf8" }).trim()) || undefined;
  } catch {
    return undefined;
  }
}
