/**
 * The package as a TypeScript user installs it: `npm pack`, unpacked into a throwaway project
 * next to the frameworks from this repository's own install (nothing is downloaded), then
 * compiled with tsc as one project (test/fixtures/consumer). Each framework's folder holds
 * `good.tsx`, which must compile, and files that must fail, each naming its expected error at its
 * top (`// fails with: …`). Solid and Vue files choose their JSX with a `@jsxImportSource` pragma.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { offlineEnv, root } from "../../scripts/backend.ts";

/** What the consumer project gets from this repository's install: the frameworks, the package's dependencies and tsc. */
const LINKED = ["typescript", "react", "@types/react", "csstype", "solid-js", "seroval", "seroval-plugins", "vue", "@vue", "lit", "lit-html", "lit-element", "@lit", "@lit-labs", "@types/trusted-types"];

let project: string;
/** tsc's errors by file (`react/good.tsx`, or one of the package's own). */
const errors = new Map<string, string[]>();
beforeAll(() => {
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
  compile();
});
afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

function compile(): void {
  const dir = join(project, "app");
  cpSync(resolve(root, "test/fixtures/consumer"), dir, { recursive: true });
  let output = "";
  try {
    execFileSync(process.execPath, [join(project, "node_modules/typescript/bin/tsc"), "-p", dir, "--pretty", "false"], { cwd: dir, encoding: "utf8" });
  } catch (error) {
    output = (error as { stdout: string }).stdout;
  }
  // An error's first line names its file; the indented lines after it explain it.
  let file = "(elsewhere)";
  for (const line of output.split("\n").filter(Boolean)) {
    if (!line.startsWith(" ")) file = /^([^(]+)\(\d+,\d+\): error/.exec(line)?.[1] ?? "(elsewhere)";
    errors.set(file, [...(errors.get(file) ?? []), line]);
  }
}

describe.each(["react", "solid", "vue"])("a %s + TypeScript project using the packed package", (framework) => {
  const fixtures = readdirSync(resolve(root, "test/fixtures/consumer", framework)).filter((file) => file.endsWith(".tsx"));

  it("compiles typed tags, attributes and events", () => {
    expect(errors.get(`${framework}/good.tsx`) ?? []).toEqual([]);
    const elsewhere = [...errors].filter(([file]) => !/^(react|solid|vue)\//.test(file));
    expect(elsewhere).toEqual([]);
  });

  it.each(fixtures.filter((file) => file !== "good.tsx"))("refuses %s", (file) => {
    const expected = /^\/\/ fails with: (.+)$/m.exec(readFileSync(resolve(root, "test/fixtures/consumer", framework, file), "utf8"))?.[1];
    expect(expected, `${file} names its error`).toBeDefined();
    expect((errors.get(`${framework}/${file}`) ?? []).join("\n")).toContain(expected);
  });
});
