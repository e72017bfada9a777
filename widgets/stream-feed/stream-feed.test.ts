import { afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { DEV_STREAMS_SECRET, mintStreamToken } from "../../edge/streams/tokens.ts";
import "./stream-feed.ts";
import type { StreamFeed } from "./stream-feed.ts";
import { accessibilityViolations, colorScheme, focused, press, until } from "../internal/test-support.ts";

// The test backend runs on 127.0.0.1 without STREAMS_JWT_SECRET, so it takes dev-secret tokens.
const endpoint = inject("endpoint");
const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;
let writeToken = "";
let readToken = "";

beforeAll(async () => {
  writeToken = await mintStreamToken(DEV_STREAMS_SECRET, { scope: "write" });
  readToken = await mintStreamToken(DEV_STREAMS_SECRET, { scope: "read" });
});

async function createStream(name: string, options: { public?: boolean; items?: unknown[] } = {}): Promise<void> {
  const response = await fetch(`${endpoint}/v1/stream/${name}${options.public === false ? "" : "?public=true"}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${writeToken}` },
    body: JSON.stringify(options.items ?? []),
  });
  expect(response.status).toBe(201);
}

async function append(name: string, value: unknown, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(`${endpoint}/v1/stream/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${writeToken}`, ...headers },
    body: JSON.stringify([value]),
  });
  expect(response.status).toBe(204);
}

function mount(attributes: Record<string, string>, inner = ""): StreamFeed {
  const element = document.createElement("stream-feed");
  element.innerHTML = inner;
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  document.body.append(element);
  return element;
}

const items = (element: StreamFeed) => [...element.shadowRoot!.querySelectorAll<HTMLElement>('[part="item"]')];
const texts = (element: StreamFeed) => items(element).map((item) => item.textContent!.replace(/\s+/g, " ").trim());
const status = (element: StreamFeed) => element.shadowRoot!.querySelector('[part="status"]')!.textContent!.trim();

afterEach(async () => {
  document.body.replaceChildren();
  sessionStorage.clear();
  await colorScheme("light");
});

describe("<stream-feed>", () => {
  it("shows the items already in the stream newest first, then live appends at the top", async () => {
    const stream = unique("news");
    await createStream(stream, { items: [{ text: "one" }, { text: "two" }] });
    const element = mount({ stream, endpoint });
    await until(element, () => texts(element).length === 2 && element.getAttribute("connection") === "open");
    expect(texts(element)).toEqual(["two", "one"]);
    await append(stream, { text: "three" });
    await until(element, () => texts(element).length === 3);
    expect(texts(element)).toEqual(["three", "two", "one"]);
  });

  it("keeps at most `limit` items", async () => {
    const stream = unique("limited");
    await createStream(stream, { items: [1, 2, 3, 4, 5].map((n) => ({ text: `n${n}` })) });
    const element = mount({ stream, endpoint, limit: "3" });
    await until(element, () => texts(element).length === 3);
    expect(texts(element)).toEqual(["n5", "n4", "n3"]);
    await append(stream, { text: "n6" });
    await until(element, () => texts(element)[0] === "n6");
    expect(texts(element)).toEqual(["n6", "n5", "n4"]);
  });

  it("lists oldest first with order=oldest-first", async () => {
    const stream = unique("ordered");
    await createStream(stream, { items: [{ text: "a" }, { text: "b" }] });
    const element = mount({ stream, endpoint, order: "oldest-first" });
    await until(element, () => texts(element).length === 2);
    expect(texts(element)).toEqual(["a", "b"]);
  });

  it("renders title, text, time and url by default, as text, linking only http(s) with noopener", async () => {
    const stream = unique("default-look");
    await createStream(stream, {
      items: [
        { title: "Launch", text: "<img src=x onerror=alert(1)>", time: "2026-01-02T03:04:05Z", url: "https://example.com/launch" },
        { title: "Sneaky", url: "javascript:alert(1)" },
      ],
    });
    const element = mount({ stream, endpoint, order: "oldest-first" });
    await until(element, () => items(element).length === 2);
    const [first, second] = items(element);
    expect(first!.querySelector('[part="text"]')!.textContent).toBe("<img src=x onerror=alert(1)>");
    expect(first!.querySelector("img")).toBeNull();
    const link = first!.querySelector("a")!;
    expect(link.href).toBe("https://example.com/launch");
    expect(link.rel).toBe("noopener noreferrer");
    expect(first!.querySelector("time")!.dateTime).toBe("2026-01-02T03:04:05.000Z");
    expect(second!.querySelector("a")).toBeNull();
    expect(second!.textContent).toContain("Sneaky");
  });

  it("renders items through a <template> child with data-field hooks", async () => {
    const stream = unique("templated");
    await createStream(stream, { items: [{ headline: "Hello <b>", author: { name: "Ada" }, link: "https://example.com/a" }] });
    const template = `<template><article part="card"><h3 data-field="headline"></h3><span data-field="author.name"></span><a data-field-href="link">read</a></article></template>`;
    const element = mount({ stream, endpoint }, template);
    await until(element, () => items(element).length === 1);
    const card = items(element)[0]!;
    expect(card.querySelector("h3")!.textContent).toBe("Hello <b>");
    expect(card.querySelector("b")).toBeNull();
    expect(card.querySelector("span")!.textContent).toBe("Ada");
    expect(card.querySelector("a")!.getAttribute("href")).toBe("https://example.com/a");
    expect(card.querySelector("a")!.rel).toBe("noopener noreferrer");
  });

  describe("a template filled from hostile stream data", () => {
    // Mixed case, a leading space and a tab: what a careless prefix check lets through.
    // The script, if it ever ran, would tell the page under test (it runs in a frame of its own).
    const hostile = " Java\tScript:void(parent.dispatchEvent(new Event('pwned')))";

    async function card(template: string, item: Record<string, unknown>): Promise<HTMLElement> {
      const stream = unique("hostile");
      await createStream(stream, { items: [item] });
      const element = mount({ stream, endpoint }, `<template>${template}</template>`);
      await until(element, () => items(element).length === 1);
      return items(element)[0]!;
    }

    it.each([
      ["action", `<form data-field-action="link"></form>`, "form"],
      ["formaction", `<form><button data-field-formaction="link">Send</button></form>`, "button"],
      ["data", `<object data-field-data="link"></object>`, "object"],
      ["poster", `<video data-field-poster="link"></video>`, "video"],
      ["ping", `<a href="https://example.com/" data-field-ping="link">read</a>`, "a"],
      ["cite", `<blockquote data-field-cite="link">quote</blockquote>`, "blockquote"],
      ["srcset", `<img alt="" data-field-srcset="link">`, "img"],
      ["href", `<a data-field-href="link">read</a>`, "a"],
      ["src", `<img alt="" data-field-src="link">`, "img"],
      ["xlink:href", `<svg><a data-field-xlink:href="link"><text>read</text></a></svg>`, "svg a"],
      ["href", `<svg><a data-field-href="link"><text>read</text></a></svg>`, "svg a"],
      ["to", `<svg><a href="https://example.com/"><animate attributeName="href" data-field-to="link"></animate></a></svg>`, "animate"],
      ["from", `<svg><a href="https://example.com/"><animate attributeName="href" data-field-from="link"></animate></a></svg>`, "animate"],
      ["values", `<svg><a href="https://example.com/"><animate attributeName="href" data-field-values="link"></animate></a></svg>`, "animate"],
    ])("never puts a javascript: URL into %s (%s)", async (attribute, template, selector) => {
      const filled = (await card(template, { link: hostile })).querySelector(selector)!;
      expect(filled.getAttribute(attribute)).toBeNull();
    });

    it("drops a srcset when any one of its candidates is not http(s)", async () => {
      const img = (await card(`<img alt="" data-field-srcset="set">`, { set: "https://example.com/a.png 1x, javascript:alert(1) 2x" })).querySelector("img")!;
      expect(img.getAttribute("srcset")).toBeNull();
    });

    it("runs no script when a submit button of the template is clicked", async () => {
      // The form submits into a frame of its own, so the page under test stays where it is.
      const sink = document.createElement("iframe");
      sink.name = "feed-sink";
      document.body.append(sink);
      const template = `<form action="about:blank" target="feed-sink" data-field-action="link"><button data-field-formaction="link">Send</button></form>`;
      const button = (await card(template, { link: hostile })).querySelector("button")!;
      // Either the harmless submission lands in the frame, or the script runs.
      const outcome = Promise.race([
        new Promise((done) => sink.addEventListener("load", () => done("submitted"), { once: true })),
        new Promise((done) => window.addEventListener("pwned", () => done("script ran"), { once: true })),
      ]);
      button.click();
      expect(await outcome).toBe("submitted");
    });

    it("never sets event handlers, style, or attributes outside the allowlist, whatever the value", async () => {
      const template = `<div data-field-onclick="code" data-field-style="css" data-field-id="plain" data-field-name="plain"></div>
        <form><button data-field-formaction="safe">Send</button></form>
        <iframe data-field-src="safe"></iframe>
        <link rel="stylesheet" data-field-href="safe">`;
      const filled = await card(template, { code: "parent.dispatchEvent(new Event('pwned'))", css: "display: none", plain: "x", safe: "https://example.com/" });
      const div = filled.querySelector("div")!;
      for (const name of ["onclick", "style", "id", "name"]) expect(div.getAttribute(name), name).toBeNull();
      expect(filled.querySelector("button")!.getAttribute("formaction")).toBeNull();
      expect(filled.querySelector("iframe")!.getAttribute("src")).toBeNull();
      expect(filled.querySelector("link")!.getAttribute("href")).toBeNull();
    });

    it("fills the allowed attributes: http(s) URLs made absolute, everything else as text", async () => {
      const template = `<a data-field-href="page" data-field-title="caption" data-field-aria-label="caption" data-field-data-kind="kind">read</a>
        <img data-field-src="image" data-field-alt="caption" data-field-srcset="images">
        <video data-field-poster="image"></video>
        <blockquote data-field-cite="page" data-field-lang="lang">quote</blockquote>
        <time data-field-datetime="when"></time>
        <span data-field-class="kind"></span>`;
      const filled = await card(template, {
        page: "  https://example.com/story  ",
        caption: "A <b>story</b>",
        kind: "breaking",
        image: "/images/story.png",
        images: "https://example.com/s.png 1x,https://example.com/l.png 2x",
        lang: "fr",
        when: "2026-01-02",
      });
      const link = filled.querySelector("a")!;
      expect(link.getAttribute("href")).toBe("https://example.com/story");
      expect(link.rel).toBe("noopener noreferrer");
      expect(link.title).toBe("A <b>story</b>");
      expect(link.getAttribute("aria-label")).toBe("A <b>story</b>");
      expect(link.dataset.kind).toBe("breaking");
      const img = filled.querySelector("img")!;
      expect(img.getAttribute("src")).toBe(new URL("/images/story.png", document.baseURI).href);
      expect(img.alt).toBe("A <b>story</b>");
      expect(img.getAttribute("srcset")).toBe("https://example.com/s.png 1x, https://example.com/l.png 2x");
      expect(filled.querySelector("video")!.getAttribute("poster")).toBe(img.getAttribute("src"));
      expect(filled.querySelector("blockquote")!.getAttribute("cite")).toBe("https://example.com/story");
      expect(filled.querySelector("blockquote")!.lang).toBe("fr");
      expect(filled.querySelector("time")!.dateTime).toBe("2026-01-02");
      expect(filled.querySelector("span")!.className).toBe("breaking");
    });
  });

  it("shows that the stream has ended when its writer closes it", async () => {
    const stream = unique("ending");
    await createStream(stream, { items: [{ text: "last words" }] });
    const element = mount({ stream, endpoint });
    await until(element, () => element.getAttribute("connection") === "open");
    const response = await fetch(`${endpoint}/v1/stream/${stream}`, {
      method: "POST",
      headers: { "Stream-Closed": "true", Authorization: `Bearer ${writeToken}` },
    });
    expect(response.status).toBe(204);
    await until(element, () => element.getAttribute("connection") === "closed");
    expect(status(element)).toBe("This feed has ended.");
    expect(texts(element)).toEqual(["last words"]);
  });

  it("resumes where it left off when mounted again in the same tab: no duplicates, no gaps", async () => {
    const stream = unique("resume");
    await createStream(stream, { items: [{ text: "a" }, { text: "b" }] });
    const first = mount({ stream, endpoint });
    await until(first, () => texts(first).length === 2);
    first.remove();
    await append(stream, { text: "c" });
    const second = mount({ stream, endpoint });
    await until(second, () => texts(second).length === 3);
    expect(texts(second)).toEqual(["c", "b", "a"]);
    await append(stream, { text: "d" });
    await until(second, () => texts(second).length === 4);
    expect(texts(second)).toEqual(["d", "c", "b", "a"]);
  });

  it("pauses while the page is hidden and catches up when it is visible again", async () => {
    const stream = unique("hidden");
    await createStream(stream, { items: [{ text: "before" }] });
    const element = mount({ stream, endpoint });
    await until(element, () => texts(element).length === 1 && element.getAttribute("connection") === "open");
    const visibility = Object.getOwnPropertyDescriptor(Document.prototype, "visibilityState")!;
    try {
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
      await until(element, () => element.getAttribute("connection") === "closed");
      expect(status(element)).toBe("Paused while the page is hidden.");
      await append(stream, { text: "while hidden" });
      expect(texts(element)).toEqual(["before"]);
    } finally {
      Object.defineProperty(document, "visibilityState", visibility);
      delete (document as unknown as Record<string, unknown>).visibilityState;
    }
    document.dispatchEvent(new Event("visibilitychange"));
    await until(element, () => texts(element).length === 2);
    expect(texts(element)).toEqual(["while hidden", "before"]);
  });

  it("follows with long-poll when told to (the fallback when SSE cannot get through)", async () => {
    const stream = unique("long-poll");
    await createStream(stream);
    const element = mount({ stream, endpoint, live: "long-poll" });
    await until(element, () => element.getAttribute("connection") === "open");
    await append(stream, { text: "polled" });
    await until(element, () => texts(element).length === 1);
    expect(texts(element)).toEqual(["polled"]);
  });

  it("reads a private stream with a token and explains the refusal without one", async () => {
    const stream = unique("private");
    await createStream(stream, { public: false, items: [{ text: "members only" }] });
    const refused = mount({ stream, endpoint });
    await until(refused, () => refused.getAttribute("connection") === "closed");
    expect(status(refused)).toMatch(/private/);
    const allowed = mount({ stream, endpoint, token: readToken });
    await until(allowed, () => texts(allowed).length === 1);
    expect(texts(allowed)).toEqual(["members only"]);
  });

  it("waits for a stream that does not exist yet, then shows its items", async () => {
    const stream = unique("later");
    const element = mount({ stream, endpoint });
    await until(element, () => status(element).startsWith("Waiting for this stream"));
    expect(element.getAttribute("connection")).toBe("reconnecting");
    await createStream(stream, { items: [{ text: "first at last" }] });
    // Coming back online skips the backoff wait, as it does after a network drop.
    window.dispatchEvent(new Event("online"));
    await until(element, () => texts(element).length === 1);
    expect(texts(element)).toEqual(["first at last"]);
    expect(element.getAttribute("connection")).toBe("open");
  });

  it("explains a bad stream path instead of connecting", async () => {
    for (const stream of ["no spaces allowed", "a//b", "__ds/subscriptions"]) {
      const element = mount({ stream, endpoint });
      await element.updateComplete;
      expect(element.getAttribute("connection")).toBe("closed");
      expect(status(element)).toMatch(/stream path/);
      element.remove();
    }
  });

  it("follows a stream named by a path", async () => {
    const stream = `${unique("region")}/eu/orders`;
    await createStream(stream, { items: [{ text: "first order" }] });
    const element = mount({ stream, endpoint });
    await until(element, () => texts(element).length === 1 && element.getAttribute("connection") === "open");
    await append(stream, { text: "second order" });
    await until(element, () => texts(element).length === 2);
    expect(texts(element)).toEqual(["second order", "first order"]);
  });
});

describe("<stream-feed> in other languages", () => {
  it("re-renders its notes when its lang changes", async () => {
    const stream = unique("lang");
    await createStream(stream);
    const element = mount({ stream, endpoint, lang: "de" });
    await until(element, () => status(element) === "Noch keine Einträge.");
    element.lang = "ja";
    await until(element, () => status(element) === "まだ項目はありません。");
    element.lang = "es";
    await until(element, () => status(element) === "Aún no hay elementos.");
    element.lang = "fr";
    await until(element, () => status(element) === "Aucun élément pour l’instant.");
    expect(element.shadowRoot!.querySelector('[part="items"]')!.getAttribute("aria-label")).toBe("Flux");
  });

  it("writes item times as the language does", async () => {
    const stream = unique("times");
    const time = "2026-01-02T15:04:05Z";
    await createStream(stream, { items: [{ title: "Jahresstart", time }] });
    const element = mount({ stream, endpoint, lang: "de" });
    const shown = () => element.shadowRoot!.querySelector("time")?.textContent;
    const format = (locale: string) => new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(time));
    await until(element, () => shown() === format("de"));
    expect(shown()).toMatch(/^02\.01\.2026/);
    element.lang = "ar-EG";
    await until(element, () => shown() === format("ar-EG"));
    expect(shown()).toMatch(/[٠-٩]/);
  });

  it("lays items out right to left in Arabic, each item's own text in its own direction", async () => {
    const stream = unique("rtl");
    await createStream(stream, { items: [{ text: "Faster sockets, fewer bytes." }, { title: "عنوان", text: "نص قصير" }] });
    const element = mount({ stream, endpoint, lang: "ar", order: "oldest-first" });
    await until(element, () => items(element).length === 2 && element.getAttribute("dir") === "rtl");
    // An English item keeps its full stop at its end, not at the start of the line.
    expect(getComputedStyle(items(element)[0]!.querySelector('[part="text"]')!).direction).toBe("ltr");
    const item = items(element)[1]!.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(items(element)[1]!.querySelector('[part="text"]')!);
    const text = range.getBoundingClientRect();
    // The short text hugs the right edge (less the item's padding), not the left.
    expect(item.right - text.right).toBeLessThan(20);
    expect(text.left - item.left).toBeGreaterThan(40);
  });

  it("lets strings overrides win, and shows English for a language it has no text for", async () => {
    const stream = unique("override");
    await createStream(stream);
    const element = mount({ stream, endpoint, lang: "fr", strings: '{"empty":"Rien du tout."}' });
    await until(element, () => status(element) === "Rien du tout.");
    const unknown = mount({ stream, endpoint, lang: "qya" });
    await until(unknown, () => status(unknown) === "No items yet.");
    expect(unknown.getAttribute("dir")).toBe("ltr");
  });
});

describe("<stream-feed> from the keyboard", () => {
  it("tabs through the items' links, newest first", async () => {
    const stream = unique("keys");
    await createStream(stream, { items: [{ title: "Older", url: "https://example.com/1" }, { title: "Newer", url: "https://example.com/2" }] });
    const before = document.createElement("button");
    document.body.append(before);
    const element = mount({ stream, endpoint });
    await until(element, () => items(element).length === 2);
    before.focus();
    await press("Tab");
    expect(focused()!.textContent).toBe("Newer");
    await press("Tab");
    expect(focused()!.textContent).toBe("Older");
  });
});

describe.each(["light", "dark"] as const)("<stream-feed> accessibility, %s scheme", (scheme) => {
  it("has no axe violations empty, loaded, waiting, ended, refused and with a bad path", async () => {
    await colorScheme(scheme);
    const empty = unique("axe-empty");
    const loaded = unique("axe-loaded");
    const ended = unique("axe-ended");
    const closed = unique("axe-private");
    await createStream(empty);
    await createStream(loaded, {
      items: [{ title: "Launch", text: "Today", time: "2026-01-02T03:04:05Z", url: "https://example.com/launch" }, "plain", { other: 1 }],
    });
    await createStream(ended, { items: [{ text: "last" }] });
    await createStream(closed, { public: false });
    await fetch(`${endpoint}/v1/stream/${ended}`, { method: "POST", headers: { "Stream-Closed": "true", Authorization: `Bearer ${writeToken}` } });
    const elements = [
      mount({ stream: empty, endpoint }),
      mount({ stream: loaded, endpoint, lang: "ar" }),
      mount({ stream: unique("axe-missing"), endpoint }),
      mount({ stream: ended, endpoint }),
      mount({ stream: closed, endpoint }),
      mount({ stream: "../bad", endpoint }),
    ];
    await Promise.all(elements.map((element) => until(element, () => status(element) !== "" || items(element).length > 0)));
    await until(elements[3]!, () => status(elements[3]!) === "This feed has ended.");
    expect(await accessibilityViolations(document.body)).toEqual([]);
  });
});

