import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";
import { embedding, hostPage, launchBrowser, type HostPage } from "./support.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe.each(RUNTIMES)("<click-counter> on a third-party page, on $name", (runtime) => {
  it("shows a click from one page live in another, and keeps the count across a backend restart", async () => {
    const state = mkdtempSync(join(tmpdir(), "e2e-counter-"));
    let backend: Backend = await runtime.start({ persistTo: state });
    const port = backend.port;
    const host: HostPage = await hostPage(embedding(backend.url, `<click-counter name="e2e"></click-counter>`));
    try {
      const [one, two] = await Promise.all([browser.newPage(), browser.newPage()]);
      await Promise.all([one.goto(host.url), two.goto(host.url)]);
      for (const page of [one, two]) await page.locator("click-counter[connection=open]").waitFor();
      await one.locator("click-counter").getByRole("button").click();
      await one.locator("click-counter").getByRole("button").click();
      await expect.poll(() => two.locator("click-counter").locator("[part=count]").textContent()).toBe("2");

      await backend.stop();
      await expect.poll(() => one.locator("click-counter").getAttribute("connection")).toBe("reconnecting");
      backend = await runtime.start({ persistTo: state, port });
      // The widgets come back by themselves and still show the stored count.
      await one.evaluate(() => window.dispatchEvent(new Event("online")));
      await one.locator("click-counter[connection=open]").waitFor({ timeout: 30_000 });
      await one.locator("click-counter").getByRole("button").click();
      await expect.poll(() => one.locator("click-counter").locator("[part=count]").textContent(), { timeout: 30_000 }).toBe("3");
      const response = await fetch(`${backend.url}/api/counters/e2e`);
      expect(await response.json()).toEqual({ name: "e2e", count: 3 });
    } finally {
      await host.close();
      await backend.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });

  it("closes for good with a visible reason when the page's origin is not allowed", async () => {
    const state = mkdtempSync(join(tmpdir(), "e2e-origin-"));
    const backend = await runtime.start({ persistTo: state, vars: { ALLOWED_ORIGINS: "https://only-this.example" } });
    const host = await hostPage(embedding(backend.url, `<click-counter name="guarded"></click-counter>`));
    try {
      const page = await browser.newPage();
      await page.goto(host.url);
      await page.locator("click-counter[connection=closed]").waitFor();
      await expect.poll(() => page.locator("click-counter").locator("[part=status]").textContent()).toMatch(/not allowed/);
      expect(await (await fetch(`${backend.url}/api/counters/guarded`)).json()).toEqual({ name: "guarded", count: 0 });
    } finally {
      await host.close();
      await backend.stop();
      rmSync(state, { recursive: true, force: true });
    }
  });
});
