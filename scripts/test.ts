/** `npm test`: type check, build, then every suite in one vitest run (see vitest.config.ts). */
import { resolve } from "node:path";
import { ensureChromium } from "./chromium.ts";
import { offlineEnv, root, spawnWatched } from "./backend.ts";

const env = { ...offlineEnv(), CHROME_PATH: ensureChromium() };
const bin = (pkg: string, file: string) => resolve(root, "node_modules", pkg, file);

/** Each step runs under the watchdog: `npm test` killed, however, takes vitest and its backends along. */
async function step(title: string, args: string[]): Promise<void> {
  console.log(`\n▶ ${title}`);
  const child = spawnWatched(process.execPath, args, { env, stdout: "inherit", stderr: "inherit" });
  const status = await new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  if (status !== 0) {
    console.error(`✖ ${title} failed`);
    process.exit(status ?? 1);
  }
}

const tsc = bin("typescript", "bin/tsc");
await step("type check: contract, on its own", [tsc, "-p", "contract"]);
await step("type check: edge", [tsc, "-p", "edge"]);
await step("type check: widgets", [tsc, "-p", "widgets"]);
await step("type check: the owner's console", [tsc, "-p", "admin"]);
await step("type check: scripts, tests, benchmarks", [tsc, "-p", "."]);
await step("build widgets and demo", [bin("vite", "bin/vite.js"), "build", "--logLevel", "warn"]);
await step("tests", [bin("vitest", "vitest.mjs"), "run", ...process.argv.slice(2)]);
