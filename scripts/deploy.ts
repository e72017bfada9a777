/**
 * `npm run deploy`: builds, creates what the deployment needs on the Cloudflare account (the R2
 * buckets wrangler.toml names, the secrets it cannot run without), deploys with wrangler and
 * says what to do next. Each step first asks the account what it already has, so running it
 * again changes nothing that is in place.
 *
 * Secrets come from the environment variable of the same name, else from a prompt (Enter makes
 * a random one, shown once); without a terminal, missing ones are named with how to set them.
 * `--skip-build` deploys dist/ as it is. EDGE_WIDGETS_WRANGLER names another wrangler entry
 * script (run with node): the tests point it at a stand-in for the account.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline/promises";
import { Writable } from "node:stream";
import { stripVTControlCharacters } from "node:util";
import { parse } from "smol-toml";
import { offlineEnv, root, spawnWatched } from "./backend.ts";

/** The Worker refuses shorter secrets (edge/configuration.ts, which node cannot load as it is). */
const MIN_SECRET_CHARS = 16;

/** Secrets a deployed Worker refuses to run without (see edge/configuration.ts and the README's configuration table). */
const REQUIRED_SECRETS = {
  STREAMS_JWT_SECRET: "signs stream tokens (npm run token uses it too)",
  ADMIN_TOKEN: "the bearer token for admin calls: moderation, stream writes, uploads",
} as const;
/** Secrets that switch features on; named at the end when unset. */
const OPTIONAL_SECRETS = {
  CHAT_IDENTITY_SECRET: "verified names in <edge-chat user-token>",
  VIDEO_UPLOAD_SECRET: "upload tokens your site mints for <video-gallery>",
  WEBHOOK_SIGNING_SECRET: "signatures on schedule deliveries",
} as const;

const wranglerScript = process.env.EDGE_WIDGETS_WRANGLER ? resolve(process.env.EDGE_WIDGETS_WRANGLER) : resolve(root, "node_modules/wrangler/bin/wrangler.js");
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);

class StepFailed extends Error {}

/** Runs a node script under the watchdog; resolves with its exit status and what it printed. */
async function run(script: string, args: string[], show: boolean): Promise<{ status: number; output: string }> {
  const child = spawnWatched(process.execPath, [script, ...args], { env: offlineEnv(), stdout: "pipe", stderr: "pipe" });
  let output = "";
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8").on("data", (text: string) => {
      output += text;
      if (show) (stream === child.stdout ? process.stdout : process.stderr).write(text);
    });
  }
  const status = await new Promise<number>((done) => child.once("exit", (code) => done(code ?? 1)));
  return { status, output: stripVTControlCharacters(output) };
}

async function wrangler(args: string[], show = false): Promise<string> {
  const { status, output } = await run(wranglerScript, args, show);
  if (status !== 0) {
    // wrangler runs without a terminal here, so it cannot open its own login.
    const login = /CLOUDFLARE_API_TOKEN|not authenticated|wrangler login/i.test(output) ? "\nLog in once with `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then run npm run deploy again." : "";
    throw new StepFailed(`wrangler ${args.join(" ")} failed:\n${output.trim()}${login}`);
  }
  return output;
}

async function build(): Promise<void> {
  console.log("▶ building the widgets and the demo");
  const { status, output } = await run(resolve(root, "node_modules/vite/bin/vite.js"), ["build", "--logLevel", "warn"], false);
  if (status !== 0) throw new StepFailed(`the build failed:\n${output.trim()}`);
}

async function createBuckets(names: string[]): Promise<void> {
  if (names.length === 0) return;
  console.log("▶ R2 buckets");
  const listed = await wrangler(["r2", "bucket", "list"]);
  const existing = new Set([...listed.matchAll(/^name:\s+(\S+)\s*$/gm)].map((match) => match[1]));
  for (const name of names) {
    if (existing.has(name)) {
      console.log(`  ✓ ${name}`);
      continue;
    }
    await wrangler(["r2", "bucket", "create", name]);
    console.log(`  + ${name} (created)`);
  }
}

/** The Worker's secret names, or none when the Worker does not exist yet (a first deploy). */
async function existingSecrets(): Promise<Set<string>> {
  const { status, output } = await run(wranglerScript, ["secret", "list", "--format", "json"], false);
  if (status !== 0) {
    if (/code: 10007\b/.test(output)) return new Set();
    throw new StepFailed(`wrangler secret list failed:\n${output.trim()}`);
  }
  const json = output.slice(output.indexOf("["), output.lastIndexOf("]") + 1);
  return new Set((JSON.parse(json) as { name: string }[]).map((secret) => secret.name));
}

/** Reads a line without echoing it. */
async function askHidden(question: string): Promise<string> {
  process.stdout.write(question);
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() });
  const prompt = createInterface({ input: process.stdin, output: muted, terminal: true });
  try {
    return (await prompt.question("")).trim();
  } finally {
    prompt.close();
    process.stdout.write("\n");
  }
}

/** Values for the required secrets the Worker lacks: from the environment, else asked for. */
async function missingSecrets(existing: Set<string>): Promise<Record<string, string>> {
  console.log("▶ secrets");
  const values: Record<string, string> = {};
  const unset: string[] = [];
  for (const [name, purpose] of Object.entries(REQUIRED_SECRETS)) {
    if (existing.has(name)) {
      console.log(`  ✓ ${name}`);
      continue;
    }
    let value = process.env[name];
    if (!value && interactive) {
      console.log(`  ${name}: ${purpose}.`);
      value = await askHidden(`  Type it (${MIN_SECRET_CHARS}+ characters), or press Enter for a random one: `);
      if (!value) {
        value = randomBytes(32).toString("base64url");
        console.log(`  Generated ${name}; keep it somewhere safe, it is not shown again:\n    ${value}`);
      }
    }
    if (!value) unset.push(name);
    else if (value.length < MIN_SECRET_CHARS) throw new StepFailed(`${name} must be at least ${MIN_SECRET_CHARS} characters: the Worker refuses to run with a shorter one.`);
    else values[name] = value;
    if (value) console.log(`  + ${name} (set with this deploy)`);
  }
  if (unset.length > 0) {
    throw new StepFailed(
      [
        `The Worker needs these secrets, which are not set: ${unset.join(", ")}.`,
        "Run `npm run deploy` in a terminal to be asked for them, or pass them in the environment:",
        `  ${unset.map((name) => `${name}=$(openssl rand -base64 32)`).join(" ")} npm run deploy`,
      ].join("\n"),
    );
  }
  return values;
}

async function deploy(secrets: Record<string, string>): Promise<string> {
  console.log("▶ deploying");
  const args = ["deploy"];
  // A first deploy cannot take `wrangler secret put`; a secrets file works for both cases.
  const dir = mkdtempSync(join(tmpdir(), "edge-widgets-deploy-"));
  try {
    if (Object.keys(secrets).length > 0) {
      const file = join(dir, "secrets.json");
      writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
      chmodSync(file, 0o600);
      args.push("--secrets-file", file);
    }
    return await wrangler(args, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function nextSteps(output: string, existing: Set<string>): void {
  const url = /https:\/\/[^\s]+\.workers\.dev/.exec(output)?.[0] ?? "https://<your Worker's URL>";
  const unsetOptional = Object.entries(OPTIONAL_SECRETS).filter(([name]) => !existing.has(name) && !process.env[name]);
  console.log(`
✔ deployed: ${url}

Next:
  • Open ${url}/ for the demo page.
  • Put the widgets on any page with one script tag:
      <script type="module" src="${url}/widgets.js"></script>
      <click-counter name="hello"></click-counter>
  • Allow only your sites: set ALLOWED_ORIGINS in wrangler.toml ("*" allows every origin), then npm run deploy again.${
    unsetOptional.length > 0
      ? `\n  • Optional features, each switched on by a secret (npx wrangler secret put <NAME>):\n${unsetOptional.map(([name, purpose]) => `      ${name}: ${purpose}`).join("\n")}`
      : ""
  }`);
}

try {
  const config = parse(readFileSync(resolve(root, "wrangler.toml"), "utf8")) as { r2_buckets?: { bucket_name: string }[] };
  if (!process.argv.includes("--skip-build")) await build();
  await createBuckets((config.r2_buckets ?? []).map((bucket) => bucket.bucket_name));
  const existing = await existingSecrets();
  const secrets = await missingSecrets(existing);
  const output = await deploy(secrets);
  nextSteps(output, new Set([...existing, ...Object.keys(secrets)]));
} catch (error) {
  if (!(error instanceof StepFailed)) throw error;
  console.error(`\n✖ ${error.message}`);
  process.exitCode = 1;
}
