/**
 * The one script tag a page needs: it defines each edge-widgets element the first time the page
 * uses it, loading only that widget's code, for elements in the page at load and for those added
 * later (also inside open shadow roots it can see). Load one widget eagerly with `widgets/<tag>.js`.
 *
 * It imports nothing itself, so a page pays for a widget only when one of its tags appears.
 */
export type { ClickCounter } from "./click-counter/click-counter.ts";
export type { EdgeChat } from "./edge-chat/edge-chat.ts";
export type { ScheduleForm } from "./schedule-form/schedule-form.ts";
export type { StreamFeed } from "./stream-feed/stream-feed.ts";
export type { VideoGallery } from "./video-gallery/video-gallery.ts";

// The bundler turns each import into a file resolved against this script's own URL, so the
// widgets load from wherever the script came from (the backend's /widgets.js, or a CDN).
const widgets: Record<string, () => Promise<unknown>> = {
  "click-counter": () => import("./click-counter/click-counter.ts"),
  "edge-chat": () => import("./edge-chat/edge-chat.ts"),
  "schedule-form": () => import("./schedule-form/schedule-form.ts"),
  "stream-feed": () => import("./stream-feed/stream-feed.ts"),
  "video-gallery": () => import("./video-gallery/video-gallery.ts"),
};

const loading = new Set<string>();
const watched = new WeakSet<Node>();

/** Loads `tag`'s widget unless it is loading or defined (by this script, another copy, or `<tag>.js`). */
function load(tag: string): void {
  const widget = widgets[tag];
  if (!widget || loading.has(tag) || customElements.get(tag)) return;
  loading.add(tag);
  widget().catch((error: unknown) => {
    // A later use of the tag tries again (the network may be back).
    loading.delete(tag);
    console.error(`edge-widgets: could not load <${tag}>`, error);
  });
}

/**
 * Loads every widget used in `root` and keeps watching it for widgets added later, descending
 * into the open shadow roots it finds. Call it for a shadow root this script cannot see (one
 * attached after its host was added, or a closed one).
 */
export function discover(root: Document | ShadowRoot | Element): void {
  if (root instanceof Element) {
    if (!root.matches(":defined")) load(root.localName);
  } else if (!watched.has(root)) {
    watched.add(root);
    observer.observe(root, { childList: true, subtree: true });
  }
  for (const element of root.querySelectorAll(":not(:defined)")) load(element.localName);
  for (const element of root.querySelectorAll("*")) if (element.shadowRoot) discover(element.shadowRoot);
  if (root instanceof Element && root.shadowRoot) discover(root.shadowRoot);
}

const observer = new MutationObserver((records) => {
  for (const record of records) for (const node of record.addedNodes) if (node instanceof Element) discover(node);
});

discover(document);
