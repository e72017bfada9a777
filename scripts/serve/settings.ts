/**
 * The owner's settings of `npm run serve`: the server's own (PORT, HOST, DATA_DIR,
 * SERVE_ALLOW_PRIVATE_OUTBOUND) and the Worker's (every string setting of edge/env.ts, vars and
 * secrets alike), from the environment or from the dotenv file SERVE_ENV names (the
 * environment wins). LOCAL_DEV and LOCAL_INSTANCE belong to the local runner and are never
 * passed on: a served Worker is a deployment.
 */
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { parseEnv } from "node:util";
import ipaddr from "ipaddr.js";

export interface ServerSettings {
  host: string;
  port: number;
  dataDir: string;
  /** CIDRs outbound fetches may reach besides public addresses. */
  allowedPrivateOutbound: string[];
  /** The Worker's settings that are set, by name. */
  worker: Record<string, string>;
}

const RUNNER_ONLY = new Set(["LOCAL_DEV", "LOCAL_INSTANCE"]);

/** The Worker's settings under serve unless the owner sets them: a request log on stdout, which a deployment has from Cloudflare. */
const SERVED_DEFAULTS: Record<string, string> = { LOG_REQUESTS: "json" };

/** The Worker's settings: the string fields of `Env` in edge/env.ts (bindings have other types). */
export function workerSettingNames(envSource: string): string[] {
  return [...envSource.matchAll(/^\s+([A-Z][A-Z0-9_]*)\??: string;/gm)].map((match) => match[1]!).filter((name) => !RUNNER_ONLY.has(name));
}

export class SettingsError extends Error {}

export function readSettings(environment: NodeJS.ProcessEnv, root: string, envSource: string): ServerSettings {
  let fromFile: Record<string, string | undefined> = {};
  if (environment.SERVE_ENV) {
    const file = resolve(root, environment.SERVE_ENV);
    try {
      fromFile = parseEnv(readFileSync(file, "utf8"));
    } catch (error) {
      throw new SettingsError(`SERVE_ENV names ${file}, which cannot be read: ${(error as Error).message}`);
    }
  }
  // An empty value counts as unset, as wrangler treats an empty secret.
  const setting = (name: string) => environment[name] || fromFile[name] || undefined;

  const port = Number(setting("PORT") ?? 8787);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new SettingsError(`PORT must be a port number (1–65535), not "${setting("PORT")}".`);
  const host = setting("HOST") ?? "127.0.0.1";
  if (!ipaddr.isValid(host)) throw new SettingsError(`HOST must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::), not "${host}".`);
  const dataDir = setting("DATA_DIR") ?? ".serve-data";

  const allowedPrivateOutbound = (setting("SERVE_ALLOW_PRIVATE_OUTBOUND") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of allowedPrivateOutbound) {
    if (!ipaddr.isValidCIDR(entry)) throw new SettingsError(`SERVE_ALLOW_PRIVATE_OUTBOUND takes addresses in CIDR form (10.0.0.0/8, 127.0.0.1/32), not "${entry}".`);
  }

  const worker: Record<string, string> = { ...SERVED_DEFAULTS };
  for (const name of workerSettingNames(envSource)) {
    const value = setting(name);
    if (value !== undefined) worker[name] = value;
  }
  return { host, port, dataDir: isAbsolute(dataDir) ? dataDir : resolve(root, dataDir), allowedPrivateOutbound, worker };
}

/**
 * Secrets without which a deployment serves nothing useful: streams require tokens by default,
 * and their secret has no safe fallback outside the local runner. The rest (a dev or short
 * secret, unreadable settings) is the Worker's own check, which serve asks before it reports
 * that it listens.
 */
export function neededSecretsMissing(worker: Record<string, string>): string[] {
  return worker.STREAMS_JWT_SECRET ? [] : ["STREAMS_JWT_SECRET"];
}
