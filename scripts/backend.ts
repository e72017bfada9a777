/**
 * Starts the Worker under `wrangler dev` (workerd, no account, no network) and stops it with
 * its whole process group, so no workerd is left behind. Used by `npm start`, the tests and
 * the benchmarks alike.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export interface BackendOptions {
  port?: number;
  /** Where Durable Object, R2 and KV state lives; `.wrangler/state` for `npm start`. */
  persistTo?: string;
  vars?: Record<string, string>;
  /** Echo wrangler's own output. */
  verbose?: boolean;
}

export interface Backend {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Environment that keeps wrangler offline and quiet. */
export function offlineEnv(): NodeJS.ProcessEnv {
  const bin = resolve(root, "node_modules/.bin");
  return {
    ...process.env,
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_LOG_SANITIZE: "true",
    NO_COLOR: "1",
  };
}

export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => done(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  const port = options.port ?? (await freePort());
  const args = [
    resolve(root, "node_modules/wrangler/bin/wrangler.js"),
    "dev",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
    "--inspector-port",
    String(await freePort()),
    "--persist-to",
    options.persistTo ?? resolve(root, ".wrangler/state"),
    "--show-interactive-dev-session=false",
    "--log-level",
    options.verbose ? "info" : "warn",
  ];
  // Dev trust is switched on here, by the runner, and never by wrangler.toml or a request.
  const vars = { LOCAL_DEV: "true", ...options.vars };
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: offlineEnv(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (options.verbose) process.stdout.write(chunk);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);

  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopGroup(child);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) return { url, port, process: child, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready on ${url}:\n${output}`);
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timeout = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // Already gone.
    }
  }, 5_000);
  await exited;
  clearTimeout(timeout);
}
