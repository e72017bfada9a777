/**
 * Fills the page's `<template>` for one stream item. Stream data comes from whoever may append
 * to the stream, so it only ever lands in text and in the attributes listed here: a URL
 * attribute elsewhere (a form's `action`, a button's `formaction`, an `<object>`'s `data`, an
 * SVG `<animate>`'s `to`) would run a `javascript:` URL in the host page.
 */

/** Attributes filled as plain text on any element, besides `aria-*` and `data-*`. */
const TEXT_ATTRIBUTES = new Set([
  "alt",
  "title",
  "lang",
  "dir",
  "datetime",
  "value",
  "label",
  "width",
  "height",
  "colspan",
  "rowspan",
  "start",
  "min",
  "max",
  "low",
  "high",
  "optimum",
  // A class only picks among styles the page owner wrote into the template; it adds no CSS.
  "class",
]);
const ARIA_OR_DATA = /^(aria|data)-[a-z0-9-]+$/;

/**
 * URL attributes and the elements that may take them, as http(s) URLs only. Elements that
 * load a page, a style sheet or a script (`iframe`, `link`, `base`, `script`, `embed`) are not
 * listed: a feed item shows media and links, nothing more. SVG elements are prefixed `svg:`.
 */
const URL_ATTRIBUTES = new Map([
  ["href", new Set(["a", "area", "svg:a"])],
  ["src", new Set(["img", "audio", "video", "source", "track"])],
  ["srcset", new Set(["img", "source"])],
  ["poster", new Set(["video"])],
  ["cite", new Set(["blockquote", "q", "del", "ins"])],
]);

/** Resolves `value` against the page; only an http(s) URL comes back, made absolute. */
export function httpUrl(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  try {
    const url = new URL(value.trim(), document.baseURI);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `srcset` whose every candidate is an http(s) URL with a width or density descriptor,
 * rewritten from the parts checked so the browser reads exactly what was checked; else nothing.
 */
function httpSrcset(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const candidates: string[] = [];
  let rest = value;
  for (;;) {
    rest = rest.replace(/^[\s,]+/, "");
    if (rest === "") break;
    const url = /^\S+/.exec(rest)![0];
    rest = rest.slice(url.length);
    let descriptor = "";
    // As the HTML parser reads it: commas ending the URL end the candidate.
    if (!url.endsWith(",")) {
      descriptor = /^[^,]*/.exec(rest)![0];
      rest = rest.slice(descriptor.length);
      descriptor = descriptor.trim();
    }
    const href = httpUrl(url.replace(/,+$/, ""));
    if (href === undefined || !/^(\d+(\.\d+)?[wx])?$/.test(descriptor)) return undefined;
    candidates.push(descriptor ? `${href} ${descriptor}` : href);
  }
  return candidates.length > 0 ? candidates.join(", ") : undefined;
}

/** Strings, numbers and booleans as text; anything else is no text. */
export const text = (value: unknown): string | undefined =>
  typeof value === "string" ? value : typeof value === "number" || typeof value === "boolean" ? String(value) : undefined;

/** How `attribute` of `element` takes stream data, or undefined when it never does. */
function filler(element: Element, attribute: string): ((value: unknown) => string | undefined) | undefined {
  const elements = URL_ATTRIBUTES.get(attribute);
  if (elements) {
    const name = element instanceof SVGElement ? `svg:${element.localName}` : element.localName;
    if (!elements.has(name)) return undefined;
    return attribute === "srcset" ? httpSrcset : httpUrl;
  }
  return TEXT_ATTRIBUTES.has(attribute) || ARIA_OR_DATA.test(attribute) ? text : undefined;
}

const warned = new Set<string>();

/** Tells the page owner, once, why a `data-field-<attribute>` hook does nothing. */
function refuse(element: Element, attribute: string): void {
  const hook = `${element.localName} data-field-${attribute}`;
  if (warned.has(hook)) return;
  warned.add(hook);
  console.warn(`<stream-feed>: <${element.localName} data-field-${attribute}> is never filled; see the README for the attributes a template may fill.`);
}

function valueAt(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split(".")) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Clones the page's template for one item and fills its `data-field*` hooks. */
export function fillTemplate(template: HTMLTemplateElement, value: unknown): Node {
  const fragment = template.content.cloneNode(true) as DocumentFragment;
  for (const element of fragment.querySelectorAll("*")) {
    for (const attribute of [...element.attributes]) {
      if (attribute.name === "data-field") {
        const field = valueAt(value, attribute.value);
        element.textContent = field === undefined || field === null ? "" : typeof field === "object" ? JSON.stringify(field) : String(field);
      } else if (attribute.name.startsWith("data-field-")) {
        const target = attribute.name.slice("data-field-".length);
        const fill = filler(element, target);
        if (!fill) {
          refuse(element, target);
          continue;
        }
        const field = fill(valueAt(value, attribute.value));
        if (field === undefined) element.removeAttribute(target);
        else element.setAttribute(target, field);
        if (target === "href" && element instanceof HTMLAnchorElement) element.rel = "noopener noreferrer";
      }
    }
  }
  const wrapper = document.createElement("div");
  wrapper.className = "templated";
  wrapper.append(fragment);
  return wrapper;
}
