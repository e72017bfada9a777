/**
 * `npm run deploy` against a stand-in for the Cloudflare account (test/wrangler-standin.ts),
 * since the real one cannot be reached from here; that the Worker itself bundles for deployment
 * is checked with the real wrangler in package.test.ts. dist/ is built before the tests run, so
 * the deploys here skip the build, which would rewrite it under the other suites.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { offlineEnv, root, spawnWatched } from "../../scripts/backend.ts";

let account: string;
beforeEach(() => {
  account = mkdtempSync(join(tmpdir(), "cloudflare-standin-"));
});
afterEach(() => {
  rmSync(account, { recursive: true, force: true });
});

const SECRETS = { STREAMS_JWT_SECRET: "a-stream-secret-of-32-characters", ADMIN_TOKEN: "an-admin-token-long-enough" };

/** Runs `npm run deploy` without a terminal, as CI would, against the stand-in account. */
async function deploy(env: Record<string, string> = {}): Promise<{ status: number; output: string }> {
  const child = spawnWatched(process.execPath, [resolve(root, "scripts/deploy.ts"), "--skip-build"], {
    env: { ...offlineEnv(), EDGE_WIDGETS_WRANGLER: resolve(root, "test/wrangler-standin.ts"), CLOUDFLARE_STANDIN_DIR: account, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const status = await new Promise<number>((done) => child.once("exit", (code) => done(code ?? 1)));
  return { status, output };
}

interface Account {
  buckets: string[];
  worker: { deployments: number; secrets: Record<string, string> } | null;
  calls: string[][];
}
const state = (): Account => JSON.parse(readFileSync(join(account, "account.json"), "utf8"));

describe("npm run deploy", () => {
  it("creates the buckets wrangler.toml names, sets the required secrets and deploys to a fresh account", async () => {
    const { status, output } = await deploy(SECRETS);
    expect(status, output).toBe(0);
    const { buckets, worker } = state();
    const named = [...readFileSync(resolve(root, "wrangler.toml"), "utf8").matchAll(/bucket_name\s*=\s*"([^"]+)"/g)].map((m) => m[1]);
    expect(buckets.sort()).toEqual(named.sort());
    expect(worker).toEqual({ deployments: 1, secrets: SECRETS });
    // What to do next: the URL and the script tag.
    expect(output).toContain('<script type="module" src="https://edge-widgets.standin.workers.dev/widgets.js"></script>');
    expect(output).toContain("CHAT_IDENTITY_SECRET");
  });

  it("changes nothing that is in place when run again", async () => {
    expect((await deploy(SECRETS)).status).toBe(0);
    const before = state().calls.length;
    const { status, output } = await deploy();
    expect(status, output).toBe(0);
    const calls = state().calls.slice(before);
    expect(calls.map((call) => call.slice(0, 3).join(" "))).toEqual(["r2 bucket list", "secret list --format", "deploy"]);
    expect(calls.at(-1)).toEqual(["deploy"]);
    expect(state().worker).toEqual({ deployments: 2, secrets: SECRETS });
  });

  it("names the missing secrets and how to set them, and deploys nothing, when it cannot ask", async () => {
    const { status, output } = await deploy({ ADMIN_TOKEN: SECRETS.ADMIN_TOKEN });
    expect(status).toBe(1);
    expect(output).toMatch(/needs these secrets, which are not set: STREAMS_JWT_SECRET\./);
    expect(output).toContain("STREAMS_JWT_SECRET=$(openssl rand -base64 32) npm run deploy");
    expect(state().worker).toBeNull();
  });

  it("refuses a secret the Worker would refuse to run with", async () => {
    const { status, output } = await deploy({ ...SECRETS, ADMIN_TOKEN: "short" });
    expect(status).toBe(1);
    expect(output).toContain("ADMIN_TOKEN must be at least 16 characters");
    expect(state().worker).toBeNull();
  });
});
