/**
 * Typings for using the tags in React 19, Vue, Svelte and Solid templates, generated from the
 * custom elements manifest: each element's attributes (typed as the property each one sets)
 * and events (typed by `GlobalEventHandlersEventMap`), spelled the way each framework binds
 * them. They go to dist/types/<framework>.d.ts, exported as `edge-widgets/types/<framework>`.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";

interface ManifestElement {
  tagName?: string;
  name: string;
  attributes?: { name: string; fieldName?: string }[];
  events?: { name: string }[];
}

/** What the manifest says of one tag: its settable attributes and the events it fires. */
interface Element {
  tag: string;
  attributes: { name: string; type: string }[];
  events: string[];
}

export function readElements(manifestFile: string): Element[] {
  const manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as { modules: { declarations?: ManifestElement[] }[] };
  return manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .filter((declaration): declaration is ManifestElement & { tagName: string } => Boolean(declaration.tagName))
    .map((declaration) => ({
      tag: declaration.tagName,
      // An attribute without a property (such as a reflected `connection` state) is the widget's to set.
      attributes: (declaration.attributes ?? [])
        .filter((attribute) => attribute.fieldName)
        .map((attribute) => ({ name: attribute.name, type: `HTMLElementTagNameMap[${JSON.stringify(declaration.tagName)}][${JSON.stringify(attribute.fieldName)}]` })),
      events: (declaration.events ?? []).map((event) => event.name),
    }))
    .sort((a, b) => a.tag.localeCompare(b.tag));
}

const quote = (name: string) => JSON.stringify(name);
const element = (tag: string) => `HTMLElementTagNameMap[${quote(tag)}]`;
const event = (name: string) => `GlobalEventHandlersEventMap[${quote(name)}]`;
const pascal = (name: string) => name.replace(/(?:^|-)(\w)/g, (_, letter: string) => letter.toUpperCase());

/** One object type's members: attributes, then event props named by `eventProp`. */
function members(el: Element, eventProp: (name: string) => string | null, indent: string): string {
  const lines = el.attributes.map((attribute) => `${quote(attribute.name)}?: ${attribute.type};`);
  for (const name of el.events) {
    const prop = eventProp(name);
    if (prop) lines.push(`${quote(prop)}?: (event: ${event(name)}) => void;`);
  }
  return lines.map((line) => `${indent}${line}`).join("\n");
}

const HEADER = `// Generated from custom-elements.json by frameworks/typings.ts.\nimport type {} from "../widgets.js";\n`;

const typings: Record<string, (elements: Element[]) => string> = {
  // React 19 sets a prop as a property when the element has one, and `on<event>` listens to <event>.
  react: (elements) => `${HEADER}import type { DetailedHTMLProps, HTMLAttributes } from "react";

declare module "react" {
  namespace JSX {
    interface IntrinsicElements {
${elements
  .map((el) => `      ${quote(el.tag)}: DetailedHTMLProps<HTMLAttributes<${element(el.tag)}>, ${element(el.tag)}> & {\n${members(el, (name) => `on${name}`, "        ")}\n      };`)
  .join("\n")}
    }
  }
}
`,
  // Vue binds `@edge-message` (and `onEdgeMessage` in TSX) as a listener for edge-message.
  vue: (elements) => `${HEADER}import type { DefineComponent, HTMLAttributes } from "vue";

declare module "vue" {
  interface GlobalComponents {
${elements.map((el) => `    ${quote(el.tag)}: DefineComponent<{\n${members(el, (name) => `on${pascal(name)}`, "      ")}\n    }>;`).join("\n")}
  }
  interface IntrinsicElementAttributes {
${elements.map((el) => `    ${quote(el.tag)}: HTMLAttributes & {\n${members(el, (name) => `on${pascal(name)}`, "      ")}\n    };`).join("\n")}
  }
}
`,
  // Svelte 5 listens with `onedge-message`, Svelte 4 with `on:edge-message`.
  svelte: (elements) => `${HEADER}import type { HTMLAttributes } from "svelte/elements";

declare module "svelte/elements" {
  interface SvelteHTMLElements {
${elements
  .map(
    (el) =>
      `    ${quote(el.tag)}: HTMLAttributes<${element(el.tag)}> & {\n${members(el, (name) => `on${name}`, "      ")}\n${members({ ...el, attributes: [] }, (name) => `on:${name}`, "      ")}\n    };`,
  )
  .join("\n")}
  }
}
`,
  // Solid listens with `on:edge-message`, typed for every element by JSX.CustomEvents (JSX lives in solid-js/jsx-runtime).
  solid: (elements) => {
    const events = [...new Set(elements.flatMap((el) => el.events))].sort();
    return `${HEADER}import type { JSX as SolidJSX } from "solid-js";

declare module "solid-js/jsx-runtime" {
  namespace JSX {
    interface CustomEvents {
${events.map((name) => `      ${quote(name)}: ${event(name)};`).join("\n")}
    }
    interface IntrinsicElements {
${elements.map((el) => `      ${quote(el.tag)}: SolidJSX.HTMLAttributes<${element(el.tag)}> & {\n${members(el, () => null, "        ")}\n      };`).join("\n")}
    }
  }
}
`;
  },
};

export function writeTypings(root: string): void {
  const elements = readElements(resolve(root, "dist/custom-elements.json"));
  const out = resolve(root, "dist/types");
  mkdirSync(out, { recursive: true });
  for (const [framework, typing] of Object.entries(typings)) writeFileSync(resolve(out, `${framework}.d.ts`), typing(elements));
}
