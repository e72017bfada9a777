/**
 * A stand-in for wrangler talking to a Cloudflare account, which cannot be reached from the
 * tests: it answers the commands `npm run deploy` uses (`r2 bucket list|create`, `secret list`,
 * `deploy [--secrets-file]`) the way wrangler prints them, keeps the account in
 * $CLOUDFLARE_STANDIN_DIR/account.json and records every call there.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

interface Account {
  buckets: string[];
  worker: { deployments: number; secrets: Record<string, string> } | null;
  calls: string[][];
}

const file = join(process.env.CLOUDFLARE_STANDIN_DIR!, "account.json");
const account: Account = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { buckets: [], worker: null, calls: [] };
const args = process.argv.slice(2);
account.calls.push(args);
const save = () => writeFileSync(file, JSON.stringify(account, null, 2));
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

function answer(): number {
  const firstOption = args.findIndex((arg) => arg.startsWith("--"));
  const command = (firstOption < 0 ? args : args.slice(0, firstOption)).slice(0, 3).join(" ");
  if (command === "r2 bucket list") {
    console.log("Listing buckets...");
    console.log(account.buckets.map((name) => `name:           ${name}\ncreation_date:  2026-11-26T12:00:00.000Z`).join("\n\n"));
    return 0;
  }
  if (command.startsWith("r2 bucket create")) {
    const name = args[3]!;
    if (account.buckets.includes(name)) {
      console.error(`✘ [ERROR] A request to the Cloudflare API failed.\n\n  The bucket you tried to create already exists, and you own it. [code: 10004]`);
      return 1;
    }
    account.buckets.push(name);
    console.log(`Creating bucket '${name}'...\n✅ Created bucket '${name}' with default storage class of Standard.`);
    return 0;
  }
  if (command === "secret list") {
    if (!account.worker) {
      console.error("✘ [ERROR] A request to the Cloudflare API failed.\n\n  This Worker does not exist on your account. [code: 10007]");
      return 1;
    }
    console.log(JSON.stringify(Object.keys(account.worker.secrets).map((name) => ({ name, type: "secret_text" })), null, 2));
    return 0;
  }
  if (command === "deploy") {
    const secretsFile = option("--secrets-file");
    const secrets = secretsFile ? (JSON.parse(readFileSync(secretsFile, "utf8")) as Record<string, string>) : {};
    account.worker = { deployments: (account.worker?.deployments ?? 0) + 1, secrets: { ...account.worker?.secrets, ...secrets } };
    console.log("Uploaded edge-widgets (1.00 sec)\nDeployed edge-widgets triggers (0.50 sec)\n  https://edge-widgets.standin.workers.dev\nCurrent Version ID: 00000000-0000-0000-0000-000000000000");
    return 0;
  }
  console.error(`wrangler stand-in: no answer for \`${args.join(" ")}\``);
  return 2;
}

process.exitCode = answer();
save();
