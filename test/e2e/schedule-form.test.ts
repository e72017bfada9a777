import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";
import type { Received } from "../webhook-receiver.ts";
import { startReceiver, verifyDelivery, type Receiver } from "../webhook-receiver.ts";
import { embedding, hostPage, launchBrowser, pageErrors } from "./support.ts";

const SECRET = "e2e-signing-secret";
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/** Sets the form's time `seconds` ahead (in the page's own time zone, as the input expects) and submits it. */
async function scheduleSecondsAhead(page: Page, form: Locator, seconds: number): Promise<void> {
  const when = await page.evaluate((ahead) => {
    const d = new Date(Date.now() + ahead * 1000);
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }, seconds);
  await form.locator("[part=when]").fill(when);
  await form.getByRole("button", { name: "Schedule" }).click();
  await expect.poll(() => form.locator("[part=status]").textContent()).toMatch(/^Scheduled for /);
}

describe.each(RUNTIMES)("on $name", (runtime) => {
  // A receiver per runtime: what one runtime delivered never counts for the other.
  let receiver: Receiver;
  let backend: Backend;
  let state: string;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), "e2e-scheduler-"));
    receiver = await startReceiver();
    backend = await runtime.start({
      persistTo: state,
      vars: {
        // The owner's own receiver is a trusted target, so a local address is fine here.
        SCHEDULE_TARGETS: JSON.stringify({ reminders: { stream: "reminders" }, inbox: `${receiver.url}/inbox` }),
        WEBHOOK_SIGNING_SECRET: SECRET,
        SCHEDULE_MIN_INTERVAL_SECONDS: "1",
      },
    });
  });

  afterAll(async () => {
    await backend?.stop();
    await receiver?.close();
    rmSync(state, { recursive: true, force: true });
  });

  describe("<schedule-form> on a third-party page", () => {
    it("schedules a delivery a few seconds ahead; it arrives signed and the list shows it delivered", async () => {
      const host = await hostPage(
        embedding(backend.url, `<schedule-form target="inbox"><label>Note <input name="note" required></label></schedule-form>`),
      );
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(host.url);
        const form = page.locator("schedule-form");
        await form.getByLabel("Note").fill("call the plumber");
        await scheduleSecondsAhead(page, form, 3);

        const [delivery] = await receiver.waitFor(1, (r) => r.path === "/inbox");
        expect(JSON.parse(delivery!.body)).toEqual({ note: "call the plumber" });
        expect(verifyDelivery(delivery!, SECRET)).toEqual({ note: "call the plumber" });
        expect(() => verifyDelivery({ ...delivery!, body: JSON.stringify({ note: "call the locksmith" }) }, SECRET)).toThrow();
        await expect.poll(() => form.locator("[part=schedule]").textContent(), { timeout: 15_000 }).toMatch(/Delivered/);

        await form.getByRole("button", { name: /Cancel schedule/ }).click();
        await expect.poll(() => form.locator("[part=schedule]").count()).toBe(0);
        expect(errors).toEqual([]);
      } finally {
        await host.close();
      }
    });
  });

  describe("the reminders demo: <schedule-form> feeding <stream-feed> on one page", () => {
    it("a reminder scheduled a few seconds ahead shows up in the feed when it is due", async () => {
      const host = await hostPage(
        embedding(
          backend.url,
          `<schedule-form target="reminders">
             <label>Remind me to <input name="title" required></label>
             <label>Details <input name="text"></label>
           </schedule-form>
           <stream-feed stream="reminders"></stream-feed>`,
        ),
      );
      try {
        const page = await browser.newPage();
        const errors = pageErrors(page);
        await page.goto(host.url);
        const form = page.locator("schedule-form");
        const feed = page.locator("stream-feed");
        // Nothing has been delivered yet, so the stream does not exist: the feed says so and waits.
        await expect.poll(() => feed.locator("[part=status]").textContent()).toMatch(/Waiting for this stream to be created/);

        await form.getByLabel("Remind me to").fill("water the plants");
        await form.getByLabel("Details").fill("the fern too");
        await scheduleSecondsAhead(page, form, 3);

        await feed.locator("[part=item]").first().waitFor({ timeout: 30_000 });
        expect(await feed.locator("[part=title]").allTextContents()).toEqual(["water the plants"]);
        expect(await feed.locator("[part=text]").allTextContents()).toEqual(["the fern too"]);
        await expect.poll(() => form.locator("[part=schedule]").textContent(), { timeout: 15_000 }).toMatch(/Delivered/);
        // The host page has no favicon, and the feed's first reads of the missing stream are 404s.
        expect(errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
      } finally {
        await host.close();
      }
    });
  });

  describe("the scheduler across a backend restart", () => {
    it("delivers what fell due while it was down once it is back, and a missed repeat only once", async () => {
      const post = async (body: Record<string, unknown>) => {
        const response = await fetch(`${backend.url}/api/schedules`, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(201);
        return (await response.json()) as { id: string; manageToken: string };
      };
      // Due shortly after the backend goes down.
      const due = Date.now() + 4_000;
      const once = await post({ target: "inbox", at: new Date(due).toISOString(), payload: { kind: "once" } });
      const repeat = await post({ target: "inbox", every: 1, start: new Date(due).toISOString(), payload: { kind: "repeat" } });
      const port = backend.port;
      // Down at once, as a power cut would take it: a stop lets workerd drain open responses (a
      // feed's) for seconds first, during which it still fires what falls due.
      await backend.crash();
      // The backend stays down for several of the repeat's runs.
      await new Promise((done) => setTimeout(done, due + 4_000 - Date.now()));
      const restartedAt = Date.now();
      backend = await runtime.start({
        persistTo: state,
        port,
        vars: {
          SCHEDULE_TARGETS: JSON.stringify({ reminders: { stream: "reminders" }, inbox: `${receiver.url}/inbox` }),
          WEBHOOK_SIGNING_SECRET: SECRET,
          SCHEDULE_MIN_INTERVAL_SECONDS: "1",
        },
      });
      const of = (id: string) => (r: Received) => r.headers["schedule-id"] === id;
      const [late] = await receiver.waitFor(1, of(once.id));
      expect(late!.at).toBeGreaterThanOrEqual(restartedAt);
      // Two runs after the restart: the catch-up of the missed ones, then the next on the grid.
      const runs = await receiver.waitFor(2, (r) => of(repeat.id)(r) && r.at >= restartedAt);
      const occurrences = runs.map((r) => Number(r.headers["idempotency-key"]!.split(":")[1]));
      expect(occurrences.filter((o) => o < restartedAt)).toHaveLength(1);
      expect(receiver.received.filter(of(repeat.id)).filter((r) => r.at < restartedAt)).toEqual([]);
      for (const o of occurrences) expect((o - due) % 1000).toBe(0);
      await fetch(`${backend.url}/api/schedules/${repeat.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${repeat.manageToken}` } });
    });
  });
});
