/**
 * Hostile input against every route and socket of the Worker: malformed, oversized, deeply
 * nested and wrongly typed bodies, hostile names and query strings, forged and expired tokens,
 * spoofed headers. Whatever comes in, the answer is never a 5xx: it is a 4xx with the API's JSON
 * error, or (where the input is odd but harmless) an ordinary answer. Sockets answer with an
 * error frame or a close code, never 1011, and keep working for the next good frame.
 */
import { env, exports } from "cloudflare:workers";
import { SignJWT, base64url } from "jose";
import { describe, expect, it } from "vitest";
import { BASE, freshIp, ofType, openSocket } from "../test/edge/support.ts";

type Expect = "refused" | "not-5xx";

interface Case {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit;
  expect?: Expect;
}

const ADMIN = { Authorization: `Bearer ${env.ADMIN_TOKEN}` };
const JSON_TYPE = { "Content-Type": "application/json" };

/** `[[[…]]]` nested `depth` deep: small in bytes, deep enough to break recursive code. */
const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
const deepObject = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

/** JSON bodies no API route should take: broken, deep, huge, wrong shapes and types. */
const BAD_JSON: [string, string][] = [
  ["empty", ""],
  ["not JSON", "hello"],
  ["truncated", '{"target":'],
  ["a lone string", '"x"'],
  ["null", "null"],
  ["a number", "1e309"],
  ["an array", "[]"],
  ["an object of wrong types", '{"target":1,"at":true,"every":"x","payload":null,"name":[],"type":{},"streams":"x","url":7,"seconds":"1"}'],
  ["prototype keys", '{"__proto__":{"admin":true},"constructor":{"prototype":{"admin":true}}}'],
  ["a lone surrogate", '{"name":"\\ud800","text":"\\udfff"}'],
  ["NUL characters", '{"name":"a\\u0000b","target":"re\\u0000minders"}'],
  ["nested 8,000 deep (arrays)", deepArray(8000)],
  ["nested 5,000 deep (objects)", deepObject(5000)],
  ["a deep payload", `{"target":"reminders","at":"2099-01-01T00:00:00Z","payload":${deepArray(7000)}}`],
  ["a deep field value", `{"name":${deepArray(7000)},"type":"webhook","worker":${deepArray(100)}}`],
  ["duplicate keys", '{"target":"reminders","target":"hook"}'],
  ["huge numbers", '{"every":1e308,"seconds":1e308,"maxDurationSeconds":-1e308,"lease_ttl_ms":1e400}'],
];

/** Names and path pieces that must never reach storage: traversal, control bytes, overlong. */
const BAD_NAMES = [
  "..",
  ".",
  "%2e%2e",
  "%2E.",
  "a%2f..%2f..",
  "..%2f..%2fetc%2fpasswd",
  "%00",
  "a%00b",
  "%ff",
  "%",
  "%E2%80%AE",
  "x".repeat(65),
  "x".repeat(5000),
  "a%20b",
  "%3Cscript%3E",
];

/** Bearer values that must not be taken for anything. */
async function forgedTokens(): Promise<[string, string][]> {
  const secret = new TextEncoder().encode(env.STREAMS_JWT_SECRET!);
  const none = `${base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))}.${base64url.encode(JSON.stringify({ scope: "write", exp: 4102444800 }))}.`;
  const wrongKey = await new SignJWT({ scope: "write" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(new TextEncoder().encode("not-the-secret-at-all"));
  const expired = await new SignJWT({ scope: "write" }).setProtectedHeader({ alg: "HS256" }).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(secret);
  const hs512 = await new SignJWT({ scope: "write" }).setProtectedHeader({ alg: "HS512" }).setExpirationTime("1h").sign(new TextEncoder().encode(env.STREAMS_JWT_SECRET!.padEnd(64, "x")));
  const [header, payload] = wrongKey.split(".");
  return [
    ["alg none", none],
    ["a wrong key", wrongKey],
    ["an expired token", expired],
    ["HS512", hs512],
    ["a truncated token", `${header}.${payload}`],
    ["garbage", "garbage"],
    ["an overlong token", "a".repeat(16_000)],
    ["a JSON payload that is not an object", `${header}.${base64url.encode("[1,2]")}.${wrongKey.split(".")[2]}`],
  ];
}

const future = () => new Date(Date.now() + 3_600_000).toISOString();

async function cases(): Promise<Case[]> {
  const out: Case[] = [];
  // Every JSON body of the API, each bad body.
  const jsonRoutes: [string, string, Record<string, string>][] = [
    ["POST", "/api/schedules", {}],
    ["POST", "/api/schedules", ADMIN],
    ["POST", "/api/videos/uploads", ADMIN],
    ["POST", "/api/rooms/lobby/bans", ADMIN],
    ["PUT", "/v1/stream/__ds/subscriptions/hostile-sub", ADMIN],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/streams", ADMIN],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/claim", ADMIN],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/ack", ADMIN],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/callback", ADMIN],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/release", ADMIN],
    ["POST", "/api/admin/session", {}],
    ["PUT", "/api/rooms/lobby/blocked-words", ADMIN],
    ["PUT", "/api/chat/blocked-words", ADMIN],
    ["PUT", "/api/rooms/lobby/slow-mode", ADMIN],
    ["PATCH", `/api/videos/${"0".repeat(32)}`, ADMIN],
  ];
  for (const [method, path, auth] of jsonRoutes) {
    for (const [label, body] of BAD_JSON) {
      out.push({ name: `${method} ${path}${auth === ADMIN ? " (admin)" : ""}: ${label}`, method, path, headers: { ...JSON_TYPE, ...auth }, body });
    }
  }
  // JSON appends to a JSON stream: broken and deep bodies.
  for (const [label, body] of BAD_JSON.filter(([, text]) => text === "" || text.startsWith("[[") || text.startsWith('{"a"') || text === "hello")) {
    out.push({ name: `POST a JSON stream: ${label}`, method: "POST", path: "/v1/stream/hostile-json", headers: { ...JSON_TYPE, ...ADMIN }, body });
  }
  // Wrong content types and oversized bodies.
  out.push(
    { name: "POST /api/schedules as text/plain", method: "POST", path: "/api/schedules", headers: { "Content-Type": "text/plain" }, body: '{"target":"reminders"}' },
    { name: "POST /api/schedules without a type", method: "POST", path: "/api/schedules", body: '{"target":"reminders"}' },
    { name: "POST /api/schedules of 1 MiB", method: "POST", path: "/api/schedules", headers: JSON_TYPE, body: `{"target":"reminders","payload":"${"x".repeat(1 << 20)}"}` },
    { name: "POST /api/schedules with a payload just over 16 KiB", method: "POST", path: "/api/schedules", headers: JSON_TYPE, body: JSON.stringify({ target: "reminders", at: future(), payload: { s: "x".repeat(16_400) } }) },
    { name: "POST /api/schedules with invalid UTF-8", method: "POST", path: "/api/schedules", headers: JSON_TYPE, body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]) },
    { name: "POST /api/videos/uploads of 1 MiB", method: "POST", path: "/api/videos/uploads", headers: { ...JSON_TYPE, ...ADMIN }, body: "x".repeat(1 << 20) },
    { name: "POST a stream append of 2 MiB", method: "POST", path: "/v1/stream/hostile-text", headers: { "Content-Type": "text/plain", ...ADMIN }, body: "x".repeat(2 << 20) },
    { name: "PUT a stream with a 2 MiB first body", method: "PUT", path: "/v1/stream/hostile-big", headers: { "Content-Type": "text/plain", ...ADMIN }, body: "x".repeat(2 << 20) },
    { name: "POST an upload ticket that is not multipart", method: "POST", path: "/api/videos/uploads/0123456789abcdef0123456789abcdef", headers: { "Content-Type": "text/plain" }, body: "x" },
    { name: "POST an upload ticket with a broken multipart body", method: "POST", path: "/api/videos/uploads/ticket", headers: { "Content-Type": "multipart/form-data; boundary=x" }, body: "--x\r\nbroken" },
  );
  // Schedule fields one by one.
  const schedule = (fields: Record<string, unknown>, label: string, headers: Record<string, string> = {}) =>
    out.push({ name: `POST /api/schedules: ${label}`, method: "POST", path: "/api/schedules", headers: { ...JSON_TYPE, ...headers }, body: JSON.stringify(fields) });
  schedule({ target: "reminders", at: "yesterday" }, "an at that is not a time");
  schedule({ target: "reminders", at: "2000-01-01T00:00:00Z" }, "an at in the past");
  schedule({ target: "reminders", at: "9999-12-31T23:59:59Z" }, "an at far ahead");
  schedule({ target: "reminders", every: 0 }, "every 0");
  schedule({ target: "reminders", every: -5 }, "a negative every");
  schedule({ target: "reminders", every: 1.5 }, "a fractional every");
  schedule({ target: "reminders", every: Number.MAX_SAFE_INTEGER }, "a huge every");
  schedule({ target: "reminders", cron: "* * * * * * *" }, "a seven-field cron");
  schedule({ target: "reminders", cron: "x".repeat(200) }, "an overlong cron");
  schedule({ target: "reminders", cron: "0 9 * * *", tz: "Mars/Olympus" }, "an unknown time zone");
  schedule({ target: "reminders", cron: "0 9 * * *", tz: "../../etc/localtime" }, "a time zone path");
  schedule({ target: "../reminders", at: future() }, "a target path");
  schedule({ target: "nobody", at: future() }, "an unknown target");
  schedule({ url: "http://127.0.0.1/", at: future() }, "a URL without admin");
  schedule({ url: "http://[::7f00:1]/", at: future() }, "an IPv4-compatible IPv6 URL", ADMIN);
  schedule({ url: "http://169.254.169.254/latest/meta-data/", at: future() }, "the metadata service", ADMIN);
  schedule({ url: "javascript:alert(1)", at: future() }, "a javascript URL", ADMIN);
  schedule({ target: "reminders", at: future(), idempotencyKey: "" }, "an empty idempotency key");
  schedule({ target: "reminders", at: future(), idempotencyKey: "k".repeat(500) }, "an overlong idempotency key");
  schedule({ target: "reminders", at: future(), extra: true }, "an unknown field");
  // The console's sign-in: wrong shapes, and the token where it must not go.
  for (const [label, body] of [
    ["an empty token", '{"token":""}'],
    ["a token of 5,000 characters", JSON.stringify({ token: "x".repeat(5000) })],
    ["a token that is a number", '{"token":1}'],
    ["a token beside another field", JSON.stringify({ token: env.ADMIN_TOKEN, admin: true })],
  ] as const) {
    out.push({ name: `POST /api/admin/session: ${label}`, method: "POST", path: "/api/admin/session", headers: JSON_TYPE, body });
  }
  out.push(
    { name: "POST /api/admin/session as a form", method: "POST", path: "/api/admin/session", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: `token=${env.ADMIN_TOKEN}` },
    { name: "POST /api/admin/session as text/plain", method: "POST", path: "/api/admin/session", headers: { "Content-Type": "text/plain" }, body: JSON.stringify({ token: env.ADMIN_TOKEN }) },
    { name: "POST /api/admin/session without a type", method: "POST", path: "/api/admin/session", body: JSON.stringify({ token: env.ADMIN_TOKEN }) },
    { name: "POST /api/admin/session with the token in the query", method: "POST", path: `/api/admin/session?token=${env.ADMIN_TOKEN}`, headers: JSON_TYPE, body: "{}" },
  );
  // Forged, malformed and oversized session cookies: never the owner, never a 5xx.
  const COOKIES = [
    "edge_admin_session=" + "A".repeat(43),
    "edge_admin_session=" + "A".repeat(42),
    "edge_admin_session=" + "x".repeat(8000),
    "edge_admin_session=../../x",
    "edge_admin_session=%00",
    "edge_admin_session=; edge_admin_session=" + "B".repeat(43),
    "edge_admin_session",
    "=" + "C".repeat(43),
    ";;;===;;",
  ];
  const cookieRoutes: [string, string, string | undefined][] = [
    ["GET", "/api/admin/metrics", undefined],
    ["GET", "/api/admin/metrics.prom", undefined],
    ["GET", "/api/admin/rooms", undefined],
    ["GET", "/api/admin/videos", undefined],
    ["DELETE", "/api/rooms/lobby/messages/1", undefined],
    ["PUT", "/api/chat/blocked-words", '{"words":["x"]}'],
    ["PATCH", `/api/videos/${"0".repeat(32)}`, '{"name":"x"}'],
    ["POST", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/run", undefined],
  ];
  for (const cookie of COOKIES) {
    for (const [method, path, body] of cookieRoutes) {
      const headers = { Cookie: cookie, Origin: BASE, "Sec-Fetch-Site": "same-origin", "X-Admin-CSRF": "A".repeat(43), ...JSON_TYPE };
      out.push({ name: `${method} ${path} with the cookie ${cookie.slice(0, 30)}`, method, path, headers, ...(body !== undefined && { body }) });
    }
    out.push(
      { name: `GET /api/admin/session with the cookie ${cookie.slice(0, 30)}`, method: "GET", path: "/api/admin/session", headers: { Cookie: cookie }, expect: "not-5xx" },
      { name: `DELETE /api/admin/session with the cookie ${cookie.slice(0, 30)}`, method: "DELETE", path: "/api/admin/session", headers: { Cookie: cookie, "X-Admin-CSRF": "x" }, expect: "not-5xx" },
    );
  }
  // The stop announcement: only serve's runner may make it (no token is set here: nothing is there).
  for (const header of ["Bearer ", "Bearer x", `Bearer ${env.ADMIN_TOKEN}`, `Bearer ${"x".repeat(8000)}`, "Basic eDp4"]) {
    out.push({ name: `POST /api/stopping with Authorization "${header.slice(0, 24)}"`, method: "POST", path: "/api/stopping", headers: { Authorization: header } });
  }
  // Hostile names in every named route.
  for (const name of BAD_NAMES) {
    out.push(
      { name: `GET /api/counters/${name.slice(0, 20)}`, method: "GET", path: `/api/counters/${name}` },
      { name: `GET /api/rooms/${name.slice(0, 20)}/messages`, method: "GET", path: `/api/rooms/${name}/messages` },
      { name: `PUT /v1/stream/${name.slice(0, 20)}`, method: "PUT", path: `/v1/stream/${name}`, headers: { "Content-Type": "text/plain", ...ADMIN } },
      { name: `PUT /v1/stream/a/${name.slice(0, 20)}`, method: "PUT", path: `/v1/stream/a/${name}`, headers: { "Content-Type": "text/plain", ...ADMIN } },
      { name: `GET /api/schedules/${name.slice(0, 20)}`, method: "GET", path: `/api/schedules/${name}`, headers: ADMIN },
      { name: `GET /api/videos/${name.slice(0, 20)}`, method: "GET", path: `/api/videos/${name}` },
      { name: `PUT subscription ${name.slice(0, 20)}`, method: "PUT", path: `/v1/stream/__ds/subscriptions/${name}`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"type":"webhook","pattern":"a/*","webhook":{"url":"https://hooks.example.com/x"}}' },
      { name: `fork of ${name.slice(0, 20)}`, method: "PUT", path: "/v1/stream/hostile-fork", headers: { "Content-Type": "text/plain", ...ADMIN, "Stream-Forked-From": name } },
      { name: `GET /api/videos/play/${name.slice(0, 20)}/manifest/video.m3u8`, method: "GET", path: `/api/videos/play/${name}/manifest/video.m3u8` },
      { name: `PATCH /api/videos/${name.slice(0, 20)}`, method: "PATCH", path: `/api/videos/${name}`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"name":"x"}' },
      { name: `DELETE /api/videos/${name.slice(0, 20)}`, method: "DELETE", path: `/api/videos/${name}`, headers: ADMIN },
      { name: `PUT /api/rooms/${name.slice(0, 20)}/blocked-words`, method: "PUT", path: `/api/rooms/${name}/blocked-words`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"words":["x"]}' },
      { name: `GET /api/rooms/${name.slice(0, 20)}/slow-mode`, method: "GET", path: `/api/rooms/${name}/slow-mode`, headers: ADMIN },
      { name: `PUT /api/rooms/${name.slice(0, 20)}/slow-mode`, method: "PUT", path: `/api/rooms/${name}/slow-mode`, headers: { ...JSON_TYPE, ...ADMIN }, body: '{"seconds":5}' },
    );
    for (const operation of ["pause", "resume", "run", "retry"]) {
      out.push({ name: `POST /api/schedules/${name.slice(0, 20)}/${operation}`, method: "POST", path: `/api/schedules/${name}/${operation}`, headers: ADMIN });
    }
  }
  // Hostile query strings.
  const queries: [string, string][] = [
    ["/api/rooms/lobby/messages", "?limit=-1"],
    ["/api/rooms/lobby/messages", "?limit=1e309"],
    ["/api/rooms/lobby/messages", "?limit=abc"],
    ["/api/rooms/lobby/messages", "?before=99999999999999999999999"],
    ["/api/rooms/lobby/messages", "?unknown=1"],
    ["/api/videos", "?limit=0"],
    ["/api/videos", "?limit=51"],
    ["/api/videos", `?search=${"x".repeat(500)}`],
    ["/api/videos", `?cursor=${"x".repeat(300)}`],
    ["/api/schedules", "?limit=0"],
    ["/api/schedules", "?limit=100000"],
    ["/api/schedules", "?cursor=../../x"],
    ["/v1/stream/hostile-text", "?offset="],
    ["/v1/stream/hostile-text", "?offset=-2"],
    ["/v1/stream/hostile-text", "?offset=../../x"],
    ["/v1/stream/hostile-text", "?offset=-1&offset=now"],
    ["/v1/stream/hostile-text", "?live=sse"],
    ["/v1/stream/hostile-text", "?live=long-poll"],
    ["/api/schedules", "?state=everything"],
    ["/api/schedules", "?target=../../x"],
  ];
  const adminLists = ["/api/admin/counters", "/api/admin/rooms", "/api/admin/streams", "/api/admin/subscriptions", "/api/admin/videos"];
  for (const path of adminLists) {
    for (const query of ["?limit=0", "?limit=101", "?limit=-1", "?limit=1e309", "?limit=abc", `?cursor=${"x".repeat(2000)}`]) queries.push([path, query]);
  }
  for (const [path, query] of queries) {
    out.push({ name: `GET ${path}${query.slice(0, 40)}`, method: "GET", path: path + query, headers: path === "/api/schedules" || path.startsWith("/api/admin/") ? ADMIN : {} });
  }
  // Cursors that are odd but only names: a page after them, or none.
  for (const path of adminLists.slice(0, 4)) {
    for (const query of ["?cursor=%00%ff", "?cursor=../../x", "?cursor=%E2%80%AE", "?limit=100"]) {
      out.push({ name: `GET ${path}${query}`, method: "GET", path: path + query, headers: ADMIN, expect: "not-5xx" });
    }
  }
  for (const query of ["?format=prometheus", "?format=%00", "?format=prometheus&format=json"]) {
    out.push({ name: `GET /api/admin/metrics${query}`, method: "GET", path: `/api/admin/metrics${query}`, headers: ADMIN, expect: "not-5xx" });
  }
  // Odd but harmless queries: answered normally (the name `__proto__` is a name like any other).
  const harmless: [string, string][] = [
    ["/api/rooms/lobby/messages", "?before=0x10"],
    ["/api/rooms/lobby/messages", "?limit=1&limit=2"],
    ["/api/videos", "?cursor=%00%ff"],
    ["/v1/stream/hostile-text", "?offset=99999999999999999999_99999999999999999999"],
    ["/v1/stream/hostile-text", `?offset=-1&cursor=${"x".repeat(5000)}`],
    ["/api/counters/__proto__", ""],
    ["/api/rooms/__proto__/messages", ""],
    ["/v1/stream/__proto__/constructor", "?offset=-1"],
  ];
  for (const [path, query] of harmless) {
    out.push({ name: `GET ${path}${query.slice(0, 40)}`, method: "GET", path: path + query, expect: "not-5xx" });
  }
  // Forged, expired and malformed credentials on every authenticated route.
  const authed: [string, string, BodyInit | undefined, Record<string, string>][] = [
    ["PUT", "/v1/stream/hostile-auth", undefined, { "Content-Type": "text/plain" }],
    ["POST", "/v1/stream/hostile-text", "x", { "Content-Type": "text/plain" }],
    ["DELETE", "/v1/stream/hostile-text", undefined, {}],
    ["GET", "/v1/stream/hostile-private?offset=-1", undefined, {}],
    ["GET", "/api/schedules", undefined, {}],
    ["GET", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA", undefined, {}],
    ["DELETE", "/api/rooms/lobby/messages/1", undefined, {}],
    ["GET", "/api/rooms/lobby/people", undefined, {}],
    ["POST", "/api/videos/uploads", '{"name":"x"}', JSON_TYPE],
    ["GET", "/v1/stream/__ds/subscriptions/hostile-sub", undefined, {}],
    ["POST", "/v1/stream/__ds/subscriptions/hostile-sub/ack", "{}", JSON_TYPE],
    ["GET", "/api/admin/metrics", undefined, {}],
    ["GET", "/api/admin/metrics.prom", undefined, {}],
    ["GET", "/api/admin/counters", undefined, {}],
    ["GET", "/api/admin/rooms", undefined, {}],
    ["GET", "/api/admin/streams", undefined, {}],
    ["GET", "/api/admin/subscriptions", undefined, {}],
    ["GET", "/api/admin/videos", undefined, {}],
    ["PATCH", `/api/videos/${"0".repeat(32)}`, '{"visibility":"public"}', JSON_TYPE],
    ["DELETE", `/api/videos/${"0".repeat(32)}`, undefined, {}],
    ["PUT", "/api/chat/blocked-words", '{"words":[]}', JSON_TYPE],
    ["GET", "/api/rooms/lobby/blocked-words", undefined, {}],
    ["PUT", "/api/rooms/lobby/slow-mode", '{"seconds":0}', JSON_TYPE],
    ["POST", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/pause", undefined, {}],
    ["POST", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/resume", undefined, {}],
    ["POST", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/run", undefined, {}],
    ["POST", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/retry", undefined, {}],
  ];
  const forged = await forgedTokens();
  for (const [method, path, body, headers] of authed) {
    for (const [label, token] of forged) {
      out.push({ name: `${method} ${path} with ${label}`, method, path, headers: { ...headers, Authorization: `Bearer ${token}` }, ...(body !== undefined && { body }) });
    }
    for (const header of ["Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", `Bearer ${env.ADMIN_TOKEN} extra`, `bearer  ${"x".repeat(8000)}`]) {
      out.push({ name: `${method} ${path} with Authorization "${header.slice(0, 24)}"`, method, path, headers: { ...headers, Authorization: header }, ...(body !== undefined && { body }) });
    }
  }
  // Spoofed headers on ordinary reads: they change nothing a visitor is trusted with.
  const spoofed: Record<string, string>[] = [
    { Host: "localhost" },
    { Host: "127.0.0.1:8787" },
    { "CF-Connecting-IP": "not an ip" },
    { "CF-Connecting-IP": "::1, 10.0.0.1" },
    { "X-Real-IP": "x".repeat(5000) },
    { "X-Forwarded-For": "1.2.3.4, 5.6.7.8" },
    { Origin: "null" },
    { Origin: "https://evil.example" },
    { "Content-Length": "99999999999" },
    { "If-None-Match": '"x"'.repeat(2000) },
    { Range: "bytes=999999999-" },
  ];
  for (const headers of spoofed) {
    const label = Object.entries(headers).map(([k, v]) => `${k}: ${v.slice(0, 20)}`).join();
    out.push(
      { name: `GET /api/counters/likes with ${label}`, method: "GET", path: "/api/counters/likes", headers, expect: "not-5xx" },
      { name: `GET /v1/stream/hostile-private with ${label}`, method: "GET", path: "/v1/stream/hostile-private?offset=-1", headers },
      { name: `GET /api/rooms/lobby/messages with ${label}`, method: "GET", path: "/api/rooms/lobby/messages", headers, expect: "not-5xx" },
    );
  }
  // Methods and paths nobody serves.
  for (const [method, path] of [
    ["PATCH", "/api/schedules"],
    ["DELETE", "/api/health"],
    ["POST", "/api/counters/likes"],
    ["PUT", "/api/rooms/lobby/messages"],
    ["GET", "/api/nothing"],
    ["GET", "/v1/nothing"],
    ["GET", "/v1/stream/__ds/nothing"],
    ["GET", "/api/counters/likes/ws"],
    ["GET", "/api/rooms/lobby/ws"],
    ["POST", "/api/videos/play/x/y/z"],
    ["PUT", "/api/admin/session"],
    ["POST", "/api/admin/metrics"],
    ["DELETE", "/api/admin/rooms"],
    ["GET", "/api/stopping"],
    ["GET", "/api/schedules/00AAAAAAAAAAAAAAAAAAAAAA/run"],
    ["DELETE", "/api/chat/blocked-words"],
  ] as const) {
    out.push({ name: `${method} ${path}`, method, path });
  }
  return out;
}

const all = await cases();

/** The stream fixtures the cases read and write. */
async function prepare(): Promise<void> {
  const make = (name: string, type: string, query = "") =>
    exports.default.fetch(`${BASE}/v1/stream/${name}${query}`, { method: "PUT", headers: { "Content-Type": type, ...ADMIN } });
  await make("hostile-json", "application/json");
  await make("hostile-text", "text/plain", "?public=true");
  await make("hostile-private", "text/plain");
}

describe("hostile input over HTTP", () => {
  it(`covers every route with at least 300 cases (${all.length})`, async () => {
    expect(all.length).toBeGreaterThanOrEqual(300);
    await prepare();
  });

  it.each(all.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const response = await exports.default.fetch(`${BASE}${c.path}`, {
      method: c.method,
      headers: { "CF-Connecting-IP": freshIp(), ...c.headers },
      ...(c.body !== undefined && { body: c.body }),
    });
    const text = await response.text();
    expect(response.status, text.slice(0, 300)).toBeLessThan(500);
    if ((c.expect ?? "refused") === "refused") expect(response.status, text.slice(0, 300)).toBeGreaterThanOrEqual(400);
    if (response.status >= 400 && c.method !== "HEAD") {
      expect(JSON.parse(text), text.slice(0, 300)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    }
  });
});

/** Frames no socket should take; each is answered with an error frame or a close, never 1011. */
const BAD_FRAMES: [string, string | ArrayBuffer][] = [
  ["not JSON", "hello"],
  ["a JSON string", '"x"'],
  ["null", "null"],
  ["an array", "[]"],
  ["an unknown type", '{"type":"shutdown"}'],
  ["a type of the wrong kind", '{"type":1}'],
  ["extra fields", '{"type":"typing","admin":true}'],
  ["prototype keys", '{"type":"typing","__proto__":{"x":1}}'],
  ["a send without text", '{"type":"send","id":"a"}'],
  ["a send with a number as text", '{"type":"send","id":"a","text":5}'],
  ["a send with a bad id", '{"type":"send","id":"../x","text":"hi"}'],
  ["a send with a lone surrogate", '{"type":"send","id":"s1","text":"\\ud800"}'],
  ["a send with NUL", '{"type":"send","id":"s2","text":"a\\u0000"}'],
  ["a history with a negative before", '{"type":"history","before":-1}'],
  ["a history with a huge limit", '{"type":"history","limit":1e9}'],
  ["nested 8,000 deep", deepArray(8000)],
  ["a deep field", `{"type":"send","id":"d1","text":${deepArray(5000)}}`],
];

describe("hostile input over sockets", () => {
  it.each(BAD_FRAMES)("a chat room answers %s with an error frame and keeps working", async (_label, frame) => {
    const socket = await openSocket(`/api/rooms/hostile-${crypto.randomUUID().slice(0, 8)}/ws?name=Eve`, { "CF-Connecting-IP": freshIp() });
    await socket.next(ofType("ready"));
    socket.ws.send(frame);
    const error = await socket.next<{ code: string }>(ofType("error"));
    expect(error.code).not.toBe("internal");
    socket.ws.send(JSON.stringify({ type: "send", id: crypto.randomUUID(), text: "still here" }));
    expect(await socket.next(ofType("ack"))).toMatchObject({ message: { text: "still here" } });
    socket.ws.close();
  });

  // A counter takes frames of at most 256 bytes; longer ones close the socket (1009), tested below.
  const SMALL_FRAMES = BAD_FRAMES.filter(([, frame]) => typeof frame === "string" && frame.length <= 256);
  it.each(SMALL_FRAMES)("a counter answers %s with an error frame and keeps working", async (_label, frame) => {
    const socket = await openSocket(`/api/counters/hostile-${crypto.randomUUID().slice(0, 8)}/ws`, { "CF-Connecting-IP": freshIp() });
    await socket.next(ofType("ready"));
    socket.ws.send(frame);
    const error = await socket.next<{ code: string }>(ofType("error"));
    expect(error.code).not.toBe("internal");
    socket.ws.send(JSON.stringify({ type: "click" }));
    expect(await socket.next(ofType("count"))).toMatchObject({ count: 1 });
    socket.ws.close();
  });

  it.each([
    ["a binary frame", new Uint8Array([1, 2, 3]).buffer, 1003],
    ["a frame over the size limit", JSON.stringify({ type: "send", id: "big", text: "x".repeat(70_000) }), 1009],
    ["a deep frame over a counter's size limit", deepArray(8000), 1009],
  ] as const)("a socket closes on %s with %i", async (_label, frame, code) => {
    const path = frame === BAD_FRAMES.find(([label]) => label === "nested 8,000 deep")![1] ? "/api/counters/hostile-deep/ws" : `/api/rooms/hostile-${crypto.randomUUID().slice(0, 8)}/ws?name=Eve`;
    const socket = await openSocket(path, { "CF-Connecting-IP": freshIp() });
    await socket.next(ofType("ready"));
    socket.ws.send(frame);
    expect((await socket.closed).code).toBe(code);
  });

  it.each([
    ["no name", ""],
    ["a name of control characters", "?name=%01%02"],
    ["an overlong name", `?name=${"x".repeat(200)}`],
    ["an unknown parameter", "?name=Eve&admin=1"],
    ["a negative resume point", "?name=Eve&after=-1"],
    ["a resume point that is not a number", "?name=Eve&after=x"],
    ["a forged identity token", "?token=garbage"],
  ])("a chat room refuses a join with %s with a 44xx close", async (_label, query) => {
    const socket = await openSocket(`/api/rooms/hostile-join/ws${query}`, { "CF-Connecting-IP": freshIp() });
    const { code } = await socket.closed;
    expect(code).toBeGreaterThanOrEqual(4400);
    expect(code).toBeLessThan(4500);
  });
});
