import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type Backend } from "../../scripts/backend.ts";
import { startReceiver, verifySignature, type Receiver } from "../webhook-receiver.ts";
import { embedding, hostPage, launchBrowser } from "./support.ts";

const SECRET = "e2e-signing-secret";
let browser: Browser;
let receiver: Receiver;
let backend: Backend;
let state: string;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "e2e-scheduler-"));
  receiver = await startReceiver();
  [browser, backend] = await Promise.all([
    launchBrowser(),
    startBackend({
      persistTo: state,
      vars: {
        // The owner's own receiver is a trusted target, so a local address is fine here.
        SCHEDULE_TARGETS: JSON.stringify({ reminders: { stream: "reminders" }, inbox: `${receiver.url}/inbox` }),
        WEBHOOK_SIGNING_SECRET: SECRET,
      },
    }),
  ]);
});

afterAll(async () => {
  await browser?.close();
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
      // Three seconds ahead, written in the page's own time zone as the input expects.
      const when = await page.evaluate(() => {
        const d = new Date(Date.now() + 3_000);
        const pad = (n: number) => String(n).padStart(2, "0");
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      });
      await form.locator("[part=when]").fill(when);
      await form.getByRole("button", { name: "Schedule" }).click();
      await expect.poll(() => form.locator("[part=status]").textContent()).toMatch(/^Scheduled for /);

      const [delivery] = await receiver.waitFor(1, (r) => r.path === "/inbox");
      expect(JSON.parse(delivery!.body)).toEqual({ note: "call the plumber" });
      expect(verifySignature(delivery!.headers["webhook-signature"]!, delivery!.body, SECRET)).toBe(true);
      await expect.poll(() => form.locator("[part=schedule]").textContent(), { timeout: 15_000 }).toMatch(/Delivered/);

      await form.getByRole("button", { name: /Cancel schedule/ }).click();
      await expect.poll(() => form.locator("[part=schedule]").count()).toBe(0);
      expect(errors).toEqual([]);
    } finally {
      await host.close();
    }
  });
});
