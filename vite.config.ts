import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

/** Every `widgets/<tag>/<tag>.ts` is an entry of its own (`dist/<tag>.js`), plus `dist/widgets.js`. */
export function widgetTags(): string[] {
  return readdirSync(resolve(import.meta.dirname, "widgets"), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(resolve(import.meta.dirname, "widgets", entry.name, `${entry.name}.ts`)))
    .map((entry) => entry.name);
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

/** dist/custom-elements.json, generated from the widgets' JSDoc for editors and docs tools. */
function elementsManifest(): Plugin {
  return {
    name: "edge-widgets-manifest",
    apply: "build",
    closeBundle() {
      execFileSync(process.execPath, [resolve(import.meta.dirname, "node_modules/@custom-elements-manifest/analyzer/cem.js"), "analyze", "--quiet"], {
        cwd: import.meta.dirname,
        stdio: "inherit",
      });
    },
  };
}

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
  plugins: [demoPage(), consolePage(), videoSamples(), elementsManifest()],
  publicDir: false,
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    copyPublicDir: false,
    reportCompressedSize: false,
    lib: {
      entry: Object.fromEntries([
        ["widgets", resolve(import.meta.dirname, "widgets/widgets.ts")],
        ...widgetTags().map((tag) => [tag, resolve(import.meta.dirname, "widgets", tag, `${tag}.ts`)]),
        ["admin/admin", resolve(import.meta.dirname, "admin/admin.ts")],
      ]),
      formats: ["es"],
    },
    rolldownOptions: {
      output: {
        minify: true,
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name]-[hash].js",
      },
    },
  },
});
