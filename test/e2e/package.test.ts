import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { autoloaderClosures, gzipSize, staticClosure } from "../../bench/sizes.bench.ts";
import { offlineEnv, root } from "../../scripts/backend.ts";
import { widgetTags } from "../../vite.config.ts";

const npm = (args: string[]) =>
  execFileSync("npm", args, { cwd: root, env: { ...offlineEnv(), npm_config_loglevel: "error" }, encoding: "utf8" });

interface ManifestElement {
  tagName: string;
  name: string;
  events?: { name: string }[];
}

function manifestElements(): ManifestElement[] {
  const manifest = JSON.parse(readFileSync(resolve(root, "dist/custom-elements.json"), "utf8")) as { modules: { declarations?: Partial<ManifestElement>[] }[] };
  return manifest.modules.flatMap((m) => m.declarations ?? []).filter((d): d is ManifestElement => Boolean(d.tagName));
}

describe("shipping", () => {
  it("packs dist/widgets.js and dist/<tag>.js for CDNs, their declarations and the frameworks' typings, and nothing of the backend", () => {
    const [pack] = JSON.parse(npm(["pack", "--dry-run", "--json", "--ignore-scripts"])) as { files: { path: string }[] }[];
    const files = pack!.files.map((f) => f.path);
    expect(files).toContain("dist/widgets.js");
    for (const tag of widgetTags()) expect(files).toContain(`dist/${tag}.js`);
    expect(files).toContain("dist/custom-elements.json");
    expect(files.some((f) => f.startsWith("edge/") || f.startsWith("dist/index.html"))).toBe(false);
    const manifest = JSON.parse(readFileSync(resolve(root, "package.json"), "utf8"));
    expect(manifest.jsdelivr).toBe("dist/widgets.js");
    expect(manifest.unpkg).toBe("dist/widgets.js");
    expect(manifest.exports["."]).toEqual({ types: "./dist/widgets.d.ts", default: "./dist/widgets.js" });
    for (const file of ["dist/widgets.d.ts", "dist/react.js", "dist/react.d.ts", ...widgetTags().map((tag) => `dist/${tag}.d.ts`)]) expect(files).toContain(file);
    for (const framework of ["react", "vue", "svelte", "solid"]) expect(files).toContain(`dist/types/${framework}.d.ts`);
    // React is the page's own: a peer the package never bundles.
    expect(manifest.peerDependenciesMeta.react.optional).toBe(true);
    expect(readFileSync(resolve(root, "dist/react.js"), "utf8")).toMatch(/from\s*"react"/);
  });

  it("declares every element of the manifest in HTMLElementTagNameMap and every event in GlobalEventHandlersEventMap", () => {
    const declarations = readdirSync(resolve(root, "dist/declarations"), { recursive: true, encoding: "utf8" })
      .filter((file) => file.endsWith(".d.ts"))
      .map((file) => readFileSync(resolve(root, "dist/declarations", file), "utf8"))
      .join("\n");
    const tagMap = [...declarations.matchAll(/interface HTMLElementTagNameMap \{([^}]*)\}/g)].map((m) => m[1]).join("\n");
    const eventMap = [...declarations.matchAll(/interface GlobalEventHandlersEventMap \{([\s\S]*?)\n {4}\}/g)].map((m) => m[1]).join("\n");
    for (const element of manifestElements()) {
      expect(tagMap).toContain(`"${element.tagName}": ${element.name};`);
      for (const event of element.events ?? []) expect(eventMap, `${element.tagName} fires ${event.name}`).toContain(`"${event.name}": CustomEvent<`);
    }
  });

  it("gives each React component an event prop for every event its element fires", () => {
    const components = readFileSync(resolve(root, "frameworks/react.ts"), "utf8");
    for (const element of manifestElements()) {
      const listed = new RegExp(`tagName: "${element.tagName}",[^}]*?events: events\\(([^)]*)\\)`).exec(components)?.[1];
      expect(listed, element.tagName).toBeDefined();
      expect([...listed!.matchAll(/"([^"]+)"/g)].map((m) => m[1]).sort(), element.tagName).toEqual((element.events ?? []).map((e) => e.name).sort());
    }
  });

  it("describes every widget in the generated custom elements manifest", () => {
    const manifest = JSON.parse(readFileSync(resolve(root, "dist/custom-elements.json"), "utf8")) as {
      modules: { declarations?: { tagName?: string; attributes?: { name: string }[]; cssParts?: unknown[] }[] }[];
    };
    const elements = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d) => d.tagName);
    expect(elements.map((e) => e.tagName).sort()).toEqual(widgetTags().sort());
    for (const element of elements) {
      expect(element.attributes?.map((a) => a.name), element.tagName).toContain("endpoint");
      expect(element.cssParts?.length, element.tagName).toBeGreaterThan(0);
    }
  });

  it("makes the script tag cost at most 5 kB min+gzip before any widget is used", () => {
    const autoloader = staticClosure(resolve(root, "dist/widgets.js"));
    expect(autoloader.size).toBe(1);
    expect(gzipSize(autoloader)).toBeLessThanOrEqual(5 * 1024);
  });

  it("loads each widget through the script tag without any other widget's code", () => {
    const closures = autoloaderClosures();
    expect([...closures.keys()].sort()).toEqual(widgetTags().sort());
    for (const [tag, closure] of closures) {
      const files = [...closure].map((file) => file.slice(resolve(root, "dist").length + 1));
      expect(files.some((file) => file.startsWith(`chunks/${tag}-`)), tag).toBe(true);
      for (const other of widgetTags().filter((name) => name !== tag)) expect(files.filter((file) => file.includes(other)), tag).toEqual([]);
    }
  });

  it("bundles the Worker for deployment without an account or network", () => {
    const out = mkdtempSync(join(tmpdir(), "deploy-dry-run-"));
    try {
      execFileSync(process.execPath, [resolve(root, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out], {
        cwd: root,
        env: offlineEnv(),
        stdio: "pipe",
      });
      const bundle = readdirSync(out).find((file) => file.endsWith(".js"));
      expect(bundle).toBeDefined();
      const code = readFileSync(join(out, bundle!), "utf8");
      const exported = /export\s*\{([^}]*)\}/.exec(code)?.[1] ?? "";
      // Every Durable Object class that wrangler.toml binds must be exported by the bundle.
      const classes = [...readFileSync(resolve(root, "wrangler.toml"), "utf8").matchAll(/class_name\s*=\s*"(\w+)"/g)].map((m) => m[1]!);
      expect(classes.length).toBeGreaterThan(0);
      for (const name of classes) expect(exported).toMatch(new RegExp(`\\b${name}\\b`));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
