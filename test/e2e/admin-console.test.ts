import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root, startBackend, type Backend } from "../../scripts/backend.ts";
import { GENEROUS_LIMITS } from "../backends.ts";
import { RUNTIMES } from "../runtimes.ts";
import { embedding, hostPage, launchBrowser, pageErrors, type HostPage } from "./support.ts";

const ADMIN_TOKEN = "console-test-admin-token";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const PAGES = ["overview", "chat", "schedules", "streams", "videos", "counters"] as const;
const WAIT = { timeout: 15_000, interval: 100 };

let browser: Browser;
let backend: Backend;
let state: string;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), "e2e-console-"));
  [browser, backend] = await Promise.all([
    launchBrowser(),
    startBackend({
      persistTo: state,
      vars: {
        ADMIN_TOKEN,
        // Every test signs in afresh from one address.
        RATE_LIMITS: JSON.stringify({ ...JSON.parse(GENEROUS_LIMITS), "admin-sign-in": { burst: 1000, perSecond: 1000 } }),
        // `broken` refuses every delivery (nothing listens on port 9), so one attempt gives up.
        SCHEDULE_TARGETS: JSON.stringify({ reminders: { stream: "reminders" }, broken: "http://127.0.0.1:9/hook" }),
        SCHEDULE_MAX_ATTEMPTS: "1",
        SCHEDULE_MIN_INTERVAL_SECONDS: "1",
      },
    }),
  ]);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await backend?.stop();
  rmSync(state, { recursive: true, force: true });
});

/** Opens the console in a fresh browser profile and signs in as the owner would. */
async function signedIn(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = pageErrors(page);
  page.on("dialog", (dialog) => void dialog.accept());
  await page.goto(`${backend.url}/admin`);
  await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Console pages" }).waitFor();
  return { context, page, errors };
}

const go = async (page: Page, name: (typeof PAGES)[number]) => {
  await page.getByRole("link", { name: name[0]!.toUpperCase() + name.slice(1) }).click();
  await page.getByRole("heading", { level: 2, name: name[0]!.toUpperCase() + name.slice(1) }).waitFor();
};

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${backend.url}${path}`, { ...init, headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": "application/json", ...init.headers } });

async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(): Promise<{ violations: { id: string; nodes: { target: unknown }[] }[] }> } }).axe.run();
    return result.violations.map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
  return violations;
}

describe("the owner's console at /admin", { timeout: 120_000 }, () => {
  it("signs in with the admin token into an HttpOnly cookie and never keeps the token in the page", async () => {
    const { context, page, errors } = await signedIn();
    const [cookie] = await context.cookies(backend.url);
    expect(cookie).toMatchObject({ name: "edge_admin_session", httpOnly: true, sameSite: "Strict" });
    expect(cookie!.value).not.toContain(ADMIN_TOKEN);
    const kept = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.documentElement.outerHTML);
    expect(kept).not.toContain(ADMIN_TOKEN);
    expect(errors).toEqual([]);
    await context.close();
  });

  it("deletes a chat message, which vanishes from an open <edge-chat>", async () => {
    const room = "console-delete";
    const host: HostPage = await hostPage(embedding(backend.url, `<edge-chat room="${room}" name="Ann" endpoint="${backend.url}"></edge-chat>`));
    const visitor = await browser.newPage();
    await visitor.goto(host.url);
    const input = visitor.locator("edge-chat [part=input]");
    await input.fill("please delete me");
    await input.press("Enter");
    const texts = () => visitor.locator("edge-chat [part~=message] .text").allTextContents();
    await expect.poll(texts, WAIT).toContain("please delete me");

    const { context, page } = await signedIn();
    await go(page, "chat");
    await page.getByLabel("Open a room by name").fill(room);
    await page.getByRole("button", { name: "Open", exact: true }).click();
    await page.getByRole("button", { name: /^Delete message \d+ from Ann$/ }).click();
    await expect.poll(texts, WAIT).not.toContain("please delete me");
    await page.getByRole("status").filter({ hasText: "Message deleted." }).waitFor();
    await Promise.all([context.close(), visitor.close(), host.close()]);
  });

  it("bans a person by name with a reason, lists the ban, and lifts it", async () => {
    const room = "console-ban";
    const host = await hostPage(embedding(backend.url, `<edge-chat room="${room}" name="Troll" endpoint="${backend.url}"></edge-chat>`));
    const visitor = await browser.newPage();
    await visitor.goto(host.url);
    await visitor.locator("edge-chat [part=input]").waitFor();

    const { context, page } = await signedIn();
    await go(page, "chat");
    await page.getByLabel("Open a room by name").fill(room);
    await page.getByRole("button", { name: "Open", exact: true }).click();
    await page.getByRole("button", { name: "Ban the name Troll" }).click();
    await page.getByLabel("Reason").fill("spam");
    await page.getByRole("button", { name: "Ban", exact: true }).click();
    // Names are banned in the form the room compares them in.
    const lift = page.getByRole("button", { name: "Lift the ban on troll" });
    await lift.waitFor();
    const bans = async () => ((await (await api(`/api/rooms/${room}/bans`)).json()) as { bans: { value: string; reason: string }[] }).bans;
    expect(await bans()).toMatchObject([{ value: "troll", reason: "spam" }]);
    await lift.click();
    await page.getByText("No bans in force.").waitFor();
    expect(await bans()).toEqual([]);
    await Promise.all([context.close(), visitor.close(), host.close()]);
  });

  it("pauses and resumes a schedule", async () => {
    const created = await api("/api/schedules", { method: "POST", body: JSON.stringify({ target: "reminders", every: 3600, payload: { n: 1 } }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const { context, page } = await signedIn();
    await go(page, "schedules");
    const row = page.locator(`tr[data-schedule="${id}"]`);
    await row.getByRole("button", { name: `Pause ${id}` }).click();
    await expect.poll(() => row.locator("[data-state]").textContent(), WAIT).toBe("paused");
    await row.getByRole("button", { name: `Resume ${id}` }).click();
    await expect.poll(() => row.locator("[data-state]").textContent(), WAIT).toBe("scheduled");
    await context.close();
  });

  it("lists a schedule that gave up among the dead letters, and retries it", async () => {
    const created = await api("/api/schedules", { method: "POST", body: JSON.stringify({ target: "broken", at: new Date(Date.now() + 500).toISOString() }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const state = async () => ((await (await api(`/api/schedules/${id}`)).json()) as { state: string }).state;
    await expect.poll(state, WAIT).toBe("dead");
    const { context, page } = await signedIn();
    await go(page, "schedules");
    await page.getByRole("button", { name: "Dead letters" }).click();
    const row = page.locator(`tr[data-schedule="${id}"]`);
    await row.getByRole("button", { name: `Retry ${id}` }).click();
    await page.getByRole("status").filter({ hasText: `Queued again: ${id}.` }).waitFor();
    // Queued again, it runs (and, still broken, gives up again): one more run recorded.
    await expect.poll(async () => ((await (await api(`/api/schedules/${id}/runs`)).json()) as { runs: unknown[] }).runs.length, WAIT).toBe(2);
    await context.close();
  });

  it("makes a video private, and it leaves <video-gallery>", async () => {
    const host = await hostPage(embedding(backend.url, `<video-gallery endpoint="${backend.url}"></video-gallery>`));
    const visitor = await browser.newPage();
    const names = () => visitor.locator("video-gallery [part~=name]").allTextContents();
    await visitor.goto(host.url);
    await expect.poll(names, WAIT).toContain("Colour bars");

    const { context, page } = await signedIn();
    await go(page, "videos");
    await page.getByLabel("Visibility of Colour bars").selectOption("private");
    await page.getByRole("status").filter({ hasText: "Colour bars is now private." }).waitFor();
    await visitor.reload();
    await expect.poll(names, WAIT).toEqual(["Mandelbrot zoom", "Test card with tone"]);
    await page.getByLabel("Visibility of Colour bars").selectOption("public");
    await page.getByRole("status").filter({ hasText: "Colour bars is now public." }).waitFor();
    await Promise.all([context.close(), visitor.close(), host.close()]);
  });

  it("uploads a video, renames it and deletes it", async () => {
    const { context, page } = await signedIn();
    await go(page, "videos");
    await page.getByLabel("File (MP4)").setInputFiles({ name: "clip.mp4", mimeType: "video/mp4", buffer: readFileSync(resolve(root, "test/fixtures/upload-sample.mp4")) });
    await page.getByLabel("Name", { exact: true }).fill("Console upload");
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByRole("status").filter({ hasText: "Uploaded clip.mp4." }).waitFor();
    // Newest first: the upload is the first row.
    const name = page.locator("tr[data-video]").first().getByRole("textbox", { name: /^Name of [0-9a-f]{32}$/ });
    await expect.poll(() => name.inputValue(), WAIT).toBe("Console upload");
    await name.fill("Renamed upload");
    await page.getByRole("button", { name: "Rename Console upload" }).click();
    await page.getByRole("status").filter({ hasText: "Renamed to Renamed upload." }).waitFor();
    await page.getByRole("button", { name: "Delete Renamed upload" }).click();
    await page.getByRole("status").filter({ hasText: "Deleted Renamed upload." }).waitFor();
    const listed = ((await (await api("/api/admin/videos?limit=100")).json()) as { videos: { name: string }[] }).videos.map((v) => v.name);
    expect(listed).not.toContain("Renamed upload");
    await context.close();
  });

  it("signs out, after which the old cookie is refused", async () => {
    const { context, page } = await signedIn();
    const [cookie] = await context.cookies(backend.url);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();
    expect(await context.cookies(backend.url)).toEqual([]);
    const replayed = await fetch(`${backend.url}/api/admin/metrics`, { headers: { Cookie: `${cookie!.name}=${cookie!.value}` } });
    expect(replayed.status).toBe(401);
    // The stale cookie put back into a browser opens nothing either.
    const other = await browser.newContext();
    await other.addCookies([{ ...cookie! }]);
    const again = await other.newPage();
    await again.goto(`${backend.url}/admin`);
    await again.getByLabel("Admin token").waitFor();
    await Promise.all([context.close(), other.close()]);
  });

  it("shows the sign-in form, not the console, for a forged cookie", async () => {
    const context = await browser.newContext();
    await context.addCookies([{ name: "edge_admin_session", value: "A".repeat(43), url: backend.url }]);
    const page = await context.newPage();
    await page.goto(`${backend.url}/admin`);
    await page.getByLabel("Admin token").waitFor();
    expect(await page.getByRole("navigation", { name: "Console pages" }).count()).toBe(0);
    await context.close();
  });

  it("refuses a form another site posts with the owner's cookie", async () => {
    const { context, page } = await signedIn();
    const attacker = await hostPage(`<!doctype html><html lang="en"><head><title>win a prize</title></head><body>
      <form method="post" action="${backend.url}/api/rooms/console-csrf/bans" enctype="application/x-www-form-urlencoded">
        <input name="name" value="Owner"><input name="seconds" value="3600"></form>
      <script>document.forms[0].submit()</script></body></html>`);
    const victim = await context.newPage();
    const answer = victim.waitForResponse((response) => response.url().includes("/api/rooms/console-csrf/bans"));
    await victim.goto(attacker.url);
    const response = await answer;
    expect([401, 403]).toContain(response.status());
    expect(((await (await api("/api/rooms/console-csrf/bans")).json()) as { bans: unknown[] }).bans).toEqual([]);
    await Promise.all([context.close(), attacker.close(), page.close().catch(() => undefined)]);
  });

  for (const scheme of ["light", "dark"] as const) {
    it(`has no accessibility violations on any page, ${scheme}`, async () => {
      // The console's CSP rightly refuses injected scripts; axe is injected by the test only.
      const context = await browser.newContext({ colorScheme: scheme, bypassCSP: true });
      const page = await context.newPage();
      await page.goto(`${backend.url}/admin`);
      await page.getByLabel("Admin token").waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await page.getByLabel("Admin token").press("Enter");
      await page.getByRole("navigation", { name: "Console pages" }).waitFor();
      for (const name of PAGES) {
        await go(page, name);
        await page.waitForLoadState("networkidle");
        expect(await axeViolations(page), name).toEqual([]);
      }
      // A room opened: its messages, people, bans and tools.
      await go(page, "chat");
      await page.getByLabel("Open a room by name").fill("console-delete");
      await page.getByRole("button", { name: "Open", exact: true }).click();
      await page.getByRole("heading", { name: "Recent messages" }).waitFor();
      await page.waitForLoadState("networkidle");
      expect(await axeViolations(page), "a chat room").toEqual([]);
      await context.close();
    });
  }
});

describe("the console under npm run serve", { timeout: 60_000 }, () => {
  it("is served by plain workerd too, and signs in", async () => {
    const serve = await RUNTIMES.find((runtime) => runtime.name === "serve")!.start({ vars: { ADMIN_TOKEN } });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${serve.url}/admin`);
      await page.getByLabel("Admin token").fill(ADMIN_TOKEN);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("heading", { level: 2, name: "Overview" }).waitFor();
      expect((await context.cookies(serve.url))[0]).toMatchObject({ name: "edge_admin_session", httpOnly: true });
    } finally {
      await context.close();
      await serve.stop();
    }
  });
});
