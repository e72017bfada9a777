/**
 * `npm run serve`: the whole backend as a production server on plain workerd. Builds the
 * widgets (vite), then starts the Worker bundle (`wrangler deploy --dry-run`, the bundle a
 * deploy ships) on the `workerd` binary with a configuration generated from wrangler.toml
 * (scripts/serve/config.ts), through scripts/serve/runner.ts, the starter the tests use too.
 * Nothing else sits in the request path. Settings: scripts/serve/settings.ts and the README's
 * "npm run serve".
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { checkPortFree, offlineEnv, PortInUseError, root, type Backend } from "./backend.ts";
import { positiveNumber } from "../edge/settings.ts";
import { readWranglerToml } from "./serve/config.ts";
import { startServe } from "./serve/runner.ts";
import { neededSecretsMissing, readSettings, SettingsError } from "./serve/settings.ts";

function giveUp(error: unknown): never {
  console.error(error instanceof SettingsError || error instanceof PortInUseError ? `\n${error.message}\n` : error);
  process.exit(1);
}

/** serve's own events, in the shape of workerd's structured lines, so stdout is JSON throughout. */
function logEvent(level: "info" | "error", event: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ timestamp: Date.now(), level, event, ...fields }));
}

/** A build step; its output goes to stderr, keeping stdout the JSON log. */
function run(title: string, args: string[]): void {
  const step = spawnSync(process.execPath, args, { cwd: root, env: { ...offlineEnv(), WRANGLER_LOG: "warn" }, stdio: ["ignore", process.stderr, "inherit"] });
  if (step.status !== 0) giveUp(new SettingsError(`${title} failed (exit ${step.status}).`));
}

let settings;
try {
  settings = readSettings(process.env, root, readFileSync(resolve(root, "edge/env.ts"), "utf8"));
} catch (error) {
  giveUp(error);
}
const missing = neededSecretsMissing(settings.worker);
if (missing.length > 0) giveUp(new SettingsError(`Not serving: ${missing.join(", ")} must be set (environment or the SERVE_ENV file); make each with openssl rand -base64 32.`));
// Before the build: a wrangler.toml section serve cannot provide stops it at once.
let wrangler: ReturnType<typeof readWranglerToml>;
try {
  wrangler = readWranglerToml(readFileSync(resolve(root, "wrangler.toml"), "utf8"));
} catch (error) {
  giveUp(error);
}
// Before the build: a second serve must not rebuild under a running one.
if (settings.host === "127.0.0.1") await checkPortFree(settings.port).catch(giveUp);

// SKIP_BUILD=1 serves the dist/ that is there (the tests use it); the Worker is bundled every time.
if (process.env.SKIP_BUILD !== "1") run("vite build", [resolve(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"]);

/**
 * On SIGTERM workerd stops taking connections and exits once the requests under way are
 * answered. The longest of those that ends by itself is a long-poll, so it gets that long
 * (the Worker's own setting, as edge/streams/protocol.ts reads it) and 5 s more before the
 * watchdog kills what is left: SSE connections and sockets, whose clients reconnect.
 */
const longPoll = positiveNumber("STREAMS_LONG_POLL_MS", 20_000, "ms").parse(settings.worker.STREAMS_LONG_POLL_MS ?? String(wrangler.vars?.STREAMS_LONG_POLL_MS ?? ""));

let server: Backend | undefined;
let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  logEvent("info", "stopping", { signal });
  // Still starting: the watchdog stops workerd once this process is gone.
  if (server) await server.stop();
  logEvent("info", "stopped");
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, shutdown);

server = await startServe({
  host: settings.host,
  port: settings.port,
  dataDir: settings.dataDir,
  vars: settings.worker,
  allowedPrivateOutbound: settings.allowedPrivateOutbound,
  stopGraceMs: longPoll + 5_000,
  output: "inherit",
}).catch(giveUp);
server.process.on("exit", (code) => {
  if (stopping) return;
  logEvent("error", "workerd exited", { code });
  process.exit(code ?? 1);
});
logEvent("info", "listening", { url: server.url, dataDir: settings.dataDir });
