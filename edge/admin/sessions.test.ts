import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, fetchWithVars, freshIp } from "../../test/edge/support.ts";

const ADMIN_TOKEN = "test-admin-token";

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(`${BASE}${path}`, init);

/** Signs in from a fresh address; the cookie (name=value) and the CSRF token. */
async function signIn(ip = freshIp()): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const response = await call("/api/admin/session", {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, Origin: BASE },
    body: JSON.stringify({ token: ADMIN_TOKEN }),
  });
  expect(response.status).toBe(201);
  const setCookie = response.headers.get("Set-Cookie")!;
  const { csrf } = (await response.json()) as { csrf: string };
  return { cookie: setCookie.split(";")[0]!, csrf, setCookie };
}

/** A state-changing admin call as the console page makes it: same origin, cookie, CSRF header. */
const fromConsole = (cookie: string, csrf: string, extra: Record<string, string> = {}) => ({
  Cookie: cookie,
  Origin: BASE,
  "Sec-Fetch-Site": "same-origin",
  "X-Admin-CSRF": csrf,
  "Content-Type": "application/json",
  ...extra,
});

describe("signing in to the console", () => {
  it("answers the admin token with an HttpOnly, SameSite=Strict, Secure session cookie that expires in 8 hours", async () => {
    const { setCookie } = await signIn();
    expect(setCookie).toMatch(/^edge_admin_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Secure");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).toContain(`Max-Age=${8 * 60 * 60}`);
    // The cookie is a random id, not the token.
    expect(setCookie).not.toContain(ADMIN_TOKEN);
  });

  it("refuses a wrong token with 401 and sets no cookie", async () => {
    const response = await call("/api/admin/session", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
      body: JSON.stringify({ token: "guess" }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get("Set-Cookie")).toBeNull();
  });

  it("rate limits sign-in attempts per address, so guessing the token is slow", async () => {
    const ip = freshIp();
    const attempt = () =>
      call("/api/admin/session", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip }, body: JSON.stringify({ token: "guess" }) });
    const statuses: number[] = [];
    for (let i = 0; i < 11; i += 1) statuses.push((await attempt()).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    const refused = await attempt();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("Retry-After")).toMatch(/^\d+$/);
    // Another address is not held back.
    await signIn();
  });

  it("counts a wrong bearer token on an admin route as a guess too, refused before it is compared once the address is out of guesses", async () => {
    const ip = freshIp();
    const withToken = (token: string) => call("/api/admin/metrics", { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": ip } });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) statuses.push((await withToken(`guess-${i}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    // Even the right token is not compared now: a guesser cannot tell a hit among the refusals.
    const refused = await withToken(ADMIN_TOKEN);
    expect(refused.status).toBe(429);
    // The same budget holds back sign-ins from that address.
    const signInAttempt = await call("/api/admin/session", { method: "POST", headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip }, body: JSON.stringify({ token: ADMIN_TOKEN }) });
    expect(signInAttempt.status).toBe(429);
    // The owner's scripts with the right token are never charged.
    const owner = freshIp();
    for (let i = 0; i < 12; i += 1) expect((await call("/api/admin/metrics", { headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "CF-Connecting-IP": owner } })).status).toBe(200);
  });

  it("refuses a sign-in sent as a form, which any site could post", async () => {
    const response = await call("/api/admin/session", {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "CF-Connecting-IP": freshIp() },
      body: `token=${ADMIN_TOKEN}`,
    });
    expect(response.status).toBe(415);
  });

  it("serves the console page at /admin, which runs only its own scripts and may not be framed", async () => {
    const page = await call("/admin");
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<admin-console>");
    expect(page.headers.get("Content-Security-Policy")).toContain("default-src 'self'");
    expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    expect(page.headers.get("X-Frame-Options")).toBe("DENY");
  });

  it("with no ADMIN_TOKEN set, /admin says how to set one and sign-in is off", async () => {
    const page = await fetchWithVars({ ADMIN_TOKEN: "" }, "/admin");
    expect(page.status).toBe(503);
    expect(await page.text()).toContain("wrangler secret put ADMIN_TOKEN");
    const signInOff = await fetchWithVars({ ADMIN_TOKEN: "" }, "/api/admin/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ token: "" }),
    });
    expect(signInOff.status).toBe(403);
  });
});

describe("the session cookie in place of the bearer token", () => {
  it("opens admin reads", async () => {
    const { cookie } = await signIn();
    const response = await call("/api/rooms/lobby/bans", { headers: { Cookie: cookie } });
    expect(response.status).toBe(200);
  });

  it("opens admin changes sent from the console with its CSRF header", async () => {
    const { cookie, csrf } = await signIn();
    const response = await call("/api/rooms/session-room/bans", {
      method: "POST",
      headers: fromConsole(cookie, csrf),
      body: JSON.stringify({ name: "troll", seconds: 60, reason: "spam" }),
    });
    expect(response.status).toBe(201);
  });

  it("refuses a change without the CSRF header, as a cross-site script or form would send it", async () => {
    const { cookie } = await signIn();
    const response = await call("/api/rooms/session-room/bans", {
      method: "POST",
      headers: { Cookie: cookie, Origin: BASE, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "troll", seconds: 60 }),
    });
    expect(response.status).toBe(403);
  });

  it("refuses a cross-site form post even with the CSRF token", async () => {
    const { cookie, csrf } = await signIn();
    const response = await call("/api/rooms/session-room/bans", {
      method: "POST",
      headers: fromConsole(cookie, csrf, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded" }),
      body: "name=troll&seconds=60",
    });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it("refuses a change from another origin", async () => {
    const { cookie, csrf } = await signIn();
    const response = await call("/api/rooms/session-room/bans", {
      method: "POST",
      headers: fromConsole(cookie, csrf, { Origin: "https://evil.example", "Sec-Fetch-Site": "cross-site" }),
      body: JSON.stringify({ name: "troll", seconds: 60 }),
    });
    expect(response.status).toBe(403);
  });

  it("leaves a public call from a page of the same site anonymous when it lacks the CSRF header", async () => {
    // The owner, signed in, uses a widget on a page of the console's origin: the widget's own
    // call carries the cookie but no CSRF header, and must work as any visitor's does.
    const { cookie } = await signIn();
    const response = await call("/api/schedules", {
      method: "POST",
      headers: { Cookie: cookie, Origin: BASE, "Content-Type": "application/json", "CF-Connecting-IP": freshIp() },
      body: JSON.stringify({ target: "reminders", at: new Date(Date.now() + 3_600_000).toISOString() }),
    });
    expect(response.status).toBe(201);
  });

  it("refuses a forged cookie", async () => {
    const forged = `edge_admin_session=${"A".repeat(43)}`;
    const response = await call("/api/rooms/lobby/bans", { headers: { Cookie: forged } });
    expect(response.status).toBe(401);
  });

  it("is worthless after signing out, even replayed", async () => {
    const { cookie, csrf } = await signIn();
    const out = await call("/api/admin/session", { method: "DELETE", headers: fromConsole(cookie, csrf) });
    expect(out.status).toBe(204);
    expect(out.headers.get("Set-Cookie")).toContain("Max-Age=0");
    expect((await call("/api/rooms/lobby/bans", { headers: { Cookie: cookie } })).status).toBe(401);
    expect(await (await call("/api/admin/session", { headers: { Cookie: cookie } })).json()).toEqual({ signedIn: false });
  });

  it("reads, closes and deletes a stream through the protocol's own routes", async () => {
    const { cookie, csrf } = await signIn();
    const name = `session-stream-${crypto.randomUUID().slice(0, 8)}`;
    const stream = `/v1/stream/${name}`;
    const created = await call(stream, { method: "PUT", headers: { ...fromConsole(cookie, csrf), "Content-Type": "text/plain" }, body: "hello" });
    expect(created.status).toBe(201);
    expect(await (await call(`${stream}?offset=-1`, { headers: { Cookie: cookie } })).text()).toBe("hello");
    const closed = await call(stream, { method: "POST", headers: { ...fromConsole(cookie, csrf), "Content-Type": "text/plain", "Stream-Closed": "true" } });
    expect(closed.status).toBe(204);
    expect((await call(stream, { method: "DELETE", headers: fromConsole(cookie, csrf) })).status).toBe(204);
  });

  it("is worthless once the owner changes ADMIN_TOKEN, as after a leak", async () => {
    const { cookie } = await signIn();
    expect((await call("/api/admin/metrics", { headers: { Cookie: cookie } })).status).toBe(200);
    const rotated = await fetchWithVars({ ADMIN_TOKEN: "the-new-admin-token" }, "/api/admin/metrics", { headers: { Cookie: cookie } });
    expect(rotated.status).toBe(401);
    const asked = await fetchWithVars({ ADMIN_TOKEN: "the-new-admin-token" }, "/api/admin/session", { headers: { Cookie: cookie } });
    expect(await asked.json()).toEqual({ signedIn: false });
    // With the token removed, the console is off: the old cookie is asked about and signed out calmly.
    expect(await (await fetchWithVars({ ADMIN_TOKEN: "" }, "/api/admin/session", { headers: { Cookie: cookie } })).json()).toEqual({ signedIn: false });
    expect((await fetchWithVars({ ADMIN_TOKEN: "" }, "/api/admin/session", { method: "DELETE", headers: { Cookie: cookie } })).status).toBe(204);
  });

  it("never lets another origin read the session's CSRF token or send it, even with ALLOWED_ORIGINS *", async () => {
    const { cookie } = await signIn();
    const read = await call("/api/admin/session", { headers: { Cookie: cookie, Origin: "https://evil.example" } });
    // A credentialed read from another origin needs this header; without it the browser hides the answer.
    expect(read.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const preflight = await call("/api/admin/session", { method: "OPTIONS", headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "x-admin-csrf" } });
    expect(preflight.headers.get("Access-Control-Allow-Headers") ?? "").not.toMatch(/x-admin-csrf/i);
    expect(preflight.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("tells the page its CSRF token again after a reload", async () => {
    const { cookie, csrf } = await signIn();
    const response = await call("/api/admin/session", { headers: { Cookie: cookie } });
    expect(await response.json()).toMatchObject({ signedIn: true, csrf });
  });
});
