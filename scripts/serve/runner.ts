/**
 * The one way the backend is started on plain workerd: `npm run serve` (scripts/serve.ts) and
 * the tests and benchmarks (`startServe`, the serve twin of scripts/backend.ts's
 * `startBackend`, with the same `Backend` it returns) both come through here. Bundles the
 * Worker as a deploy would, writes the configuration generated from wrangler.toml into the
 * data directory, runs the `workerd` binary through the watchdog and waits for its health route.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { checkPortFree, offlineEnv, onFreePort, PortInUseError, PortRaceError, root, spawnWatched, stopWatched, type Backend } from "../backend.ts";
import { readWranglerToml, RUNTIME_MODULES, serveConfig } from "./config.ts";
import { SettingsError } from "./settings.ts";

/** The binary of the `workerd` package, the version wrangler runs. */
const workerdBinary: string = createRequire(import.meta.url)("workerd").default;

/** Lays out what workerd needs besides the Worker: serve's own modules in `runtime`, the storage folders in `dataDir`. */
export function prepareRuntime(runtime: string, dataDir: string): void {
  for (const file of RUNTIME_MODULES) copyFileSync(resolve(root, "scripts/serve", file), join(runtime, file));
  for (const dir of ["durable-objects", "r2"]) mkdirSync(join(dataDir, dir), { recursive: true });
}

/** Runs workerd on the `config.capnp` in `runtime`, through the watchdog. */
export function runWorkerd(runtime: string, options: Parameters<typeof spawnWatched>[2]): ChildProcess {
  return spawnWatched(workerdBinary, ["serve", "--experimental", join(runtime, "config.capnp")], options);
}

export interface ServeOptions {
  /** A free one is chosen when unset. */
  port?: number;
  host?: string;
  /** Absolute: Durable Object databases, R2 buckets and the generated runtime live here. */
  dataDir: string;
  /** The Worker's settings (vars and secrets); they win over wrangler.toml's vars. */
  vars?: Record<string, string>;
  /** CIDRs outbound fetches may reach besides public addresses. */
  allowedPrivateOutbound?: string[];
  /**
   * A folder `bundleWorker` filled earlier (a test run bundles once for all its servers);
   * unset, the Worker is bundled now.
   */
  bundle?: string;
  /**
   * Turns on the local runner's `LOCAL_DEV` (dev secret, loopback webhooks, the health route's
   * instance id), as `startBackend` always does. Only code can pass it: `npm run serve` reads
   * its settings through scripts/serve/settings.ts, which drops LOCAL_DEV from any environment
   * or file, and never sets this option, so a served deployment cannot be switched into it.
   */
  localDev?: boolean;
  /** How long a stop waits for the requests under way before the watchdog kills what is left; 5 s unset. */
  stopGraceMs?: number;
  /** workerd's own output: shown as it comes (`npm run serve`) or kept for the error of a failed start. */
  output?: "inherit" | "collect";
}

/** Bundles the Worker into `outDir` with `wrangler deploy --dry-run`: the very bundle a deploy ships. */
export async function bundleWorker(outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  const step = spawn(process.execPath, [resolve(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", outDir], {
    cwd: root,
    env: { ...offlineEnv(), WRANGLER_LOG: "warn" },
    // Its output goes to stderr: under `npm run serve`, stdout is the JSON log.
    stdio: ["ignore", 2, "inherit"],
  });
  const status = await new Promise<number | null>((done) => step.once("exit", (code) => done(code)));
  if (status !== 0) throw new SettingsError(`bundling the Worker failed (exit ${status}).`);
}

export async function startServe(options: ServeOptions): Promise<Backend> {
  return onFreePort(options.port, (port) => startOnce(port, options));
}

async function startOnce(port: number, options: ServeOptions): Promise<Backend> {
  const host = options.host ?? "127.0.0.1";
  if (host === "127.0.0.1") await checkPortFree(port);
  const wrangler = readWranglerToml(readFileSync(resolve(root, "wrangler.toml"), "utf8"));
  const runtime = join(options.dataDir, "runtime");
  if (options.bundle === undefined) await bundleWorker(runtime);
  else {
    rmSync(runtime, { recursive: true, force: true });
    mkdirSync(runtime, { recursive: true });
    for (const file of readdirSync(options.bundle)) if (file.endsWith(".js")) copyFileSync(join(options.bundle, file), join(runtime, file));
  }
  const main = wrangler.main.replace(/^.*\//, "").replace(/\.[cm]?[jt]s$/, ".js");
  const workerModules = [main, ...readdirSync(runtime).filter((file) => file.endsWith(".js") && file !== main)];
  prepareRuntime(runtime, options.dataDir);

  // /api/health echoes it under LOCAL_DEV, so the server that answers is known to be this one.
  const instance = options.localDev ? randomUUID() : undefined;
  // For the stop below: only this runner can tell the Worker a stop is coming (edge/stopping.ts).
  const stopToken = randomUUID();
  const vars = { ...options.vars, SERVE_STOP_TOKEN: stopToken, ...(instance && { LOCAL_DEV: "true", LOCAL_INSTANCE: instance }) };
  writeFileSync(
    join(runtime, "config.capnp"),
    serveConfig(wrangler, {
      host,
      port,
      dataDir: options.dataDir,
      distDir: resolve(root, wrangler.assets?.directory ?? "dist"),
      workerModules,
      fromEnvironment: Object.keys(vars),
      allowedPrivateOutbound: options.allowedPrivateOutbound ?? [],
    }),
  );

  // The Worker's settings reach it from this environment (fromEnvironment bindings), never from a file on disk.
  const output = options.output ?? "collect";
  const child = runWorkerd(runtime, {
    env: { PATH: process.env.PATH ?? "", ...(options.stopGraceMs !== undefined && { WATCHDOG_GRACE_MS: String(options.stopGraceMs) }), ...vars },
    stdout: output === "inherit" ? "inherit" : "pipe",
    stderr: output === "inherit" ? "inherit" : "pipe",
  });
  let said = "";
  const collect = (chunk: Buffer) => (said = (said + chunk.toString()).slice(-20_000));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  const local = url.replace("0.0.0.0", "127.0.0.1").replace("[::]", "[::1]");
  const stop = async () => {
    // First the Worker hears of it, so it starts no delivery the stop would cut off; then SIGTERM.
    await fetch(`${local}/api/stopping`, { method: "POST", headers: { Authorization: `Bearer ${stopToken}` }, signal: AbortSignal.timeout(2_000) })
      .then((answer) => answer.body?.cancel())
      .catch(() => undefined);
    await stopWatched(child);
  };
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const message = `workerd stopped (exit ${child.exitCode}).${said && `\n${said}`}`;
      throw /Address already in use/i.test(said) ? new PortRaceError(message) : new SettingsError(message);
    }
    const health = await fetch(`${local}/api/health`).catch(() => undefined);
    const body = (await health?.json().catch(() => ({}))) as { instance?: unknown; error?: { code?: string; message?: string } } | undefined;
    if (health?.status === 503 && body?.error?.code === "misconfigured") {
      // The Worker's own deployment check (edge/configuration.ts) refuses the settings: say which, and stop.
      await stop();
      throw new SettingsError(`Not serving: ${body.error.message}`);
    }
    if (health && (instance === undefined || body?.instance === instance)) {
      return { url, port, process: child, stop, crash: () => stopWatched(child, "crash") };
    }
    if (health?.ok) {
      // Another server took the port while workerd was starting: never report it as ours.
      await stop();
      throw new PortInUseError(port);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  await stop();
  throw new SettingsError(`workerd did not answer on ${url} within 30 s.${said && `\n${said}`}`);
}
