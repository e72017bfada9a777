/**
 * The workerd configuration of `npm run serve` is generated from wrangler.toml: whatever a deploy
 * binds, the served Worker binds too, and a section it cannot serve stops it rather than going
 * missing.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../../scripts/backend.ts";
import { readWranglerToml, serveConfig, workerBindings, type ServeSettings } from "../../scripts/serve/config.ts";
import { readSettings, workerSettingNames } from "../../scripts/serve/settings.ts";

const toml = readFileSync(resolve(root, "wrangler.toml"), "utf8");
const wrangler = readWranglerToml(toml);
const settings: ServeSettings = {
  host: "127.0.0.1",
  port: 8787,
  dataDir: "/srv/edge-widgets",
  distDir: "/app/dist",
  workerModules: ["index.js"],
  fromEnvironment: ["STREAMS_JWT_SECRET", "ALLOWED_ORIGINS"],
  allowedPrivateOutbound: [],
};
const config = serveConfig(wrangler, settings);
const envSource = readFileSync(resolve(root, "edge/env.ts"), "utf8");

describe("the served Worker's configuration", () => {
  it("binds every var, Durable Object, R2 bucket and the assets that wrangler.toml declares", () => {
    const declared = [
      ...Object.keys(wrangler.vars ?? {}),
      ...(wrangler.durable_objects?.bindings ?? []).map((binding) => binding.name),
      ...(wrangler.r2_buckets ?? []).map((bucket) => bucket.binding),
      wrangler.assets!.binding!,
    ];
    expect(declared.length).toBeGreaterThan(10);
    const bound = workerBindings(wrangler, settings).map((binding) => binding.name);
    expect(bound.toSorted()).toEqual([...new Set([...declared, ...settings.fromEnvironment])].toSorted());
    for (const name of declared) expect(config).toContain(`name = "${name}"`);
  });

  it("keeps every Durable Object class in SQLite on the data directory's disk", () => {
    for (const { class_name } of wrangler.durable_objects!.bindings) {
      expect(config).toMatch(new RegExp(`className = "${class_name}",\\s*uniqueKey = "edge-widgets-${class_name}",\\s*enableSql = true`));
    }
    expect(config).toMatch(/path = "\/srv\/edge-widgets\/durable-objects",\s*writable = true/);
    expect(config).toMatch(/durableObjectStorage = \(\s*localDisk = "durable-objects"/);
  });

  it("takes the compatibility date and the main module from wrangler.toml", () => {
    expect(config).toContain(`compatibilityDate = "${wrangler.compatibility_date}"`);
    expect(config).toContain('esModule = embed "index.js"');
  });

  it("reads settings set by the owner from the environment, over wrangler.toml's vars", () => {
    expect(config).toMatch(/name = "ALLOWED_ORIGINS",\s*fromEnvironment = "ALLOWED_ORIGINS"/);
    expect(config).not.toMatch(/name = "ALLOWED_ORIGINS",\s*text/);
    expect(config).toContain('fromEnvironment = "STREAMS_JWT_SECRET"');
  });

  it("sends outbound fetches only to public addresses unless the owner allows more", () => {
    expect(config).toMatch(/globalOutbound = \(\s*name = "internet"/);
    expect(config).toMatch(/name = "internet",\s*network = \(\s*allow = \[\s*"public"\s*\]/);
    const allowing = serveConfig(wrangler, { ...settings, allowedPrivateOutbound: ["10.0.0.0/8"] });
    expect(allowing).toMatch(/allow = \[\s*"public",\s*"10.0.0.0\/8"\s*\]/);
  });

  it("logs every workerd line as JSON", () => {
    expect(config).toMatch(/logging = \(\s*structuredLogging = true\s*\)/);
  });

  it("refuses a wrangler.toml section it cannot serve, naming it", () => {
    expect(() => readWranglerToml(`${toml}\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "x"\n`)).toThrow(/kv_namespaces/);
    expect(() => readWranglerToml(`${toml}\n[[migrations]]\ntag = "v9"\ndeleted_classes = ["Counter"]\n`)).toThrow(/deleted_classes/);
  });

  it("writes text with quotes, backslashes and control characters as capnp reads it", () => {
    const odd = serveConfig({ ...wrangler, vars: { ODD: 'a "b" \\ c\nd' } }, settings);
    expect(odd).toContain('text = "a \\"b\\" \\\\ c\\x0ad"');
  });
});

describe("the owner's settings", () => {
  it("pass on every string setting of the Worker, secrets included, and never the local runner's", () => {
    const names = workerSettingNames(envSource);
    for (const name of ["STREAMS_JWT_SECRET", "ADMIN_TOKEN", "CLIENT_IP_HEADER", "SCHEDULE_TARGETS", "RATE_LIMITS"]) expect(names).toContain(name);
    expect(names).not.toContain("LOCAL_DEV");
    expect(names).not.toContain("LOCAL_INSTANCE");
    const read = readSettings({ LOCAL_DEV: "true", ADMIN_TOKEN: "t".repeat(20), PATH: "/bin" }, root, envSource);
    expect(read.worker).toEqual({ ADMIN_TOKEN: "t".repeat(20), LOG_REQUESTS: "json" });
  });

  it("default to 127.0.0.1:8787 with .serve-data/ beside the project", () => {
    expect(readSettings({}, root, envSource)).toMatchObject({ host: "127.0.0.1", port: 8787, dataDir: resolve(root, ".serve-data") });
  });

  it("log requests as JSON unless the owner turns it off", () => {
    expect(readSettings({}, root, envSource).worker.LOG_REQUESTS).toBe("json");
    expect(readSettings({ LOG_REQUESTS: "off" }, root, envSource).worker.LOG_REQUESTS).toBe("off");
  });

  it("refuse an outbound allowance that is not an address range", () => {
    expect(() => readSettings({ SERVE_ALLOW_PRIVATE_OUTBOUND: "intranet.example" }, root, envSource)).toThrow(/CIDR/);
  });
});
