/**
 * `npm run serve` logs one JSON object per line on stdout: workerd's own lines (structured
 * logging), serve's events and, from the Worker, one line per request (`LOG_REQUESTS=json`)
 * that never carries a credential.
 */
import { afterEach, describe, expect, it } from "vitest";
import { mintStreamToken } from "../../edge/streams/tokens.ts";
import { cleanUp, startServe, STREAMS_SECRET, type Served } from "./serve-support.ts";

afterEach(cleanUp);

interface LogLine {
  timestamp: number | string;
  level: string;
  event?: string;
  message?: string;
}

interface RequestLine {
  event: "request";
  method: string;
  path: string;
  status: number;
  durationMs: number;
  clientIp: string;
}

const lines = (served: Served): LogLine[] =>
  served
    .stdout()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogLine);

/** The Worker's request lines among `logged`, each the `message` of a structured console line. */
const requestLines = (logged: LogLine[]): RequestLine[] =>
  logged.filter((line) => line.level === "log" && line.message?.startsWith('{"event":"request"')).map((line) => JSON.parse(line.message!) as RequestLine);

/**
 * The request lines after serve said it listens (before it come serve's own health probes), once
 * there are `count` of them (workerd writes each as its response leaves).
 */
async function requestsLogged(served: Served, count: number): Promise<RequestLine[]> {
  const sinceListening = () => {
    const logged = lines(served);
    return requestLines(logged.slice(logged.findIndex((line) => line.event === "listening") + 1));
  };
  while (sinceListening().length < count) await new Promise((done) => served.child.stdout!.once("data", done));
  return sinceListening();
}

describe("npm run serve's log", () => {
  it("has one JSON line per request with its method, path, status, duration and client IP", async () => {
    const served = await startServe();
    const token = await mintStreamToken(STREAMS_SECRET, { scope: "write" });
    const put = await fetch(`${served.url}/v1/stream/serve-logged?note=1`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: "[]",
    });
    expect(put.status).toBe(201);
    expect((await fetch(`${served.url}/api/no-such-route`)).status).toBe(404);

    const [created, missing] = await requestsLogged(served, 2);
    expect(created).toEqual({ event: "request", method: "PUT", path: "/v1/stream/serve-logged", status: 201, durationMs: expect.any(Number), clientIp: "unidentified" });
    expect(created!.durationMs).toBeGreaterThanOrEqual(0);
    expect(missing).toMatchObject({ method: "GET", path: "/api/no-such-route", status: 404 });
    // Every line is JSON (lines() parses them all), serve's own events included.
    expect(lines(served).find((line) => line.event === "listening")).toMatchObject({ level: "info", timestamp: expect.any(Number) });
  });

  it("writes no token, cookie or secret path segment", async () => {
    const served = await startServe();
    const token = await mintStreamToken(STREAMS_SECRET, { scope: "write" });
    const playToken = "play-token-that-must-not-be-logged";
    const ticket = "0123456789abcdef0123456789abcdef";
    await fetch(`${served.url}/v1/stream/serve-secret`, { headers: { Authorization: `Bearer ${token}`, Cookie: "session=cookie-that-must-not-be-logged" } });
    await fetch(`${served.url}/api/rooms/lobby/messages?token=query-token-that-must-not-be-logged`);
    await fetch(`${served.url}/api/videos/play/${playToken}/manifest/video.m3u8`);
    await fetch(`${served.url}/api/videos/uploads/${ticket}`, { method: "POST", body: "not a video" });

    const logged = await requestsLogged(served, 4);
    expect(logged.map((line) => line.path)).toEqual([
      "/v1/stream/serve-secret",
      "/api/rooms/lobby/messages",
      "/api/videos/play/…/manifest/video.m3u8",
      "/api/videos/uploads/…",
    ]);
    for (const secret of [token, "cookie-that-must-not-be-logged", "query-token-that-must-not-be-logged", playToken, ticket]) {
      expect(served.output()).not.toContain(secret);
    }
  });

  it("ends with a stopping and a stopped event on SIGTERM", async () => {
    const served = await startServe();
    served.child.kill("SIGTERM");
    expect(await served.exited).toBe(0);
    expect(lines(served).map((line) => line.event).filter(Boolean)).toEqual(["listening", "stopping", "stopped"]);
  });
});
