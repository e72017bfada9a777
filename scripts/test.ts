/** `npm test`: type check, build, then every suite in one vitest run (see vitest.config.ts). */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { ensureChromium } from "./chromium.ts";
import { offlineEnv, root } from "./backend.ts";

const env = { ...offlineEnv(), CHROME_PATH: ensureChromium() };
const bin = (pkg: string, file: string) => resolve(root, "node_modules", pkg, file);

function step(title: string, args: string[]): void {
  console.log(`\n▶ ${title}`);
  const result = spawnSync(process.execPath, args, { cwd: root, env, stdio: "inherit" });
  if (result.status !== 0) {
    console.error(`✖ ${title} failed`);
    process.exit(result.status ?? 1);
  }
}

const tsc = bin("typescript", "bin/tsc");
step("type check: edge", [tsc, "-p", "edge"]);
step("type check: widgets", [tsc, "-p", "widgets"]);
step("type check: scripts, tests, benchmarks", [tsc, "-p", "."]);
step("build widgets and demo", [bin("vite", "bin/vite.js"), "build", "--logLevel", "warn"]);
step("tests", [bin("vitest", "vitest.mjs"), "run", ...process.argv.slice(2)]);
