/**
 * `npm start` as people run it (node scripts/start.ts), killed the ways a terminal kills it.
 * These are real processes: the checks read the process table, and wait with a deadline only
 * where the kernel gives no event to wait for (the end of processes that are not our children).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkPortFree, freePort, offlineEnv, root } from "../../scripts/backend.ts";

const started: ChildProcess[] = [];
const states: string[] = [];
/** Every process a run started, so that a failing test still leaves nothing behind. */
const seen: number[] = [];

afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
  const live = processTable();
  for (const pid of seen.splice(0)) if (live.has(pid)) process.kill(pid, "SIGKILL");
  for (const state of states.splice(0)) rmSync(state, { recursive: true, force: true });
});

/**
 * Starts `npm start`'s script on `port` (through npm itself with `viaNpm`), serving the dist/
 * already built, with throwaway state.
 */
function npmStart(port: number, viaNpm = false): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const state = mkdtempSync(join(tmpdir(), "npm-start-"));
  states.push(state);
  const [command, args] = viaNpm ? ["npm", ["start", "--silent"]] : [process.execPath, ["scripts/start.ts"]];
  const child = spawn(command, args, {
    cwd: root,
    env: { ...offlineEnv(), PORT: String(port), SKIP_BUILD: "1", STATE_DIR: state },
    stdio: ["ignore", "pipe", "pipe"],
  });
  started.push(child);
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  return { child, output: () => output, exited };
}

async function running(start: ReturnType<typeof npmStart>): Promise<void> {
  await new Promise<void>((done, fail) => {
    const check = () => {
      if (start.output().includes("edge-widgets is running at")) done();
    };
    start.child.stdout!.on("data", check);
    start.exited.then(() => fail(new Error(`npm start exited:\n${start.output()}`)));
    check();
  });
}

/** Live (not zombie) processes, by pid, with their parent. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const line of execFileSync("ps", ["-eo", "pid=,ppid=,stat="], { encoding: "utf8" }).split("\n")) {
    const [pid, ppid, stat] = line.trim().split(/\s+/);
    if (pid && ppid && stat && !stat.startsWith("Z")) table.set(Number(pid), Number(ppid));
  }
  return table;
}

function descendants(pid: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const visit = (parent: number) => {
    for (const [child, ppid] of table) {
      if (ppid === parent) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  seen.push(...found);
  return found;
}

const portFree = (port: number) => checkPortFree(port).then(() => true, () => false);

/** Resolves once `check` holds; rejects after `ms` (an upper bound, not a pause). */
async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await new Promise((done) => setTimeout(done, 50));
  }
}

/** Sends `signal` to the started process; within 5 s none of its processes is left and its port is free. */
async function endsWithNothingLeft(start: ReturnType<typeof npmStart>, port: number, signal: NodeJS.Signals, atLeast: number): Promise<void> {
  const run = descendants(start.child.pid!);
  expect(run.length).toBeGreaterThanOrEqual(atLeast);
  start.child.kill(signal);
  await start.exited;
  await within(5_000, async () => {
    const live = processTable();
    return run.every((pid) => !live.has(pid)) && (await portFree(port));
  });
}

describe("npm start", () => {
  it.each(["SIGKILL", "SIGHUP"] as const)("leaves no process running and frees its port within 5 s when it gets %s", async (signal) => {
    const port = await freePort();
    const start = npmStart(port);
    await running(start);
    // The watchdog, wrangler, and the workerd it started.
    await endsWithNothingLeft(start, port, signal, 3);
  });

  it("leaves no process running and frees its port within 5 s when npm itself is killed with SIGKILL", async () => {
    const port = await freePort();
    const start = npmStart(port, true);
    await running(start);
    // Under npm: the shell it runs the script with, the script, the watchdog, wrangler, workerd.
    await endsWithNothingLeft(start, port, "SIGKILL", 5);
  });

  it("stops at once with a message naming the port when the port is taken, never reporting the other server as its own", async () => {
    // The other server answers the health check, as an earlier npm start would.
    const port = await freePort();
    const other: Server = createServer((_request, response) => response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}'));
    await new Promise<void>((done) => other.listen(port, "127.0.0.1", done));
    try {
      const start = npmStart(port);
      const code = await Promise.race([start.exited, new Promise((done) => setTimeout(() => done("still running after 10 s"), 10_000))]);
      expect(code).toBe(1);
      expect(start.output()).toContain(`port ${port} is in use`);
      expect(start.output()).toContain("PORT=");
      expect(start.output()).not.toContain("is running");
    } finally {
      await new Promise((done) => other.close(done));
    }
  });
});
