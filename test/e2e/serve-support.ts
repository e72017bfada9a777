/**
 * `npm run serve` as an owner runs it (node scripts/serve.ts), on a free port with throwaway
 * data, serving the dist/ already built. Every process it starts is ended after each test.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { freePort, offlineEnv, root, stopWatched } from "../../scripts/backend.ts";
import { serveConfig, type WranglerConfig } from "../../scripts/serve/config.ts";
import { prepareRuntime, runWorkerd } from "../../scripts/serve/runner.ts";

/** Long and random enough for the deployment check; never the dev secret. */
export const STREAMS_SECRET = "serve-test-streams-secret-0123456789";

export interface Served {
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  /** stdout and stderr as they came. */
  output(): string;
  /** stdout alone: serve's log. */
  stdout(): string;
  exited: Promise<number | null>;
  /** Ends workerd at once with SIGKILL, as a power cut would, and waits for serve to notice. */
  crash(): Promise<void>;
}

const running: ChildProcess[] = [];
const dataDirs: string[] = [];

export function makeDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "serve-data-"));
  dataDirs.push(dir);
  return dir;
}

/** Call from afterEach/afterAll: ends what the tests started and removes their data. */
export function cleanUp(): void {
  for (const child of running.splice(0)) child.kill("SIGTERM");
  for (const dir of dataDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Starts serve and resolves once it says it listens; rejects with its output if it exits first. */
export async function startServe(options: { dataDir?: string; port?: number; env?: Record<string, string> } = {}): Promise<Served> {
  const dataDir = options.dataDir ?? makeDataDir();
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, ["scripts/serve.ts"], {
    cwd: root,
    env: { ...offlineEnv(), SKIP_BUILD: "1", PORT: String(port), DATA_DIR: dataDir, STREAMS_JWT_SECRET: STREAMS_SECRET, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let output = "";
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  const listening = new Promise<void>((done, fail) => {
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"event":"listening"')) done();
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    void exited.then((code) => fail(new Error(`serve exited (${code}) before listening:\n${output}`)));
  });
  await listening;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    child,
    output: () => output,
    stdout: () => stdout,
    exited,
    async crash() {
      // The workerd of this data directory, found by its own config path.
      const pid = execFileSync("pgrep", ["-f", join(dataDir, "runtime", "config.capnp")], { encoding: "utf8" })
        .split("\n")
        .map(Number)
        .find((candidate) => candidate > 0 && nameOf(candidate) === "workerd");
      if (pid === undefined) throw new Error("no workerd process for this data directory");
      process.kill(pid, "SIGKILL");
      await exited;
    },
  };
}

/** The executable's name (the watchdog above workerd names the same config in its arguments). */
function nameOf(pid: number): string {
  try {
    return execFileSync("ps", ["-o", "comm=", "-p", String(pid)], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
}

/**
 * Runs a small Worker of a test (`file`) under plain workerd with the configuration serve
 * generates for it, so a test can look at one part (R2, outbound network) in isolation.
 */
export async function startUnderServeConfig(
  file: string,
  options: { dataDir: string; runtime: string; r2Buckets?: WranglerConfig["r2_buckets"]; allowedPrivateOutbound?: string[] },
): Promise<{ url: string; exited: () => boolean; stop: () => Promise<void> }> {
  mkdirSync(options.runtime, { recursive: true });
  prepareRuntime(options.runtime, options.dataDir);
  const main = basename(file);
  copyFileSync(file, join(options.runtime, main));
  const wrangler: WranglerConfig = { name: "serve-test", main, compatibility_date: "2026-11-01", r2_buckets: options.r2Buckets ?? [] };
  const port = await freePort();
  const settings = { host: "127.0.0.1", port, dataDir: options.dataDir, distDir: resolve(root, "dist"), workerModules: [main], fromEnvironment: [] };
  writeFileSync(join(options.runtime, "config.capnp"), serveConfig(wrangler, { ...settings, allowedPrivateOutbound: options.allowedPrivateOutbound ?? [] }));
  const child = runWorkerd(options.runtime, { env: { PATH: process.env.PATH ?? "" }, stdout: "ignore", stderr: "inherit" });
  return { url: `http://127.0.0.1:${port}/`, exited: () => child.exitCode !== null, stop: () => stopWatched(child) };
}
