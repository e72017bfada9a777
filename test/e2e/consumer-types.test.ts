/**
 * The package as a TypeScript user installs it: `npm pack`, unpacked into a throwaway project
 * next to the frameworks from this repository's own install (nothing is downloaded), then
 * compiled with tsc as one project (test/fixtures/consumer), its Svelte components with
 * svelte-check (svelte/tsconfig.json). Each framework's folder holds `good*` files, which must
 * compile, and files that must fail, each naming its expected error at its top
 * (`// fails with: …`, `<!-- fails with: … -->`). Solid and Vue files choose their JSX with a
 * `@jsxImportSource` pragma.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offlineEnv, root, spawnWatched } from "../../scripts/backend.ts";

/** What the consumer project gets from this repository's install: the frameworks, the package's dependencies and tsc. */
const LINKED = ["typescript", "react", "@types/react", "csstype", "solid-js", "seroval", "seroval-plugins", "vue", "@vue", "svelte", "lit", "lit-html", "lit-element", "@lit", "@lit-labs", "@types/trusted-types"];
const FRAMEWORKS = ["react", "solid", "vue", "svelte"];

let project: string;
/** The checkers' errors (and svelte-check's warnings) by file (`react/good.tsx`, or one of the package's own). */
const errors = new Map<string, string[]>();
const report = (file: string, line: string) => errors.set(file, [...(errors.get(file) ?? []), line]);
beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), "edge-widgets-consumer-"));
  // dist/ is built before the tests run; packing it again would only repeat that.
  const tarball = execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", project, "--json"], {
    cwd: root,
    env: { ...offlineEnv(), npm_config_loglevel: "error" },
    encoding: "utf8",
  });
  const [{ filename }] = JSON.parse(tarball) as [{ filename: string }];
  const installed = join(project, "node_modules", "edge-widgets");
  mkdirSync(installed, { recursive: true });
  execFileSync("tar", ["-xzf", join(project, filename), "-C", installed, "--strip-components=1"]);
  for (const name of LINKED) {
    mkdirSync(join(project, "node_modules", name, ".."), { recursive: true });
    symlinkSync(resolve(root, "node_modules", name), join(project, "node_modules", name));
  }
  const app = join(project, "app");
  cpSync(resolve(root, "test/fixtures/consumer"), app, { recursive: true });
  // Side by side: neither waits for the other's CPU-bound minutes on a busy machine.
  await Promise.all([compile(app), checkSvelte(app)]);
  // Two checkers at once: more than the e2e hook default when the machine is shared.
}, 120_000);
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

/** Runs a checker through the watchdog and returns what it printed on stdout. */
async function run(args: string[]): Promise<string> {
  const child = spawnWatched(process.execPath, args, { env: offlineEnv(), stdout: "pipe", stderr: "inherit" });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  await new Promise((done) => child.once("exit", done));
  return output;
}

async function compile(app: string): Promise<void> {
  const output = await run([join(project, "node_modules/typescript/bin/tsc"), "-p", app, "--pretty", "false"]);
  // An error's first line names its file (relative to the watchdog's directory, the repository); the indented lines after it explain it.
  let file = "(elsewhere)";
  for (const line of output.split("\n").filter(Boolean)) {
    if (!line.startsWith(" ")) {
      const named = /^([^(]+)\(\d+,\d+\): error/.exec(line)?.[1];
      file = named ? relative(app, resolve(root, named)) : "(elsewhere)";
    }
    report(file, line);
  }
}

/** svelte-check from this repository's install, on the consumer project's Svelte components; one JSON line per problem. */
async function checkSvelte(app: string): Promise<void> {
  const output = await run([resolve(root, "node_modules/svelte-check/bin/svelte-check"), "--workspace", app, "--tsconfig", join(app, "svelte/tsconfig.json"), "--output", "machine-verbose", "--no-color"]);
  if (!/ COMPLETED /.test(output)) report("(elsewhere)", `svelte-check did not complete:\n${output}`);
  for (const line of output.split("\n")) {
    const json = line.slice(line.indexOf(" ") + 1);
    if (!json.startsWith("{")) continue;
    const problem = JSON.parse(json) as { type: string; filename: string; message: string };
    report(problem.filename, `${problem.type} ${problem.message}`);
  }
}

describe.each(FRAMEWORKS)("a %s + TypeScript project using the packed package", (framework) => {
  const fixtures = readdirSync(resolve(root, "test/fixtures/consumer", framework)).filter((file) => /\.(tsx|svelte)$/.test(file));
  const good = fixtures.filter((file) => file.startsWith("good"));

  it.each(good)("compiles typed tags, attributes and events in %s", (file) => {
    expect(errors.get(`${framework}/${file}`) ?? []).toEqual([]);
    const elsewhere = [...errors].filter(([file]) => !FRAMEWORKS.includes(file.split("/")[0] ?? ""));
    expect(elsewhere).toEqual([]);
  });

  it.each(fixtures.filter((file) => !good.includes(file)))("refuses %s", (file) => {
    const expected = /^(?:\/\/|<!--) fails with: (.+?)(?: -->)?$/m.exec(readFileSync(resolve(root, "test/fixtures/consumer", framework, file), "utf8"))?.[1];
    expect(expected, `${file} names its error`).toBeDefined();
    expect((errors.get(`${framework}/${file}`) ?? []).join("\n")).toContain(expected);
  });
});
