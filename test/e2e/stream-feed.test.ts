import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_STREAMS_SECRET, mintStreamToken } from "../../edge/streams/tokens.ts";
import type { Backend } from "../../scripts/backend.ts";
import { RUNTIMES } from "../runtimes.ts";
import { embedding, hostPage, launchBrowser, pageErrors, type HostPage } from "./support.ts";

let browser: Browser;
let token: string;

beforeAll(async () => {
  browser = await launchBrowser();
  // Both runtimes start the backend with LOCAL_DEV and no STREAMS_JWT_SECRET: it takes dev-secret tokens.
  token = await mintStreamToken(DEV_STREAMS_SECRET, { scope: "write", stream: "e2e-news" });
});

afterAll(async () => {
  await browser?.close();
});

describe.each(RUNTIMES)("<stream-feed> on a third-party page, on $name", (runtime) => {
  let backend: Backend;
  let state: string;

  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), "e2e-streams-"));
    backend = await runtime.start({ persistTo: state });
  });

  afterAll(async () => {
    await backend?.stop();
    rmSync(state, { recursive: true, force: true });
  });

  async function api(method: string, body?: unknown, query = ""): Promise<Response> {
    return fetch(`${backend.url}/v1/stream/e2e-news${query}`, {
      method,
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  it("shows items appended through the API live, and each item once after a reload", async () => {
    expect((await api("PUT", [{ title: "first" }], "?public=true")).status).toBe(201);
    const host: HostPage = await hostPage(embedding(backend.url, `<stream-feed stream="e2e-news" limit="10"></stream-feed>`));
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page);
      await page.goto(host.url);
      const titles = () => page.locator("stream-feed").locator('[part="title"]').allTextContents();
      await page.locator("stream-feed[connection=open]").waitFor();
      await expect.poll(titles).toEqual(["first"]);

      expect((await api("POST", [{ title: "second" }])).status).toBe(204);
      expect((await api("POST", [{ title: "third" }])).status).toBe(204);
      await expect.poll(titles).toEqual(["third", "second", "first"]);

      await page.reload();
      await page.locator("stream-feed[connection=open]").waitFor();
      expect((await api("POST", [{ title: "fourth" }])).status).toBe(204);
      await expect.poll(titles).toEqual(["fourth", "third", "second", "first"]);
      // The host page has no favicon; anything else logged as an error is a failure.
      expect(errors.filter((e) => !e.startsWith("Failed to load resource"))).toEqual([]);
    } finally {
      await host.close();
    }
  });
});
