/**
 * `npm run serve`: the whole backend as a production server on plain workerd. Builds the
 * widgets (vite) and the Worker bundle (`wrangler deploy --dry-run`, the bundle a deploy ships),
 * writes a workerd configuration generated from wrangler.toml (scripts/serve/config.ts) into
 * the data directory, and runs the `workerd` binary through the watchdog. Nothing else sits in
 * the request path. Settings: scripts/serve/settings.ts and the README's "npm run serve".
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkPortFree, offlineEnv, PortInUseError, root, spawnWatched, stopWatched } from "./backend.ts";
import { positiveNumber } from "../edge/settings.ts";
import { readWranglerToml, RUNTIME_MODULES, serveConfig } from "./serve/config.ts";
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
const wrangler = readWranglerToml(readFileSync(resolve(root, "wrangler.toml"), "utf8"));
// Before the build: a second serve must not rebuild under a running one.
if (settings.host === "127.0.0.1") await checkPortFree(settings.port).catch(giveUp);

// SKIP_BUILD=1 serves the dist/ that is there (the tests use it); the Worker is bundled every time.
if (process.env.SKIP_BUILD !== "1") run("vite build", [resolve(root, "node_modules/vite/bin/vite.js"), "build", "--logLevel", "warn"]);
const runtime = join(settings.dataDir, "runtime");
rmSync(runtime, { recursive: true, force: true });
run("bundling the Worker", [resolve(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", runtime]);
const main = wrangler.main.replace(/^.*\//, "").replace(/\.[cm]?[jt]s$/, ".js");
const workerModules = [main, ...readdirSync(runtime).filter((file) => file.endsWith(".js") && file !== main)];
for (const file of RUNTIME_MODULES) copyFileSync(resolve(root, "scripts/serve", file), join(runtime, file));
for (const dir of ["durable-objects", "r2"]) mkdirSync(join(settings.dataDir, dir), { recursive: true });
writeFileSync(
  join(runtime, "config.capnp"),
  serveConfig(wrangler, {
    host: settings.host,
    port: settings.port,
    dataDir: settings.dataDir,
    distDir: resolve(root, wrangler.assets?.directory ?? "dist"),
    workerModules,
    fromEnvironment: Object.keys(settings.worker),
    allowedPrivateOutbound: settings.allowedPrivateOutbound,
  }),
);

/**
 * On SIGTERM workerd stops taking connections and exits once the requests under way are
 * answered. The longest of those that ends by itself is a long-poll, so it gets that long
 * (the Worker's own setting, as edge/streams/protocol.ts reads it) and 5 s more before the
 * watchdog kills what is left: SSE connections and sockets, whose clients reconnect.
 */
const longPoll = positiveNumber("STREAMS_LONG_POLL_MS", 20_000, "ms").parse(settings.worker.STREAMS_LONG_POLL_MS ?? String(wrangler.vars?.STREAMS_LONG_POLL_MS ?? ""));
const stopGraceMs = longPoll + 5_000;

/** The binary of the `workerd` package, the version wrangler runs. */
const workerdBinary: string = createRequire(import.meta.url)("workerd").default;

// The Worker's settings reach it from this environment (fromEnvironment bindings), never from a file on disk.
const child = spawnWatched(workerdBinary, ["serve", "--experimental", join(runtime, "config.capnp")], {
  env: { PATH: process.env.PATH ?? "", WATCHDOG_GRACE_MS: String(stopGraceMs), ...settings.worker },
  stdout: "inherit",
  stderr: "inherit",
});
const url = `http://${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${settings.port}`;

let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) return;
  stopping = true;
  logEvent("info", "stopping", { signal });
  await stopWatched(child);
  logEvent("info", "stopped");
  process.exit(0);
};
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, shutdown);
child.on("exit", (code) => {
  if (stopping) return;
  logEvent("error", "workerd exited", { code });
  process.exit(code ?? 1);
});

const local = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
const deadline = Date.now() + 30_000;
while (true) {
  const health = await fetch(`${local}/api/health`).catch(() => undefined);
  if (health?.status === 503) {
    // The Worker's own deployment check (edge/configuration.ts) refuses the settings: say which, and stop.
    const { error } = (await health.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
    if (error?.code === "misconfigured") {
      stopping = true;
      await stopWatched(child);
      giveUp(new SettingsError(`Not serving: ${error.message}`));
    }
  }
  if (health) break;
  if (Date.now() > deadline) giveUp(new SettingsError(`workerd did not answer on ${url} within 30 s.`));
  await new Promise((done) => setTimeout(done, 100));
}
logEvent("info", "listening", { url, dataDir: settings.dataDir });
