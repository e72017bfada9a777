/**
 * `node scripts/watchdog.ts <command> [args…]`: runs the command in a process group of its own
 * and ends that whole group (SIGTERM, then SIGKILL after a grace period) when its starter is
 * gone or says stop. The starter holds this process's stdin: the kernel closes that pipe
 * however the starter ends, SIGKILL and crashes included, so EOF on stdin means "stop". Exits
 * with the command's status once the command has exited and its group has been cleared.
 * SIGUSR2 ends the group at once with SIGKILL, as a crash would (tests of recovery use it).
 *
 * Without it, `wrangler dev` (and the workerd it starts) outlived an `npm start` or a test run
 * that was killed, and kept the port.
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";

/** How long the group has after SIGTERM; a starter whose requests run longer sets WATCHDOG_GRACE_MS. */
const GRACE_MS = Number(process.env.WATCHDOG_GRACE_MS) || 5_000;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: node scripts/watchdog.ts <command> [args…]");
  process.exit(2);
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  signalGroup("SIGTERM");
  setTimeout(() => signalGroup("SIGKILL"), GRACE_MS).unref();
};
// Before the command starts, so no signal can end this process and leave the group behind.
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(signal, stop);
process.on("SIGUSR2", () => signalGroup("SIGKILL"));
process.stdin.on("end", stop).on("error", stop).resume();

const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"], detached: true });

function signalGroup(signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already empty.
  }
}

child.once("error", (error) => {
  console.error(`watchdog: cannot start ${command}: ${error.message}`);
  process.exit(127);
});
child.once("exit", (code, signal) => {
  // Whatever the command left in its group (workerd under wrangler) goes with it.
  signalGroup("SIGKILL");
  process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
});
