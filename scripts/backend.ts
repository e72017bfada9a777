/**
 * Starts the Worker under `wrangler dev` (workerd, no account, no network) through the
 * watchdog (`scripts/watchdog.ts`), so its whole process group ends with the process that
 * started it, however that one ends. Used by `npm start`, the tests and the benchmarks alike;
 * its twin on plain workerd, `startServe` (scripts/serve/runner.ts), returns the same `Backend`.
 */
import { spawn, type ChildProcess, type IOType } from "node:child_process";
import { randomUUID } from "node:crypto";
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
  /** The watchdog: it exits with wrangler's status once wrangler's whole group is gone. */
  process: ChildProcess;
  stop(): Promise<void>;
  /** Ends every process of the backend at once, with no graceful shutdown, as a crash would. */
  crash(): Promise<void>;
}

export class PortInUseError extends Error {
  constructor(port: number) {
    super(`port ${port} is in use (by another server or an earlier npm start); stop it or run PORT=<another port> npm start`);
  }
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

/** Throws PortInUseError when something already listens on 127.0.0.1:`port`. */
export async function checkPortFree(port: number): Promise<void> {
  await new Promise<void>((done, fail) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => fail(error.code === "EADDRINUSE" ? new PortInUseError(port) : error));
    server.listen(port, "127.0.0.1", () => server.close(() => done()));
  });
}

/**
 * Starts `command` through the watchdog: in a process group of its own that ends, all of it,
 * when this process ends or calls `stopWatched`.
 */
export function spawnWatched(command: string, args: string[], options: { env: NodeJS.ProcessEnv; stdout: IOType; stderr: IOType }): ChildProcess {
  return spawn(process.execPath, [resolve(root, "scripts/watchdog.ts"), command, ...args], {
    cwd: root,
    env: options.env,
    // Its own group too, so a Ctrl+C in the terminal reaches only the starter, which stops cleanly.
    detached: true,
    stdio: ["pipe", options.stdout, options.stderr],
  });
}

/**
 * Ends a watched group and waits until all of it is gone: by default as a stop (closing the
 * watchdog's stdin: SIGTERM, SIGKILL after a grace period), or at once as a crash would.
 */
export async function stopWatched(child: ChildProcess, how: "stop" | "crash" = "stop"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  if (how === "crash") child.kill("SIGUSR2");
  else child.stdin!.end();
  await exited;
}

/** Raised when a server could not bind one of its sockets: a port chosen as free was taken since. */
export class PortRaceError extends Error {}

/**
 * Starts a server on `port`, or on a port chosen free when none is given. Ports are chosen free
 * and bound a moment later by the server; another process (another backend of the same test run
 * starting beside this one) can take one in between. Then choose again.
 */
export async function onFreePort<T>(port: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (port !== undefined) return start(port);
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!(error instanceof PortRaceError) || attempt === 3) throw error;
    }
  }
}

export async function startBackend(options: BackendOptions = {}): Promise<Backend> {
  return onFreePort(options.port, (port) => startOnce(port, options));
}

async function startOnce(port: number, options: BackendOptions): Promise<Backend> {
  await checkPortFree(port);
  // /api/health echoes it, so the server that answers is known to be this one.
  const instance = randomUUID();
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
  const vars = { LOCAL_DEV: "true", LOCAL_INSTANCE: instance, ...options.vars };
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const child = spawnWatched(process.execPath, args, { env: offlineEnv(), stdout: "pipe", stderr: "pipe" });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
    if (options.verbose) process.stdout.write(chunk);
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);

  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopWatched(child);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const message = `wrangler dev exited early:\n${output}`;
      throw /Address already in use/i.test(output) ? new PortRaceError(message) : new Error(message);
    }
    let answered: unknown;
    try {
      const response = await fetch(`${url}/api/health`);
      if (response.ok) answered = ((await response.json()) as { instance?: unknown }).instance ?? null;
    } catch {
      // Not listening yet, or not answering JSON.
    }
    if (answered === instance) return { url, port, process: child, stop, crash: () => stopWatched(child, "crash") };
    if (answered !== undefined) {
      // Another server took the port while wrangler was starting: never report it as ours.
      await stop();
      throw new PortInUseError(port);
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  await stop();
  throw new Error(`wrangler dev did not become ready on ${url}:\n${output}`);
}
