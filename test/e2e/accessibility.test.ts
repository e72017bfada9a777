/**
 * The demo page as a visitor gets it, checked by axe-core in a real Chromium: every widget on
 * one page, in the light and the dark scheme, in English and in Arabic (right to left).
 */
import { createRequire } from "node:module";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";
import { launchBrowser } from "./support.ts";

const axeSource = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

let browser: Browser;
let backend: Backend;
beforeAll(async () => {
  browser = await launchBrowser();
  // What the widgets show does not depend on the runtime; one is enough here.
  backend = await RUNTIMES[0]!.start({ persistTo: mkdtempSync(join(tmpdir(), "e2e-a11y-")) });
});
afterAll(async () => {
  await browser?.close();
  await backend?.stop();
});

/** Every rule axe has, experimental ones included, as violations one line each. */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: typeof import("axe-core") }).axe;
    const result = await axe.run(document, {
      resultTypes: ["violations"],
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental"] },
    });
    return result.violations.flatMap((v) => v.nodes.map((node) => `${v.id}: ${node.target.join(" > ")}`));
  });
}

/** The demo page once every widget shows what it has: count, videos, feed notes, the name form. */
async function openDemo(scheme: "light" | "dark", lang: string): Promise<Page> {
  const page = await browser.newPage({ colorScheme: scheme });
  await page.goto(`${backend.url}/?lang=${lang}`);
  await page.locator("click-counter[connection=open]").waitFor();
  await page.locator("video-gallery").locator("[part~=video]").first().waitFor();
  await page.locator("edge-chat").locator("[part=name-form]").waitFor();
  await page.locator("stream-feed").first().locator("[part=status]").filter({ hasText: /\S/ }).waitFor();
  return page;
}

describe.each(["light", "dark"] as const)("the demo page in the %s scheme", (scheme) => {
  it.each(["en", "ar"])("has no axe violations in %s", async (lang) => {
    const page = await openDemo(scheme, lang);
    if (lang === "ar") await expect.poll(() => page.locator("click-counter").getAttribute("dir")).toBe("rtl");
    expect(await violations(page)).toEqual([]);
    await page.close();
  });

  it("has no axe violations with a video open in the player", async () => {
    const page = await openDemo(scheme, "en");
    await page.locator("video-gallery").locator("[part~=video]").first().click();
    await page.locator("video-gallery").locator("[part~=player][open]").waitFor();
    expect(await violations(page)).toEqual([]);
    await page.close();
  });
});
