/**
 * `npm run serve`: the backend on plain workerd, as an owner runs it. Real processes, real
 * sockets, real SQLite files in a throwaway data directory.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEV_STREAMS_SECRET, mintStreamToken } from "../../edge/streams/tokens.ts";
import { cleanUp, makeDataDir, startServe, STREAMS_SECRET, type Served } from "./serve-support.ts";

afterEach(cleanUp);

async function click(served: Served, counter: string): Promise<number> {
  const socket = new WebSocket(`${served.url.replace("http", "ws")}/api/counters/${counter}/ws`);
  const frames: { type: string; count: number }[] = [];
  const next = () =>
    new Promise<{ type: string; count: number }>((done, fail) => {
      const waiting = frames.shift();
      if (waiting) return done(waiting);
      socket.addEventListener("message", () => done(frames.shift()!), { once: true });
      socket.addEventListener("close", () => fail(new Error("socket closed")), { once: true });
    });
  socket.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
  const ready = await next();
  expect(ready.type).toBe("ready");
  socket.send(JSON.stringify({ type: "click" }));
  let frame = await next();
  while (frame.type !== "count") frame = await next();
  socket.close();
  return frame.count;
}

async function stream(served: Served, method: string, body?: unknown): Promise<Response> {
  const token = await mintStreamToken(STREAMS_SECRET, { scope: "write" });
  return fetch(`${served.url}/v1/stream/serve-notes`, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

describe("npm run serve", () => {
  it("answers the health route, the demo page and the widget bundle", async () => {
    const served = await startServe();
    const health = await fetch(`${served.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true });
    const page = await fetch(`${served.url}/`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await page.text()).toContain("<click-counter");
    const widgets = await fetch(`${served.url}/widgets.js`);
    expect(widgets.status).toBe(200);
    expect(widgets.headers.get("content-type")).toMatch(/javascript/);
    expect(widgets.headers.get("access-control-allow-origin")).toBe("*");
    expect((await fetch(`${served.url}/widgets/no-such-widget.js`)).status).toBe(404);
    expect((await fetch(`${served.url}/no-such-page`)).status).toBe(404);
  });

  it("counts a click sent over the counter's socket", async () => {
    const served = await startServe();
    expect(await click(served, "serve-clicks")).toBe(1);
    expect(await click(served, "serve-clicks")).toBe(2);
  });

  it("creates a stream, appends to it and reads it back", async () => {
    const served = await startServe();
    expect((await stream(served, "PUT", [{ note: "first" }])).status).toBe(201);
    expect((await stream(served, "POST", [{ note: "second" }])).status).toBe(204);
    const read = await stream(served, "GET");
    expect(read.status).toBe(200);
    expect(await read.json()).toEqual([{ note: "first" }, { note: "second" }]);
  });

  it("keeps what was written before workerd was killed", async () => {
    const dataDir = makeDataDir();
    const first = await startServe({ dataDir });
    expect(await click(first, "serve-survivor")).toBe(1);
    expect((await stream(first, "PUT", [{ note: "before the crash" }])).status).toBe(201);
    // A plain append stores only its log row: the tail after the restart comes from the log.
    const appended = await stream(first, "POST", [{ note: "appended before it" }]);
    expect(appended.status).toBe(204);
    await first.crash();
    const second = await startServe({ dataDir, port: first.port });
    expect(await click(second, "serve-survivor")).toBe(2);
    const read = await stream(second, "GET");
    expect(read.headers.get("Stream-Next-Offset")).toBe(appended.headers.get("Stream-Next-Offset"));
    expect(await read.json()).toEqual([{ note: "before the crash" }, { note: "appended before it" }]);
    const after = await stream(second, "POST", [{ note: "after" }]);
    expect(after.headers.get("Stream-Next-Offset")! > appended.headers.get("Stream-Next-Offset")!).toBe(true);
  });

  it("delivers once, after a restart, a schedule that fell due while workerd was down", async () => {
    const dataDir = makeDataDir();
    const first = await startServe({ dataDir });
    const at = Date.now() + 3_000;
    const created = await fetch(`${first.url}/api/schedules`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ target: "reminders", at: new Date(at).toISOString(), payload: { text: "due while down" } }),
    });
    expect(created.status).toBe(201);
    const { id, manageToken } = (await created.json()) as { id: string; manageToken: string };
    await first.crash();
    expect(Date.now()).toBeLessThan(at);
    // The due time passes with nothing running.
    await new Promise((done) => setTimeout(done, at + 500 - Date.now()));

    const second = await startServe({ dataDir, port: first.port });
    const manage = { headers: { Authorization: `Bearer ${manageToken}` } };
    let schedule = { state: "scheduled", runCount: 0 };
    while (schedule.state !== "done") {
      await new Promise((done) => setTimeout(done, 200));
      schedule = await (await fetch(`${second.url}/api/schedules/${id}`, manage)).json();
    }
    expect(schedule.runCount).toBe(1);
    const { runs } = (await (await fetch(`${second.url}/api/schedules/${id}/runs`, manage)).json()) as { runs: { ok: boolean }[] };
    expect(runs).toEqual([expect.objectContaining({ ok: true })]);
    const token = await mintStreamToken(STREAMS_SECRET, { scope: "read" });
    const reminders = await fetch(`${second.url}/v1/stream/reminders`, { headers: { Authorization: `Bearer ${token}` } });
    expect(await reminders.json()).toEqual([{ text: "due while down" }]);
  });

  it("stops cleanly on SIGTERM", async () => {
    const served = await startServe();
    served.child.kill("SIGTERM");
    expect(await served.exited).toBe(0);
    await expect(fetch(`${served.url}/api/health`)).rejects.toThrow();
  });
  it("answers a long-poll under way before it stops on SIGTERM, however long the poll waits", async () => {
    // Longer than the watchdog's usual 5 s grace: serve gives workerd the long-poll's time.
    const served = await startServe({ env: { STREAMS_LONG_POLL_MS: "7000" } });
    expect((await stream(served, "PUT", [])).status).toBe(201);
    const token = await mintStreamToken(STREAMS_SECRET, { scope: "read" });
    const poll = fetch(`${served.url}/v1/stream/serve-notes?offset=now&live=long-poll`, { headers: { Authorization: `Bearer ${token}` } });
    // Nothing outside says when workerd has taken the poll in (its log line comes with the answer).
    await new Promise((done) => setTimeout(done, 500));
    served.child.kill("SIGTERM");
    const answered = await poll;
    expect(answered.status).toBe(204);
    expect(answered.headers.get("stream-up-to-date")).toBe("true");
    expect(await served.exited).toBe(0);
  });
});

describe("npm run serve refuses to start", () => {
  it("with the public development secret, naming it", async () => {
    const started = startServe({ env: { STREAMS_JWT_SECRET: DEV_STREAMS_SECRET } });
    await expect(started).rejects.toThrow(/exited \(1\)[\s\S]*STREAMS_JWT_SECRET is the public development secret/);
  });

  it("without the stream token secret, naming it", async () => {
    const started = startServe({ env: { STREAMS_JWT_SECRET: "" } });
    await expect(started).rejects.toThrow(/exited \(1\)[\s\S]*STREAMS_JWT_SECRET must be set/);
  });

  it("takes the secrets from the file SERVE_ENV names", async () => {
    const dataDir = makeDataDir();
    writeFileSync(join(dataDir, "owner.env"), `STREAMS_JWT_SECRET=${STREAMS_SECRET}\nADMIN_TOKEN="short"\n`);
    const started = startServe({ dataDir, env: { STREAMS_JWT_SECRET: "", SERVE_ENV: join(dataDir, "owner.env") } });
    await expect(started).rejects.toThrow(/ADMIN_TOKEN is shorter than 16 characters/);
  });
});
