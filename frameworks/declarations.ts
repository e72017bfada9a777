/**
 * The TypeScript declarations the package ships: the widgets' own declarations (emitted by tsc
 * into dist/declarations/, with `declare global` blocks that put every element in
 * `HTMLElementTagNameMap` and every event in `GlobalEventHandlersEventMap`), and one
 * `dist/<file>.d.ts` next to each `dist/<file>.js` that points into them.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import ts from "typescript";

/** Relative `.ts` specifiers (the sources import with extensions) name `.js` files once built. */
const TS_SPECIFIER = /((?:from\s+|import\s*\(\s*)["']\.{1,2}\/[^"']+)\.ts(["'])/g;

export function emitDeclarations(root: string, entries: Record<string, string>): void {
  const out = resolve(root, "dist/declarations");
  rmSync(out, { recursive: true, force: true });
  const base = ts.getParsedCommandLineOfConfigFile(resolve(root, "widgets/tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  if (!base) throw new Error("widgets/tsconfig.json could not be read");
  const program = ts.createProgram(Object.values(entries), {
    ...base.options,
    noEmit: false,
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: root,
    outDir: out,
    // The test runner's types are for the widgets' tests, which are not declared.
    types: ["vite/client"],
    // `tsc -p widgets` type checks; this only writes the declarations, in a fraction of the time.
    noCheck: true,
  });
  const { diagnostics } = program.emit(undefined, (file, text) => {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text.replace(TS_SPECIFIER, "$1.js$2"));
  });
  if (diagnostics.length > 0) throw new Error(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" }));

  // dist/<name>.d.ts describes dist/<name>.js.
  for (const [name, source] of Object.entries(entries)) {
    const declaration = `./${relative(resolve(root, "dist"), resolve(out, relative(root, source))).replace(/\.ts$/, ".js")}`;
    writeFileSync(resolve(root, "dist", `${name}.d.ts`), `export * from ${JSON.stringify(declaration)};\n`);
  }
}
