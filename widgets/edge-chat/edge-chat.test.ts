import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { userEvent } from "vitest/browser";
import "./edge-chat.ts";
import type { ChatMessage, EdgeChat } from "./edge-chat.ts";
import { nextEvent } from "../internal/test-support.ts";

const endpoint = inject("endpoint");
const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

function mount(attributes: Record<string, string>): EdgeChat {
  const element = document.createElement("edge-chat");
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  document.body.append(element);
  return element;
}

const shadow = (element: Element) => element.shadowRoot!;
const part = (element: Element, name: string) => shadow(element).querySelector<HTMLElement>(`[part~="${name}"]`)!;
const shown = (element: Element) =>
  [...shadow(element).querySelectorAll<HTMLElement>("[part~=message]")].map((li) => li.querySelector(".text")!.textContent!);

const opened = (element: HTMLElement) => nextEvent(element, "edge-connection", (e) => e.detail.state === "open");

/** Resolves once `check` holds after one of the element's renders. */
async function until(element: EdgeChat, check: () => boolean): Promise<void> {
  for (;;) {
    await element.updateComplete;
    if (check()) return;
    await new Promise((done) => requestAnimationFrame(done));
  }
}

/** Puts `count` messages in a room through a plain socket, waiting for each to be stored. */
async function seed(room: string, count: number, from = "Seeder"): Promise<void> {
  const url = new URL(`/api/rooms/${room}/ws?name=${from}`, endpoint);
  url.protocol = url.protocol.replace("http", "ws");
  const ws = new WebSocket(url);
  let acked = 0;
  await new Promise<void>((done) => {
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as { type: string };
      if (frame.type === "ready") for (let i = 1; i <= count; i++) ws.send(JSON.stringify({ type: "send", id: `seed-${room}-${i}`, text: `seed ${i}` }));
      if (frame.type === "ack" && ++acked === count) done();
    });
  });
  ws.close();
}

/** Sets a room's moderation as its owner does, through the admin API. */
async function moderate(room: string, tool: "blocked-words" | "slow-mode", body: object): Promise<void> {
  const response = await fetch(new URL(`/api/rooms/${room}/${tool}`, endpoint), {
    method: "PUT",
    headers: { Authorization: "Bearer widget-test-admin-token", "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${tool}: ${response.status} ${await response.text()}`);
}

async function stored(room: string): Promise<ChatMessage[]> {
  const response = await fetch(new URL(`/api/rooms/${room}/messages?limit=200`, endpoint));
  return ((await response.json()) as { messages: ChatMessage[] }).messages;
}

/** Drops the widget's live connection the way a network failure does; the widget reconnects. */
function dropConnection(element: EdgeChat): void {
  const socket = (element as unknown as { socket: { ws: WebSocket } }).socket;
  socket.ws.close(4000, "network gone");
}

/** Signs a verified identity as the host site would. */
function userToken(sub: string, name: string): Promise<string> {
  return new SignJWT({ sub, name, aud: "edge-widgets:chat-identity" })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode("test-chat-identity-secret"));
}

interface KeptMessage {
  clientId: string;
  text: string;
  at: number;
  state: string;
  reason?: string;
}

/** The unconfirmed messages kept in localStorage, with the key they are under. */
function kept(): { key: string; messages: KeptMessage[] }[] {
  return Object.keys(localStorage)
    .filter((key) => key.startsWith("edge-chat:outbox:"))
    .map((key) => ({ key, messages: JSON.parse(localStorage.getItem(key)!) as KeptMessage[] }));
}

/**
 * Writes `text` before the room is reached, then takes the element away as a reload does:
 * the message never left the page, and only storage holds it.
 */
async function leaveUnsent(attributes: Record<string, string>, ...texts: string[]): Promise<{ key: string; messages: KeptMessage[] }> {
  const element = mount(attributes);
  await element.updateComplete;
  expect(element.getAttribute("connection")).toBe("connecting");
  for (const text of texts) element.sendMessage(text);
  element.remove();
  const [entry, ...others] = kept();
  expect(others).toEqual([]);
  return entry!;
}

/** Records the frames every socket of the page sends, passing each one on unchanged. */
function recordSends(): { frames: string[]; stop: () => void } {
  const send = WebSocket.prototype.send;
  const frames: string[] = [];
  WebSocket.prototype.send = function (this: WebSocket, data) {
    if (typeof data === "string") frames.push(data);
    send.call(this, data);
  };
  return { frames, stop: () => void (WebSocket.prototype.send = send) };
}

beforeEach(() => localStorage.clear());
afterEach(() => document.body.replaceChildren());

describe("<edge-chat>", () => {
  it("asks for a display name, joins with it, and remembers it on this site", async () => {
    const room = unique("ask");
    const element = mount({ room, endpoint });
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("closed");
    const input = shadow(element).querySelector<HTMLInputElement>("input[name=name]")!;
    expect(shadow(element).querySelector(`label[for=${input.id}]`)!.textContent).toBe("Your name");
    await userEvent.click(input);
    await userEvent.keyboard("Zoë{Enter}");
    await opened(element);
    expect(localStorage.getItem("edge-chat:name")).toBe("Zoë");
    const second = mount({ room, endpoint });
    await opened(second);
    await until(second, () => shadow(second).querySelector("[part=roster]")!.textContent!.includes("Zoë 2"));
  });

  it("shows the history, then messages from others live, and fires edge-message", async () => {
    const room = unique("live");
    await seed(room, 3);
    const element = mount({ room, endpoint, name: "Reader" });
    await opened(element);
    await until(element, () => shown(element).length === 3);
    expect(shown(element)).toEqual(["seed 1", "seed 2", "seed 3"]);
    const other = mount({ room, endpoint, name: "Writer" });
    await opened(other);
    const received = nextEvent(element, "edge-message", (e) => e.detail.message.text === "hi there");
    other.sendMessage("hi there");
    expect((await received).detail).toMatchObject({ room, own: false, message: { name: "Writer", text: "hi there" } });
    await until(element, () => shown(element).at(-1) === "hi there");
  });

  it("shows markup in a message as text, and makes links clickable without passing the page on", async () => {
    const room = unique("xss");
    const element = mount({ room, endpoint, name: "Mallory" });
    await opened(element);
    const hostile = `<img src=x onerror="window.hacked=1"> see https://example.com/a?b=1.`;
    const own = nextEvent(element, "edge-message", (e) => e.detail.own);
    element.sendMessage(hostile);
    await own;
    await until(element, () => shown(element).includes(hostile));
    expect(shadow(element).querySelector("img")).toBeNull();
    expect((window as { hacked?: number }).hacked).toBeUndefined();
    const link = shadow(element).querySelector<HTMLAnchorElement>("[part~=message] a")!;
    expect(link.href).toBe("https://example.com/a?b=1");
    expect(link.rel).toBe("noopener noreferrer");
    expect(link.target).toBe("_blank");
  });

  it("sends with Enter and makes a new line with Shift+Enter", async () => {
    const room = unique("keys");
    const element = mount({ room, endpoint, name: "Keys" });
    await opened(element);
    await userEvent.click(part(element, "input"));
    const own = nextEvent(element, "edge-message", (e) => e.detail.own);
    await userEvent.keyboard("first line{Shift>}{Enter}{/Shift}second line{Enter}");
    expect((await own).detail.message.text).toBe("first line\nsecond line");
    expect((part(element, "input") as HTMLTextAreaElement).value).toBe("");
    expect(shadow(element).activeElement).toBe(part(element, "input"));
  });

  it("shows a message written before the connection opens as pending, then delivers it exactly once", async () => {
    const room = unique("offline");
    const element = mount({ room, endpoint, name: "Early" });
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("connecting");
    element.sendMessage("written offline");
    await element.updateComplete;
    expect(part(element, "pending").textContent).toMatch(/Sending/);
    await nextEvent(element, "edge-message", (e) => e.detail.own);
    await until(element, () => !part(element, "pending"));
    expect(shown(element)).toEqual(["written offline"]);
    expect(part(element, "own").querySelector(".note")!.textContent).toBe("Sent");
    expect((await stored(room)).map((m) => m.text)).toEqual(["written offline"]);
  });

  it("delivers messages exactly once across a dropped connection, even one whose confirmation was lost", async () => {
    const room = unique("drop");
    const element = mount({ room, endpoint, name: "Flaky" });
    await opened(element);
    element.sendMessage("sent as the line dropped");
    const dropped = nextEvent(element, "edge-connection", (e) => e.detail.state === "reconnecting");
    dropConnection(element);
    await dropped;
    element.sendMessage("sent while reconnecting");
    await element.updateComplete;
    expect(part(element, "status").textContent).toMatch(/Offline: 2 messages will be sent/);
    await opened(element);
    await until(element, () => !part(element, "pending"));
    expect(shown(element)).toEqual(["sent as the line dropped", "sent while reconnecting"]);
    expect((await stored(room)).map((m) => m.text)).toEqual(["sent as the line dropped", "sent while reconnecting"]);
  });

  it("keeps a message written before the room was reached across a reload, and delivers it once", async () => {
    const room = unique("reload-offline");
    const { messages } = await leaveUnsent({ room, endpoint, name: "Reloader" }, "typed offline", "and a second");
    expect(messages.map((m) => [m.text, m.state])).toEqual([
      ["typed offline", "pending"],
      ["and a second", "pending"],
    ]);
    expect(await stored(room)).toEqual([]);

    const element = mount({ room, endpoint, name: "Reloader" });
    await element.updateComplete;
    expect(shadow(element).querySelectorAll("[part~=pending]")).toHaveLength(2);
    expect(shown(element)).toEqual(["typed offline", "and a second"]);
    await until(element, () => !part(element, "pending") && shown(element).length === 2);
    expect(shown(element)).toEqual(["typed offline", "and a second"]);
    expect(shadow(element).querySelectorAll("[part~=own]")).toHaveLength(2);
    expect((await stored(room)).map((m) => m.text)).toEqual(["typed offline", "and a second"]);
    expect(kept()).toEqual([]);
  });

  it("delivers once a message the room stored but whose confirmation the reload cut off", async () => {
    const room = unique("reload-unconfirmed");
    const first = mount({ room, endpoint, name: "Hasty" });
    await opened(first);
    first.sendMessage("sent, then the page went");
    first.remove();
    expect(kept()[0]!.messages.map((m) => m.text)).toEqual(["sent, then the page went"]);
    await expect.poll(() => stored(room)).toHaveLength(1);

    const element = mount({ room, endpoint, name: "Hasty" });
    await element.updateComplete;
    expect(part(element, "pending").textContent).toContain("sent, then the page went");
    // The room's history on joining already holds it: that confirms it.
    await until(element, () => !part(element, "pending"));
    expect(shown(element)).toEqual(["sent, then the page went"]);
    expect((await stored(room)).map((m) => m.text)).toEqual(["sent, then the page went"]);
    expect(kept()).toEqual([]);
  });

  it("does not send a confirmed message again after a reload", async () => {
    const room = unique("reload-confirmed");
    const first = mount({ room, endpoint, name: "Settled" });
    await opened(first);
    const own = nextEvent(first, "edge-message", (e) => e.detail.own);
    first.sendMessage("confirmed once");
    await own;
    expect(kept()).toEqual([]);
    first.remove();

    const sends = recordSends();
    try {
      const element = mount({ room, endpoint, name: "Settled" });
      await element.updateComplete;
      expect(part(element, "pending")).toBeNull();
      await opened(element);
      await until(element, () => shown(element).length === 1);
      expect(shown(element)).toEqual(["confirmed once"]);
      expect(sends.frames.filter((frame) => frame.includes('"send"'))).toEqual([]);
    } finally {
      sends.stop();
    }
  });

  it("ignores stored entries that are malformed, and storage that is not JSON at all", async () => {
    const room = unique("reload-corrupt");
    const { key, messages } = await leaveUnsent({ room, endpoint, name: "Tidy" }, "the good one");
    const good = messages[0]!;
    localStorage.setItem(
      key,
      JSON.stringify([
        42,
        null,
        "text",
        { ...good, clientId: "spaces are not ids" },
        { ...good, clientId: "blank", text: "   " },
        { ...good, clientId: "too-long", text: "x".repeat(2001) },
        { ...good, clientId: "no-time", at: "yesterday" },
        { ...good, clientId: "odd-state", state: "sent" },
        good,
        { ...good, text: "the same id again" },
      ]),
    );
    const element = mount({ room, endpoint, name: "Tidy" });
    await element.updateComplete;
    expect(shown(element)).toEqual(["the good one"]);
    await until(element, () => !part(element, "pending"));
    expect((await stored(room)).map((m) => m.text)).toEqual(["the good one"]);
    expect(localStorage.getItem(key)).toBeNull();
    element.remove();

    localStorage.setItem(key, "{not json");
    const again = mount({ room, endpoint, name: "Tidy" });
    await opened(again);
    expect(part(again, "pending")).toBeNull();
    const own = nextEvent(again, "edge-message", (e) => e.detail.own);
    again.sendMessage("after the junk");
    await own;
    await until(again, () => shown(again).length === 2);
    expect(shown(again)).toEqual(["the good one", "after the junk"]);
    expect(localStorage.getItem(key)).toBeNull();
  });

  it("keeps the oldest 50 unconfirmed messages across a reload; later ones only while the page lives", async () => {
    const room = unique("reload-bound");
    const texts = Array.from({ length: 55 }, (_, i) => `note ${i + 1}`);
    const { messages } = await leaveUnsent({ room, endpoint, name: "Prolific" }, ...texts);
    expect(messages.map((m) => m.text)).toEqual(texts.slice(0, 50));
  });

  it("still sends, from memory, when storage is full", async () => {
    const room = unique("storage-full");
    try {
      // Fill the origin's real quota, down to the last few characters.
      let n = 0;
      for (let size = 1 << 20; size >= 1; size >>= 1) {
        try {
          for (;;) localStorage.setItem(`filler-${n++}`, "x".repeat(size));
        } catch {
          // Full at this size: try smaller ones.
        }
      }
      const element = mount({ room, endpoint, name: "Crammed" });
      await element.updateComplete;
      element.sendMessage("no room in storage");
      expect(kept()).toEqual([]);
      await until(element, () => !part(element, "pending") && shown(element).length === 1);
      expect((await stored(room)).map((m) => m.text)).toEqual(["no room in storage"]);
    } finally {
      localStorage.clear();
    }
  });

  it("brings a message unsent for over a week back as not sent, for the visitor to send or discard", async () => {
    const room = unique("reload-stale");
    const { key, messages } = await leaveUnsent({ room, endpoint, name: "Slow" }, "from last month");
    localStorage.setItem(key, JSON.stringify([{ ...messages[0]!, at: Date.now() - 30 * 24 * 3600 * 1000 }]));
    const element = mount({ room, endpoint, name: "Slow" });
    await opened(element);
    expect(part(element, "refused").textContent).toMatch(/Not sent: written over a week ago/);
    expect(await stored(room)).toEqual([]);
    const retry = [...part(element, "refused").querySelectorAll("button")].find((b) => b.textContent!.trim() === "Retry")!;
    retry.click();
    await until(element, () => !part(element, "refused") && !part(element, "pending"));
    expect((await stored(room)).map((m) => m.text)).toEqual(["from last month"]);
  });

  it("keeps a verified user's unsent messages for that user only", async () => {
    const room = unique("reload-owner");
    const ada = await userToken("user-ada", "Ada");
    await leaveUnsent({ room, endpoint, "user-token": ada }, "Ada's words");
    const other = mount({ room, endpoint, "user-token": await userToken("user-bob", "Bob") });
    await opened(other);
    expect(part(other, "pending")).toBeNull();
    other.remove();
    // A fresh token for the same person (tokens are short-lived) still finds them.
    const element = mount({ room, endpoint, "user-token": await userToken("user-ada", "Ada") });
    await until(element, () => !part(element, "pending") && shown(element).length === 1);
    expect((await stored(room)).map((m) => [m.name, m.text])).toEqual([["Ada", "Ada's words"]]);
  });

  it("shows the rate-limit wait on a refused message, then sends it when the wait is over", async () => {
    const room = unique("limited");
    const element = mount({ room, endpoint: inject("strictEndpoint"), name: "Fast" });
    await opened(element);
    const refused = nextEvent(element, "edge-refused");
    for (let i = 1; i <= 4; i++) element.sendMessage(`quick ${i}`);
    expect((await refused).detail.code).toBe("rate_limited");
    await until(element, () => /retrying in \d+ s/.test(part(element, "pending")?.textContent ?? ""));
    await until(element, () => shown(element).length === 4 && !part(element, "pending"));
    expect(shown(element)).toEqual(["quick 1", "quick 2", "quick 3", "quick 4"]);
  });

  it("marks a message the room refuses as not sent, with the reason, and lets the user discard it", async () => {
    const room = unique("refused");
    const element = mount({ room, endpoint, name: "Bell" });
    await opened(element);
    element.sendMessage("ding\u0007");
    await until(element, () => part(element, "refused") !== null);
    expect(part(element, "refused").textContent).toMatch(/Not sent: .*control characters/);
    const discard = [...part(element, "refused").querySelectorAll("button")].find((b) => b.textContent!.trim() === "Discard")!;
    discard.focus();
    await userEvent.keyboard("{Enter}");
    await until(element, () => part(element, "refused") === null);
    expect(await stored(room)).toEqual([]);
  });

  it("puts a message refused for a blocked word back in the composer, saying why", async () => {
    const room = unique("blocked");
    await moderate(room, "blocked-words", { words: ["forbidden"] });
    const element = mount({ room, endpoint, name: "Rude" });
    await opened(element);
    const refused = nextEvent(element, "edge-refused");
    element.sendMessage("this is Forbidden!");
    expect((await refused).detail.code).toBe("blocked_word");
    await until(element, () => part(element, "status").textContent!.includes('"forbidden" is not allowed'));
    expect((part(element, "input") as HTMLTextAreaElement).value).toBe("this is Forbidden!");
    expect(part(element, "pending")).toBeNull();
    expect(await stored(room)).toEqual([]);
  });

  it("shows the slow-mode wait on a message sent too soon, then sends it when the wait is over", async () => {
    const room = unique("slow");
    await moderate(room, "slow-mode", { seconds: 2 });
    const element = mount({ room, endpoint, name: "Eager" });
    await opened(element);
    element.sendMessage("first");
    await until(element, () => shown(element).length === 1 && !part(element, "pending"));
    const refused = nextEvent(element, "edge-refused");
    element.sendMessage("second");
    expect((await refused).detail).toMatchObject({ code: "slow_mode", retryAfterMs: expect.any(Number) });
    await until(element, () => /retrying in \d+ s/.test(part(element, "pending")?.textContent ?? ""));
    await until(element, () => shown(element).length === 2 && !part(element, "pending"));
    expect(shown(element)).toEqual(["first", "second"]);
  });

  it("lets a user who chose a name change it, and forgets the old one", async () => {
    localStorage.setItem("edge-chat:name", "Old");
    const element = mount({ room: unique("rename"), endpoint });
    await opened(element);
    const change = () => [...shadow(element).querySelectorAll("button")].find((b) => b.textContent === "Change name");
    await until(element, () => change() !== undefined);
    change()!.click();
    await until(element, () => shadow(element).querySelector("input[name=name]") !== null);
    expect(element.getAttribute("connection")).toBe("closed");
    expect(localStorage.getItem("edge-chat:name")).toBeNull();
  });

  it("loads older messages when scrolled to the top without moving what is on screen", async () => {
    const room = unique("scroll");
    await seed(room, 150);
    const element = mount({ room, endpoint, name: "Scroller" });
    element.style.setProperty("--edge-chat-height", "320px");
    await opened(element);
    await until(element, () => shown(element).length === 100);
    const list = part(element, "messages");
    await until(element, () => list.scrollTop + list.clientHeight >= list.scrollHeight - 2);
    const first = shadow(element).querySelector<HTMLElement>("[part~=message]")!;
    expect(first.textContent).toContain("seed 51");
    list.scrollTop = 0;
    const before = first.getBoundingClientRect().top;
    await until(element, () => shown(element).length === 150);
    expect(first.getBoundingClientRect().top).toBeCloseTo(before, 0);
    expect(shown(element)[0]).toBe("seed 1");
    expect(list.getAttribute("role")).toBe("log");
    expect(list.getAttribute("aria-live")).toBe("polite");
  });

  it("loads older messages from the keyboard with the Load older messages button", async () => {
    const room = unique("keyboard-older");
    await seed(room, 110);
    const element = mount({ room, endpoint, name: "Keyboard" });
    await opened(element);
    await until(element, () => shown(element).length === 100);
    const button = [...shadow(element).querySelectorAll("button")].find((b) => b.textContent!.trim() === "Load older messages")!;
    button.focus();
    await userEvent.keyboard("{Enter}");
    await until(element, () => shown(element).length === 110);
    expect(shown(element)[0]).toBe("seed 1");
    expect(shadow(element).querySelector(".top")!.textContent).toMatch(/beginning of the room/);
  });

  it("stays at the bottom for new messages, unless scrolled up, then offers a new-messages pill", async () => {
    const room = unique("pill");
    await seed(room, 40);
    const element = mount({ room, endpoint, name: "Pinned" });
    element.style.setProperty("--edge-chat-height", "300px");
    await opened(element);
    const list = part(element, "messages");
    await until(element, () => shown(element).length === 40 && list.scrollTop + list.clientHeight >= list.scrollHeight - 2);
    const writer = mount({ room, endpoint, name: "Writer" });
    await opened(writer);
    writer.sendMessage("while pinned");
    await until(element, () => shown(element).at(-1) === "while pinned" && list.scrollTop + list.clientHeight >= list.scrollHeight - 2);

    list.scrollTop = list.scrollHeight / 2;
    await until(element, () => list.scrollTop + list.clientHeight < list.scrollHeight - 30);
    const top = list.scrollTop;
    writer.sendMessage("while scrolled up");
    await until(element, () => part(element, "new-messages") !== null);
    expect(list.scrollTop).toBe(top);
    expect(part(element, "new-messages").textContent).toMatch(/1 new message/);
    part(element, "new-messages").click();
    await until(element, () => part(element, "new-messages") === null);
    expect(list.scrollTop + list.clientHeight).toBeGreaterThanOrEqual(list.scrollHeight - 2);
  });

  it("lists who is here and shows who is typing", async () => {
    const room = unique("typing");
    const element = mount({ room, endpoint, name: "Watcher" });
    await opened(element);
    const typist = mount({ room, endpoint, name: "Typist" });
    await opened(typist);
    await until(element, () => shadow(element).querySelector("[part=roster] summary")!.textContent === "2 people here");
    await userEvent.click(part(typist, "input"));
    await userEvent.keyboard("h");
    await until(element, () => part(element, "typing").textContent === "Typist is typing…");
  });

  it("takes a person off the list, and the count down, when they leave", async () => {
    const room = unique("leaving");
    const element = mount({ room, endpoint, name: "Stayer" });
    await opened(element);
    const visitor = mount({ room, endpoint, name: "Visitor" });
    await opened(visitor);
    const roster = () => shadow(element).querySelector("[part=roster]")!;
    await until(element, () => roster().textContent!.includes("Visitor") && roster().querySelector("summary")!.textContent === "2 people here");
    visitor.remove();
    await until(element, () => !roster().textContent!.includes("Visitor") && roster().querySelector("summary")!.textContent === "1 person here");
  });

  it("takes its UI text from the strings property", async () => {
    const element = mount({ room: unique("strings"), endpoint, name: "Hans" });
    element.strings = { send: "Senden", people: (n) => `${n} Personen` };
    await opened(element);
    await until(element, () => part(element, "send").textContent === "Senden");
    expect(shadow(element).querySelector("[part=roster] summary")!.textContent).toBe("1 Personen");
  });

  it("takes plain UI text from a JSON strings attribute, ignoring what it does not know", async () => {
    const element = mount({ room: unique("strings-attr"), endpoint, name: "Eva", strings: '{"send":"Enviar","bogus":1,"join":2}' });
    await opened(element);
    await until(element, () => part(element, "send").textContent === "Enviar");
    expect(element.strings).toEqual({ send: "Enviar" });
  });

  it("joins with a verified name from a user token signed by the host site", async () => {
    const element = mount({ room: unique("verified"), endpoint, "user-token": await userToken("user-7", "Ada") });
    await opened(element);
    const own = nextEvent(element, "edge-message", (e) => e.detail.own);
    element.sendMessage("signed in");
    expect((await own).detail.message).toMatchObject({ name: "Ada", verified: true });
  });

  it("keeps the user token out of the socket URL, and still shows the verified name", async () => {
    const urls: string[] = [];
    const Native = window.WebSocket;
    window.WebSocket = class extends Native {
      constructor(url: string | URL, protocols?: string | string[]) {
        urls.push(String(url));
        super(url, protocols);
      }
    };
    try {
      const token = await userToken("user-8", "Grace");
      const element = mount({ room: unique("token-out-of-url"), endpoint, "user-token": token });
      await opened(element);
      await until(element, () => shadow(element).querySelector("[part=roster]")!.textContent!.includes("Grace"));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) expect(url).not.toContain(token.split(".")[1]!);
    } finally {
      window.WebSocket = Native;
    }
  });

  it("shows why it closed for good when the token is refused", async () => {
    const element = mount({ room: unique("bad-token"), endpoint, "user-token": "not.a.token" });
    await nextEvent(element, "edge-connection", (e) => e.detail.state === "closed" && e.detail.close !== undefined);
    await element.updateComplete;
    expect(part(element, "status").textContent).toMatch(/user token: The token is not valid/);
  });

  it("shows a visible message for a bad room name and does not connect", async () => {
    const element = mount({ room: "no spaces", endpoint, name: "X" });
    await element.updateComplete;
    expect(element.getAttribute("connection")).toBe("closed");
    expect(part(element, "status").textContent).toMatch(/needs a room name/);
  });
});
