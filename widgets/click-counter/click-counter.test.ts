import { afterEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./click-counter.ts";
import type { ClickCounter } from "./click-counter.ts";
import { nextEvent } from "../internal/test-support.ts";

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

afterEach(() => {
  document.body.replaceChildren();
});

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
});
