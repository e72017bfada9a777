import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import { emitDeclarations } from "./frameworks/declarations.ts";
import { writeTypings } from "./frameworks/typings.ts";

/** Every `widgets/<tag>/<tag>.ts` is an entry of its own (`dist/<tag>.js`), plus `dist/widgets.js`. */
export function widgetTags(): string[] {
  return readdirSync(resolve(import.meta.dirname, "widgets"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(resolve(import.meta.dirname, "widgets", entry.name, `${entry.name}.ts`)))
    .map((entry) => entry.name);
}

/**
 * `dist/<tag>.js` is a file that only re-exports the widget, whose code lives in a chunk. The
 * autoloader imports that same chunk, so both paths load it from `chunks/`, which the Worker
 * serves to any origin alongside `/widgets.js` and `/widgets/*`.
 */
const WIDGET_FILE = "edge-widgets-file:";
function widgetFiles(): Plugin {
  return {
    name: "edge-widgets-files",
    enforce: "pre",
    // Library mode hands entries over as paths under the root.
    resolveId: (id) => (id.includes(WIDGET_FILE) ? `\0${id.slice(id.indexOf(WIDGET_FILE))}` : null),
    load(id) {
      if (!id.startsWith(`\0${WIDGET_FILE}`)) return null;
      const tag = id.slice(WIDGET_FILE.length + 1);
      return `export * from ${JSON.stringify(resolve(import.meta.dirname, "widgets", tag, `${tag}.ts`))};`;
    },
  };
}

/** The demo page is plain HTML that loads `/widgets.js` as any user's page would. */
function demoPage(): Plugin {
  return {
    name: "edge-widgets-demo",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "index.html", source: readFileSync(resolve(import.meta.dirname, "demo/index.html")) });
    },
  };
}

/**

 * The owner's console (admin/): its page, `dist/admin/index.html`, which the Worker serves at
 * `/admin` (never as a plain static file), loading `dist/admin/admin.js`, built with the widgets.
 */
function consolePage(): Plugin {
  return {
    name: "edge-widgets-console",
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "admin/index.html", source: readFileSync(resolve(import.meta.dirname, "admin/index.html")) });
    },
  };
}

/**
 * dist/custom-elements.json, generated from the widgets' JSDoc for editors and docs tools, then
 * the TypeScript declarations of every entry and the frameworks' typings generated from it.
 */
function elementsManifest(entries: Record<string, string>): Plugin {
  return {
    name: "edge-widgets-manifest",
    apply: "build",
    closeBundle() {
      execFileSync(process.execPath, [resolve(import.meta.dirname, "node_modules/@custom-elements-manifest/analyzer/cem.js"), "analyze", "--quiet"], {
        cwd: import.meta.dirname,
        stdio: "inherit",
      });
      emitDeclarations(import.meta.dirname, entries);
      writeTypings(import.meta.dirname);
    },
  };
}

/** The source of each dist/<name>.js: the autoloader, one file per widget, the React components. */
const sources: Record<string, string> = {
  widgets: resolve(import.meta.dirname, "widgets/widgets.ts"),
  ...Object.fromEntries(widgetTags().map((tag) => [tag, resolve(import.meta.dirname, "widgets", tag, `${tag}.ts`)])),
  react: resolve(import.meta.dirname, "frameworks/react.ts"),
};

/**
 * The sample videos (demo/videos, made by scripts/make-sample-videos.sh) go into the assets
 * under /api/video-samples/. The Worker runs first for /api/* and answers 404 there, so only
 * its ASSETS binding reads them, to copy them into the local library's R2 bucket on first use.
 */
function videoSamples(): Plugin {
  const from = resolve(import.meta.dirname, "demo/videos");
  return {
    name: "edge-widgets-video-samples",
    generateBundle() {
      if (!existsSync(from)) return;
      for (const entry of readdirSync(from, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile()) continue;
        const path = resolve(entry.parentPath, entry.name);
        this.emitFile({ type: "asset", fileName: `api/video-samples/${path.slice(from.length + 1)}`, source: readFileSync(path) });
      }
    },
  };
}

export default defineConfig({
  plugins: [widgetFiles(), demoPage(), consolePage(), videoSamples(), elementsManifest(sources)],
  publicDir: false,
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    copyPublicDir: false,
    reportCompressedSize: false,
    lib: {
      entry: {
        ...sources,
        ...Object.fromEntries(widgetTags().map((tag) => [tag, `${WIDGET_FILE}${tag}`])),
        // The console is no part of the package's declarations: it is a page the Worker serves.
        "admin/admin": resolve(import.meta.dirname, "admin/admin.ts"),
      },
      formats: ["es"],
    },
    rolldownOptions: {
      // The React components use the page's own React (a peer dependency) and @lit/react.
      external: ["react", "@lit/react"],
      output: {
        minify: true,
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name]-[hash].js",
      },
    },
  },
});
