import { afterEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./click-counter.ts";
import type { ClickCounter } from "./click-counter.ts";
import { accessibilityViolations, colorScheme, focused, nextEvent, until } from "../internal/test-support.ts";

const endpoint = inject("endpoint");
const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

function mount(attributes: Record<string, string>, label?: string): ClickCounter {
  const element = document.createElement("click-counter");
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (label) element.textContent = label;
  document.body.append(element);
  return element;
}

const part = (element: Element, name: string) => element.shadowRoot!.querySelector<HTMLElement>(`[part="${name}"]`)!;
const countText = (element: Element) => part(element, "count").textContent!.trim();

afterEach(async () => {
  document.body.replaceChildren();
  document.documentElement.lang = "en";
  await colorScheme("light");
});

const statusText = (element: Element) => part(element, "status").textContent!.trim();

describe("<click-counter>", () => {
  it("shows the current count once connected and reflects the connection", async () => {
    const element = mount({ name: unique("fresh"), endpoint });
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("connecting");
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("open");
    expect(countText(element)).toBe("0");
  });

  it("shows a click in one viewer live in another", async () => {
    const name = unique("shared");
    const first = mount({ name, endpoint });
    const second = mount({ name, endpoint });
    await Promise.all([first, second].map((el) => nextEvent(el, "edge-connection", (e) => e.detail.state === "open")));
    const seen = nextEvent(second, "edge-count", (e) => e.detail.count === 1);
    await userEvent.click(part(first, "button"));
    await seen;
    await second.updateComplete;
    expect(countText(second)).toBe("1");
  });

  it("works from the keyboard: Enter and Space on the focused button add one each", async () => {
    const element = mount({ name: unique("keys"), endpoint });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    part(element, "button").focus();
    const two = nextEvent(element, "edge-count", (e) => e.detail.count === 2);
    await userEvent.keyboard("{Enter}");
    await userEvent.keyboard(" ");
    await two;
  });

  it("announces the count politely and labels the button with its slot", async () => {
    const element = mount({ name: unique("a11y"), endpoint }, "Like");
    await element.updateComplete;
    expect(part(element, "count").getAttribute("aria-live")).toBe("polite");
    expect(part(element, "button").tagName).toBe("BUTTON");
    expect(element.textContent).toBe("Like");
  });

  it("renders the label as text, not HTML", async () => {
    const element = mount({ name: unique("xss"), endpoint });
    element.textContent = "<img src=x onerror=alert(1)>";
    await element.updateComplete;
    expect(element.querySelector("img")).toBeNull();
  });

  it("shows a visible message for a bad name and does not connect", async () => {
    const element = mount({ name: "no spaces allowed", endpoint });
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("closed");
    expect(part(element, "status").textContent).toMatch(/needs a name/);
    expect(part(element, "button").hasAttribute("disabled")).toBe(true);
  });

  it("shows a visible message for a bad endpoint", async () => {
    const element = mount({ name: "ok", endpoint: "ftp://example.com" });
    await element.updateComplete;
    expect(part(element, "status").textContent).toMatch(/Bad endpoint/);
  });

  it("refuses clicks over the rate limit visibly, then keeps the right count", async () => {
    const name = unique("limited");
    const element = mount({ name, endpoint: inject("strictEndpoint") });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    const refused = nextEvent(element, "edge-refused");
    for (let i = 0; i < 5; i++) element.increment();
    const event = await refused;
    expect(event.detail.code).toBe("rate_limited");
    expect(event.detail.retryAfterMs).toBeGreaterThan(0);
    await element.updateComplete;
    expect(part(element, "status").textContent).toMatch(/Too many clicks/);
    expect(part(element, "button").hasAttribute("disabled")).toBe(true);
    const response = await fetch(`${inject("strictEndpoint")}/api/counters/${name}`);
    expect(await response.json()).toEqual({ name, count: 3 });
  });

  it("says why when the address holds too many sockets, and connects once one is free", async () => {
    // The strict backend allows 2 counter sockets per address (test/backends.ts).
    const strict = inject("strictEndpoint");
    const held = [mount({ name: unique("held"), endpoint: strict }), mount({ name: unique("held"), endpoint: strict })];
    await Promise.all(held.map((el) => nextEvent(el, "edge-connection", (e) => e.detail.state === "open")));
    const element = mount({ name: unique("third"), endpoint: strict });
    const busy = await nextEvent(element, "edge-connection", (e) => e.detail.state === "reconnecting");
    expect(busy.detail.state).toBe("reconnecting");
    await element.updateComplete;
    expect(part(element, "status").textContent).toMatch(/Counter busy: too many connections/);
    held[0]!.remove();
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    await element.updateComplete;
    expect(part(element, "status").textContent).toBe("");
  });

  it("shows about how many are watching with show-viewers, saying it is approximate", async () => {
    const name = unique("watched");
    const first = mount({ name, endpoint, "show-viewers": "" });
    const second = mount({ name, endpoint, "show-viewers": "" });
    await Promise.all([first, second].map((el) => nextEvent(el, "edge-connection", (e) => e.detail.state === "open")));
    await expect.poll(() => part(first, "viewers")?.textContent, { timeout: 10_000 }).toMatch(/≈\s*2 watching/);
    expect(part(first, "viewers").textContent).toMatch(/about 2 watching \(approximate\)/);
    second.remove();
    await expect.poll(() => part(first, "viewers").textContent, { timeout: 10_000 }).toMatch(/≈\s*1 watching/);
  });

  it("shows no viewer figure without show-viewers", async () => {
    const element = mount({ name: unique("unwatched"), endpoint });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    await element.updateComplete;
    expect(part(element, "viewers")).toBeNull();
  });

  it("follows a change of name to another counter", async () => {
    const element = mount({ name: unique("before"), endpoint });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    const other = unique("after");
    await fetch(`${endpoint}/api/counters/${other}`);
    const reopened = nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    element.name = other;
    await reopened;
    expect(element.getAttribute("connection")).toBe("open");
  });

  it("closes its socket when removed from the page", async () => {
    const element = mount({ name: unique("removed"), endpoint });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    element.remove();
    expect(element.getAttribute("connection")).toBe("closed");
  });

  it("moves focus to the button with Tab, past the count", async () => {
    const before = document.createElement("button");
    before.textContent = "before";
    document.body.append(before);
    const element = mount({ name: unique("tab"), endpoint });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    before.focus();
    await userEvent.keyboard("{Tab}");
    expect(focused()).toBe(part(element, "button"));
  });
});

describe("<click-counter> in other languages", () => {
  it("takes the page's language, and follows a change of its own lang", async () => {
    document.documentElement.lang = "de";
    const element = mount({ name: "no spaces allowed", endpoint });
    await until(element, () => statusText(element).startsWith("Dieser Zähler braucht einen Namen"));
    element.lang = "fr";
    await until(element, () => statusText(element).startsWith("Ce compteur a besoin d’un nom"));
    element.removeAttribute("lang");
    document.documentElement.lang = "ja";
    await until(element, () => statusText(element).startsWith("このカウンターには"));
  });

  it("takes the language of the closest ancestor with a lang", async () => {
    const section = document.createElement("section");
    section.lang = "es";
    document.body.append(section);
    const element = document.createElement("click-counter");
    element.name = "bad name";
    section.append(element);
    await until(element, () => statusText(element).startsWith("Este contador necesita un nombre"));
    section.lang = "en-GB";
    await until(element, () => statusText(element).startsWith("This counter needs a name"));
  });

  it("writes the count as the language does: grouping in German, Arabic-Indic digits in Egyptian Arabic", async () => {
    const element = mount({ name: unique("many"), endpoint, lang: "de" });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    const all = nextEvent(element, "edge-count", (e) => e.detail.count === 1234);
    for (let i = 0; i < 1234; i++) element.increment();
    await all;
    await until(element, () => countText(element) === "1.234");
    element.lang = "ar-EG";
    await until(element, () => countText(element) === "١٬٢٣٤");
    element.lang = "ar";
    await until(element, () => countText(element) === new Intl.NumberFormat("ar").format(1234));
    element.lang = "fr";
    await until(element, () => countText(element) === "1\u202f234");
  });

  it("lays itself out right to left in Arabic, the count to the right of the button", async () => {
    const element = mount({ name: unique("rtl"), endpoint, lang: "ar" });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "open");
    await until(element, () => element.getAttribute("dir") === "rtl");
    expect(getComputedStyle(part(element, "count")).direction).toBe("rtl");
    expect(part(element, "count").getBoundingClientRect().left).toBeGreaterThan(part(element, "button").getBoundingClientRect().left);
    element.lang = "en";
    await until(element, () => element.getAttribute("dir") === "ltr");
    expect(part(element, "count").getBoundingClientRect().left).toBeLessThan(part(element, "button").getBoundingClientRect().left);
  });

  it("keeps a dir the page set on it", async () => {
    const element = mount({ name: unique("dir"), endpoint, lang: "ar", dir: "ltr" });
    await element.updateComplete;
    await until(element, () => part(element, "button").textContent!.trim() === "+1");
    expect(element.getAttribute("dir")).toBe("ltr");
  });

  it("lets strings overrides win over the built-in language, from the attribute or the property", async () => {
    const element = mount({ name: "bad name", endpoint, lang: "de", strings: '{"badName":"Name fehlt!","add":"Gefällt mir"}' });
    await until(element, () => statusText(element) === "Name fehlt!");
    expect(element.shadowRoot!.querySelector("slot")!.textContent).toBe("Gefällt mir");
    element.strings = { badName: "Falscher Name" };
    await until(element, () => statusText(element) === "Falscher Name");
  });

  it("shows English for a language it has no text for, without errors", async () => {
    const errors: unknown[] = [];
    const onError = (event: ErrorEvent) => errors.push(event.error);
    window.addEventListener("error", onError);
    for (const lang of ["tlh", "not a language", "zz-ZZ"]) {
      const element = mount({ name: "bad name", endpoint, lang });
      await until(element, () => statusText(element).startsWith("This counter needs a name"));
      expect(element.getAttribute("dir")).toBe("ltr");
    }
    window.removeEventListener("error", onError);
    expect(errors).toEqual([]);
  });
});

describe.each(["light", "dark"] as const)("<click-counter> accessibility, %s scheme", (scheme) => {
  it("has no axe violations loaded, refused and with a bad name", async () => {
    await colorScheme(scheme);
    const loaded = mount({ name: unique("axe"), endpoint });
    await nextEvent(loaded, "edge-connection", (e) => e.detail.state === "open");
    const broken = mount({ name: "bad name", endpoint, lang: "ar" });
    await until(broken, () => statusText(broken) !== "");
    const limited = mount({ name: unique("axe-limited"), endpoint: inject("strictEndpoint") });
    await nextEvent(limited, "edge-connection", (e) => e.detail.state === "open");
    const refused = nextEvent(limited, "edge-refused");
    for (let i = 0; i < 5; i++) limited.increment();
    await refused;
    await limited.updateComplete;
    expect(await accessibilityViolations(document.body)).toEqual([]);
  });

  it("has no axe violations while reconnecting", async () => {
    await colorScheme(scheme);
    const strict = inject("strictEndpoint");
    const held = [mount({ name: unique("held"), endpoint: strict }), mount({ name: unique("held"), endpoint: strict })];
    await Promise.all(held.map((el) => nextEvent(el, "edge-connection", (e) => e.detail.state === "open")));
    const element = mount({ name: unique("third"), endpoint: strict });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "reconnecting");
    await element.updateComplete;
    expect(await accessibilityViolations(element)).toEqual([]);
  });
});

