import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";
import { embedding, hostPage, launchBrowser, pageErrors, type HostPage } from "./support.ts";

const LIMITS = JSON.stringify({
  "chat-message": { burst: 100_000, perSecond: 100_000 },
  "chat-join": { burst: 100_000, perSecond: 100_000 },
  "chat-read": { burst: 100_000, perSecond: 100_000 },
});

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});


const chat = (page: Page) => page.locator("edge-chat");
const shownTexts = (page: Page) => chat(page).locator("[part~=message] .text").allTextContents();
const pendingCount = (page: Page) => chat(page).locator("[part~=pending]").count();

/** Types a message and presses Enter, as a person does. */
async function type(page: Page, text: string): Promise<void> {
  await chat(page).locator("[part=input]").fill(text);
  await chat(page).locator("[part=input]").press("Enter");
}

/** Texts the page's widget saw confirmed as stored (its own `edge-message` events). */
const acknowledged = (page: Page) => page.evaluate(() => (window as unknown as { acked: string[] }).acked);

async function stored(backend: Backend, room: string): Promise<string[]> {
  const response = await fetch(`${backend.url}/api/rooms/${room}/messages?limit=200`);
  return ((await response.json()) as { messages: { text: string }[] }).messages.map((m) => m.text);
}

describe.each(RUNTIMES)("<edge-chat> on a third-party page, on $name", (runtime) => {
  it("loses no acknowledged message and shows none twice when the backend is killed mid-conversation", async () => {
    const state = mkdtempSync(join(tmpdir(), "e2e-chat-"));
    let backend = await runtime.start({ persistTo: state, vars: { RATE_LIMITS: LIMITS } });
    const port = backend.port;
    const room = "e2e-restart";
    const hosts: HostPage[] = await Promise.all(
      ["Ann", "Bob"].map((name) =>
        hostPage(
          embedding(
            backend.url,
            `<edge-chat room="${room}" name="${name}"></edge-chat>
             <script>window.acked = []; document.addEventListener("edge-message", (e) => { if (e.detail.own) window.acked.push(e.detail.message.text); });</script>`,
          ),
        ),
      ),
    );
    try {
      const [ann, bob] = await Promise.all([browser.newPage(), browser.newPage()]);
      const errors = [...pageErrors(ann), ...pageErrors(bob)];
      await Promise.all([ann.goto(hosts[0]!.url), bob.goto(hosts[1]!.url)]);
      for (const page of [ann, bob]) await chat(page).and(page.locator("[connection=open]")).waitFor();

      // A conversation both sides see.
      const sent: string[] = [];
      for (let i = 1; i <= 3; i++) {
        await type(ann, `ann ${i}`);
        await type(bob, `bob ${i}`);
        sent.push(`ann ${i}`, `bob ${i}`);
      }
      for (const page of [ann, bob]) await expect.poll(() => shownTexts(page)).toEqual(sent);

      // Ann sends a burst and the backend dies while it is in flight.
      const burst = Array.from({ length: 10 }, (_, i) => `burst ${i + 1}`);
      await ann.evaluate((texts) => texts.forEach((text) => (document.querySelector("edge-chat") as unknown as { sendMessage(text: string): boolean }).sendMessage(text)), burst);
      await backend.crash();
      const ackedBeforeRestart = [...(await acknowledged(ann)), ...(await acknowledged(bob))];
      for (const page of [ann, bob]) await expect.poll(() => chat(page).getAttribute("connection")).toBe("reconnecting");

      // Both keep talking while the backend is down: those messages wait in the widgets.
      await type(bob, "bob while down");
      await type(ann, "ann while down");
      expect(await pendingCount(bob)).toBeGreaterThan(0);

      backend = await runtime.start({ persistTo: state, vars: { RATE_LIMITS: LIMITS }, port });
      for (const page of [ann, bob]) await page.evaluate(() => window.dispatchEvent(new Event("online")));
      for (const page of [ann, bob]) await chat(page).and(page.locator("[connection=open]")).waitFor({ timeout: 30_000 });
      for (const page of [ann, bob]) await expect.poll(() => pendingCount(page), { timeout: 30_000 }).toBe(0);

      const expected = [...sent, ...burst, "bob while down", "ann while down"];
      const inRoom = await stored(backend, room);
      // Every message was stored exactly once, and every one acknowledged before the crash is there.
      expect([...inRoom].sort()).toEqual([...expected].sort());
      for (const text of ackedBeforeRestart) expect(inRoom).toContain(text);
      // Both pages show exactly what the room holds, in the room's order, none twice.
      for (const page of [ann, bob]) await expect.poll(() => shownTexts(page), { timeout: 30_000 }).toEqual(inRoom);
      // A fresh visitor sees the same history.
      const carol = await browser.newPage();
      await carol.goto(hosts[0]!.url);
      await chat(carol).and(carol.locator("[connection=open]")).waitFor();
      await expect.poll(() => shownTexts(carol)).toEqual(inRoom);
      expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e))).toEqual([]);
    } finally {
      await Promise.all(hosts.map((host) => host.close()));
      await backend.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("keeps a message typed while the chat was unreachable through a page reload, and delivers it once", async () => {
    const state = mkdtempSync(join(tmpdir(), "e2e-chat-reload-"));
    const backend = await runtime.start({ persistTo: state, vars: { RATE_LIMITS: LIMITS } });
    const room = "e2e-reload";
    const host = await hostPage(embedding(backend.url, `<edge-chat room="${room}" name="Dee"></edge-chat>`));
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      // The page and the script load as usual; only the chat's socket cannot get through.
      let reachable = false;
      await page.routeWebSocket(/\/api\/rooms\//, (ws) => {
        if (reachable) ws.connectToServer();
        else ws.close({ code: 1011, reason: "unreachable" });
      });
      await page.goto(host.url);
      await chat(page).and(page.locator("[connection=reconnecting]")).waitFor();
      await type(page, "typed while unreachable");
      expect(await pendingCount(page)).toBe(1);

      await page.reload();
      await chat(page).and(page.locator("[connection=reconnecting]")).waitFor();
      expect(await shownTexts(page)).toEqual(["typed while unreachable"]);
      expect(await pendingCount(page)).toBe(1);
      expect(await stored(backend, room)).toEqual([]);

      reachable = true;
      await page.evaluate(() => window.dispatchEvent(new Event("online")));
      await chat(page).and(page.locator("[connection=open]")).waitFor({ timeout: 30_000 });
      await expect.poll(() => pendingCount(page), { timeout: 30_000 }).toBe(0);
      expect(await shownTexts(page)).toEqual(["typed while unreachable"]);
      expect(await stored(backend, room)).toEqual(["typed while unreachable"]);

      // Confirmed: another reload shows it once, from the room's history, and sends nothing.
      await page.reload();
      await chat(page).and(page.locator("[connection=open]")).waitFor();
      await expect.poll(() => shownTexts(page)).toEqual(["typed while unreachable"]);
      expect(await pendingCount(page)).toBe(0);
      expect(await stored(backend, room)).toEqual(["typed while unreachable"]);
      expect(errors.filter((e) => !/WebSocket|Failed to load resource/.test(e))).toEqual([]);
    } finally {
      await host.close();
      await backend.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("renders a hostile message as text on the other page", async () => {
    const state = mkdtempSync(join(tmpdir(), "e2e-chat-xss-"));
    const backend = await runtime.start({ persistTo: state, vars: { RATE_LIMITS: LIMITS } });
    const host = await hostPage(embedding(backend.url, `<edge-chat room="xss" name="Eve"></edge-chat>`));
    try {
      const [eve, victim] = await Promise.all([browser.newPage(), browser.newPage()]);
      await Promise.all([eve.goto(host.url), victim.goto(host.url)]);
      for (const page of [eve, victim]) await chat(page).and(page.locator("[connection=open]")).waitFor();
      const hostile = `<img src=x onerror="document.title='owned'">`;
      await type(eve, hostile);
      await expect.poll(() => shownTexts(victim)).toEqual([hostile]);
      expect(await chat(victim).locator("img").count()).toBe(0);
      expect(await victim.title()).toBe("host page");
    } finally {
      await host.close();
      await backend.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
