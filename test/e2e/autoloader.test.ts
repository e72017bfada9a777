import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join, normalize, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, root, type Backend } from "../../scripts/backend.ts";
import { widgetTags } from "../../vite.config.ts";
import { RUNTIMES } from "../runtimes.ts";
import { embedding, hostPage, launchBrowser } from "./support.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/** The widget files a page fetched from `backend`, as paths (`/widgets.js`, `/chunks/…`). */
function widgetRequests(page: Page, backend: string): string[] {
  const paths: string[] = [];
  page.on("request", (request) => {
    if (request.url().startsWith(backend) && request.url().endsWith(".js")) paths.push(new URL(request.url()).pathname);
  });
  return paths;
}

/** Uncaught exceptions and console errors of a page, but for the host page's missing favicon. */
function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error" && !message.location().url.endsWith("/favicon.ico")) errors.push(message.text());
  });
  return errors;
}

/** A CDN stand-in: the package's dist/ under /npm/edge-widgets/dist/, on an origin of its own. */
async function cdn(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url!, "http://cdn").pathname));
    const prefix = "/npm/edge-widgets/dist/";
    try {
      if (!path.startsWith(prefix)) throw new Error("not a package file");
      const body = await readFile(join(resolve(root, "dist"), path.slice(prefix.length)));
      response.writeHead(200, { "Content-Type": "text/javascript", "Access-Control-Allow-Origin": "*" }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return { url: `http://127.0.0.1:${port}/npm/edge-widgets/dist`, close: () => new Promise<void>((done) => server.close(() => done())) };
}

const defined = (page: Page, tag: string) => page.evaluate((name) => customElements.whenDefined(name).then(() => true), tag);

describe.each(RUNTIMES)("the /widgets.js script tag, on $name", (runtime) => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await runtime.start();
  });
  afterAll(async () => {
    await backend?.stop();
  });

  it("loads only the code of the widget the page uses", async () => {
    const host = await hostPage(embedding(backend.url, `<click-counter name="autoload-one"></click-counter>`));
    const page = await browser.newPage();
    try {
      const errors = pageErrors(page);
      const fetched = widgetRequests(page, backend.url);
      await page.goto(host.url);
      await page.locator("click-counter[connection=open]").waitFor();
      expect(fetched).toContain("/widgets.js");
      expect(fetched.some((path) => path.startsWith("/chunks/click-counter-"))).toBe(true);
      for (const other of widgetTags().filter((tag) => tag !== "click-counter")) {
        expect(fetched.filter((path) => path.includes(other)), other).toEqual([]);
        expect(await page.evaluate((tag) => customElements.get(tag) === undefined, other), other).toBe(true);
      }
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await host.close();
    }
  });

  it("defines a widget added to the page later, also inside an open shadow root", async () => {
    const host = await hostPage(embedding(backend.url, `<p>nothing yet</p>`));
    const page = await browser.newPage();
    try {
      const errors = pageErrors(page);
      const fetched = widgetRequests(page, backend.url);
      await page.goto(host.url);
      await page.waitForFunction(() => document.readyState === "complete");
      expect(fetched).toEqual(["/widgets.js"]);

      await page.evaluate(() => document.body.insertAdjacentHTML("beforeend", `<click-counter name="autoload-later"></click-counter>`));
      expect(await defined(page, "click-counter")).toBe(true);
      await page.locator("click-counter[connection=open]").waitFor();

      // A component of the page's own renders a widget into its shadow root after it is attached.
      await page.evaluate(() => {
        const app = document.createElement("div");
        const shadow = app.attachShadow({ mode: "open" });
        document.body.append(app);
        setTimeout(() => shadow.append(document.createElement("video-gallery")), 50);
      });
      expect(await defined(page, "video-gallery")).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await host.close();
    }
  });

  it("loads each widget from next to itself when served by a CDN, and talks to the endpoint attribute", async () => {
    const files = await cdn();
    const host = await hostPage(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>cdn</title>
<script type="module" src="${files.url}/widgets.js"></script></head>
<body><click-counter name="from-cdn" endpoint="${backend.url}"></click-counter></body></html>`);
    const page = await browser.newPage();
    try {
      const errors = pageErrors(page);
      const fetched: string[] = [];
      page.on("request", (request) => fetched.push(request.url()));
      await page.goto(host.url);
      await page.locator("click-counter[connection=open]").waitFor();
      expect(fetched.some((url) => url.startsWith(`${files.url}/chunks/click-counter-`))).toBe(true);
      expect(fetched.filter((url) => url.startsWith(backend.url) && url.endsWith(".js"))).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await host.close();
      await files.close();
    }
  });

  it("defines every widget of the demo page, which loads the script tag as any page would", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${backend.url}/`);
      for (const tag of widgetTags()) expect(await defined(page, tag), tag).toBe(true);
    } finally {
      await page.close();
    }
  });

  it("does no harm when a page has the script tag twice, under both paths, and a per-widget file", async () => {
    const tags = [`${backend.url}/widgets/widgets.js`, `${backend.url}/widgets/click-counter.js`]
      .map((src) => `<script type="module" src="${src}"></script>`)
      .join("");
    const host = await hostPage(embedding(backend.url, `${tags}<click-counter name="twice-${crypto.randomUUID().slice(0, 8)}"></click-counter>`));
    const page = await browser.newPage();
    try {
      const errors = pageErrors(page);
      await page.goto(host.url);
      await page.locator("click-counter[connection=open]").waitFor();
      await page.locator("click-counter").getByRole("button").click();
      await expect.poll(() => page.locator("click-counter").locator("[part=count]").textContent()).toBe("1");
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await host.close();
    }
  });
});
