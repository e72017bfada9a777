/**
 * End-to-end helpers: a real Chromium driven by playwright-core, and a plain static page on
 * its own origin that embeds the widgets exactly as a site owner would (one script tag).
 */
import { createServer, type Server } from "node:http";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_ARGS, findChromium } from "../../scripts/chromium.ts";
import { freePort } from "../../scripts/backend.ts";

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error("No Chromium: run the tests through `npm test`, which finds or installs one.");
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}

export interface HostPage {
  url: string;
  close(): Promise<void>;
}

/** Serves `html` at `/` from 127.0.0.1 on a port of its own: a third-party site embedding the widgets. */
export async function hostPage(html: string): Promise<HostPage> {
  const port = await freePort();
  const server: Server = createServer((request, response) => {
    if (request.url === "/" || request.url?.startsWith("/?")) {
      response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      response.end(html);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** A page that loads the widgets from `backend` with one script tag and holds `body`. */
export function embedding(backend: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>host page</title>
<script type="module" src="${backend}/widgets.js"></script></head><body>${body}</body></html>`;
}

/** Collects console errors and uncaught exceptions of a page, for asserting there were none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  return errors;
}
