/**
 * The workerd configuration of `npm run serve`, generated from wrangler.toml so that a deploy
 * and a self-hosted server never disagree: the Worker's bundle and compatibility settings, every
 * Durable Object class with SQLite storage on disk, the vars, the R2 buckets (an `ObjectStore`
 * per bucket, see object-store.worker.js), the ASSETS binding (dist/ through
 * assets.worker.js) and the Cache API (cache.worker.js). A wrangler.toml section this file does not know stops the generation,
 * so a binding added for deploys cannot silently be missing here.
 */
import { parse } from "smol-toml";

/** What wrangler.toml declares, as far as serving goes. */
export interface WranglerConfig {
  name: string;
  main: string;
  compatibility_date: string;
  compatibility_flags?: string[];
  assets?: { directory: string; binding?: string; run_worker_first?: boolean | string[] };
  vars?: Record<string, unknown>;
  durable_objects?: { bindings: { name: string; class_name: string; script_name?: string }[] };
  r2_buckets?: { binding: string; bucket_name: string }[];
  migrations?: { tag: string; new_classes?: string[]; new_sqlite_classes?: string[] }[];
  observability?: unknown;
}

/** Sections that need nothing from a server, or that this generator provides. */
const UNDERSTOOD = new Set(["name", "main", "compatibility_date", "compatibility_flags", "assets", "vars", "durable_objects", "r2_buckets", "migrations", "observability"]);
const UNDERSTOOD_MIGRATION = new Set(["tag", "new_classes", "new_sqlite_classes"]);

export function readWranglerToml(text: string): WranglerConfig {
  const config = parse(text) as unknown as WranglerConfig & Record<string, unknown>;
  const unknown = Object.keys(config).filter((key) => !UNDERSTOOD.has(key));
  if (unknown.length > 0) throw new Error(`wrangler.toml declares ${unknown.join(", ")}, which npm run serve does not provide yet (scripts/serve/config.ts).`);
  for (const migration of config.migrations ?? []) {
    const other = Object.keys(migration).filter((key) => !UNDERSTOOD_MIGRATION.has(key));
    if (other.length > 0) throw new Error(`migration ${migration.tag} uses ${other.join(", ")}, which npm run serve does not apply (scripts/serve/config.ts).`);
  }
  for (const binding of config.durable_objects?.bindings ?? []) {
    if (binding.script_name) throw new Error(`Durable Object binding ${binding.name} lives in another Worker (${binding.script_name}); npm run serve runs this one only.`);
  }
  return config;
}

/** The modules of the serve runtime, copied beside the generated config (which embeds them by name). */
export const RUNTIME_MODULES = ["assets.worker.js", "cache.worker.js", "object-store.worker.js", "r2-bucket.js"] as const;

export interface ServeSettings {
  host: string;
  port: number;
  /** Absolute: Durable Object databases (`durable-objects/`) and R2 buckets (`r2/`). */
  dataDir: string;
  /** Absolute: the built widgets and demo page. */
  distDir: string;
  /** The Worker bundle's module files, relative to the config's directory, its main module first. */
  workerModules: string[];
  /** Settings (vars and secrets) the Worker reads from workerd's environment; these win over wrangler.toml's vars. */
  fromEnvironment: string[];
  /** Addresses (CIDRs) outbound fetches may reach besides the public internet. */
  allowedPrivateOutbound: string[];
}

/** A capnp value; `Embed` reads a file beside the config. */
type Value = string | number | boolean | Embed | Value[] | { [field: string]: Value | undefined };
class Embed {
  readonly file: string;
  constructor(file: string) {
    this.file = file;
  }
}

export interface Binding {
  name: string;
  [kind: string]: Value;
}

/** Every binding the Worker gets, in wrangler.toml's terms (its names are the test's subject). */
export function workerBindings(wrangler: WranglerConfig, settings: Pick<ServeSettings, "fromEnvironment">): Binding[] {
  const bindings: Binding[] = [];
  const fromEnvironment = new Set(settings.fromEnvironment);
  for (const [name, value] of Object.entries(wrangler.vars ?? {})) {
    if (fromEnvironment.has(name)) continue;
    bindings.push(typeof value === "string" ? { name, text: value } : { name, json: JSON.stringify(value) });
  }
  for (const name of fromEnvironment) bindings.push({ name, fromEnvironment: name });
  for (const { name, class_name } of wrangler.durable_objects?.bindings ?? []) {
    bindings.push({ name, durableObjectNamespace: { className: class_name } });
  }
  for (const { binding, bucket_name } of wrangler.r2_buckets ?? []) {
    bindings.push({
      name: binding,
      wrapped: {
        moduleName: R2_MODULE,
        innerBindings: [
          { name: "store", durableObjectNamespace: { className: "ObjectStore", serviceName: "r2" } },
          { name: "bucket", text: bucket_name },
        ],
      },
    });
  }
  if (wrangler.assets) bindings.push({ name: wrangler.assets.binding ?? "ASSETS", service: { name: "assets" } });
  return bindings;
}

const R2_MODULE = "edge-widgets-serve:r2-bucket";

/** Classes declared with SQLite storage by the migrations (the others keep key-value storage). */
function sqliteClasses(wrangler: WranglerConfig): Set<string> {
  return new Set((wrangler.migrations ?? []).flatMap((migration) => migration.new_sqlite_classes ?? []));
}

export function serveConfig(wrangler: WranglerConfig, settings: ServeSettings): string {
  const sqlite = sqliteClasses(wrangler);
  const classes = [...new Set((wrangler.durable_objects?.bindings ?? []).map((binding) => binding.class_name))];
  const compatibilityDate = wrangler.compatibility_date;
  const config: Value = {
    services: [
      {
        name: "main",
        worker: {
          modules: settings.workerModules.map((file) => ({ name: file, esModule: new Embed(file) })),
          compatibilityDate,
          compatibilityFlags: wrangler.compatibility_flags ?? [],
          bindings: workerBindings(wrangler, settings),
          // The key names the database folder on disk: stable, so state survives upgrades.
          durableObjectNamespaces: classes.map((className) => ({ className, uniqueKey: `${wrangler.name}-${className}`, enableSql: sqlite.has(className) })),
          durableObjectStorage: { localDisk: "durable-objects" },
          globalOutbound: { name: "internet" },
          // caches.default, kept in memory (cache.worker.js), as a data centre's cache would.
          cacheApiOutbound: { name: "cache" },
        },
      },
      {
        name: "cache",
        worker: {
          modules: [{ name: "cache.worker.js", esModule: new Embed("cache.worker.js") }],
          compatibilityDate,
        },
      },
      {
        name: "assets",
        worker: {
          modules: [{ name: "assets.worker.js", esModule: new Embed("assets.worker.js") }],
          compatibilityDate,
          bindings: [{ name: "files", service: { name: "dist" } }],
        },
      },
      {
        name: "r2",
        worker: {
          modules: [{ name: "object-store.worker.js", esModule: new Embed("object-store.worker.js") }],
          compatibilityDate,
          durableObjectNamespaces: [{ className: "ObjectStore", uniqueKey: `${wrangler.name}-r2`, enableSql: true }],
          durableObjectStorage: { localDisk: "r2-storage" },
        },
      },
      { name: "dist", disk: { path: settings.distDir } },
      { name: "durable-objects", disk: { path: `${settings.dataDir}/durable-objects`, writable: true } },
      { name: "r2-storage", disk: { path: `${settings.dataDir}/r2`, writable: true } },
      // Checked against the addresses a name resolves to, at connect time.
      { name: "internet", network: { allow: ["public", ...settings.allowedPrivateOutbound], tlsOptions: { trustBrowserCas: true } } },
    ],
    sockets: [{ name: "http", address: `${settings.host.includes(":") ? `[${settings.host}]` : settings.host}:${settings.port}`, http: {}, service: { name: "main" } }],
    extensions: [{ modules: [{ name: R2_MODULE, esModule: new Embed("r2-bucket.js"), internal: true }] }],
    // Every line workerd writes (console output, uncaught exceptions, its own warnings) as one JSON object on stdout.
    logging: { structuredLogging: true },
  };
  return `# Generated by scripts/serve/config.ts from wrangler.toml; rewritten on every npm run serve.\nusing Workerd = import "/workerd/workerd.capnp";\n\nconst config :Workerd.Config = ${render(config, "")};\n`;
}

function render(value: Value, indent: string): string {
  if (value instanceof Embed) return `embed ${quote(value.file)}`;
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    return value.length === 0 ? "[]" : `[\n${value.map((item) => `${inner}${render(item, inner)}`).join(",\n")}\n${indent}]`;
  }
  const fields = Object.entries(value).filter((entry): entry is [string, Value] => entry[1] !== undefined);
  return fields.length === 0 ? "()" : `(\n${fields.map(([field, item]) => `${inner}${field} = ${render(item, inner)}`).join(",\n")}\n${indent})`;
}

/** A capnp text literal: JSON's escapes, which capnp reads, with every control character as \xHH. */
function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}"`;
}
