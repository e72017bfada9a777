import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN, call, unique } from "../../test/edge/stream-support.ts";
import { BASE } from "../../test/edge/support.ts";
import { NAME_PATTERN, isStreamPath } from "../../contract/names.ts";

/** Dots alone mean "here" and "up" to anything that treats a name as a path or key. */
const DOTS = [".", "..", "..."];

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;
const fetchPath = (path: string, init?: RequestInit) => exports.default.fetch(`${BASE}${path}`, init);
const json = (method: string, body: unknown): RequestInit => ({ method, headers: { "Content-Type": "application/json", ...ADMIN }, body: JSON.stringify(body) });

describe("the name rule (shared by the Worker, the widgets and the scripts)", () => {
  it("refuses a name of dots alone, and keeps names that merely hold dots", () => {
    for (const name of DOTS) expect(NAME_PATTERN.test(name), name).toBe(false);
    for (const name of ["a.b", ".hidden", "v1.2", "..x", "x.."]) expect(NAME_PATTERN.test(name), name).toBe(true);
  });

  it("refuses a stream path with a segment of dots alone anywhere", () => {
    for (const path of ["..", "a/..", "a/b/../..", "../../etc/passwd", "a/./b", "a/..."]) expect(isStreamPath(path), path).toBe(false);
    expect(isStreamPath("a/.b/c..")).toBe(true);
  });
});

describe("dot segments on every surface that takes a name", () => {
  it("refuses stream paths with dot segments, encoded or not, with 400 invalid_name", async () => {
    for (const path of ["a%2fb%2f..%2f..", "..%2f..%2fetc%2fpasswd", "...", "a/...", "a%2f%2e", "x%2F%2E%2E%2Fy"]) {
      const response = await call(path, { method: "PUT", headers: { "Content-Type": "text/plain", ...ADMIN } });
      expect(response.status, path).toBe(400);
      expect(await errorCode(response), path).toBe("invalid_name");
    }
  });

  it("refuses a fork whose source path has dot segments", async () => {
    for (const source of ["a/../secret", "/v1/stream/..%2fsecret", "..", "%2e%2e/secret"]) {
      const response = await call(unique("fork"), { method: "PUT", headers: { "Content-Type": "text/plain", "Stream-Forked-From": source, ...ADMIN } });
      expect(response.status, source).toBe(400);
      expect(await errorCode(response), source).toBe("invalid_name");
    }
  });

  it("refuses counter and room names of dots alone with 400 invalid_name", async () => {
    // A URL parser already removes `.` and `..` segments; `...` and encoded forms reach the Worker.
    for (const path of ["/api/counters/...", "/api/counters/%2e%2e%2e", "/api/rooms/.../messages", "/api/rooms/.%2E./messages"]) {
      const response = await fetchPath(path);
      expect(response.status, path).toBe(400);
      expect(await errorCode(response), path).toBe("invalid_name");
    }
  });

  it("refuses subscription ids, stream paths and patterns with dot segments with 400 INVALID_REQUEST", async () => {
    const subscriptions = `/v1/stream/__ds/subscriptions`;
    const refusals = [
      fetchPath(`${subscriptions}/...`, json("PUT", { type: "webhook", pattern: "a/*", webhook: { url: "https://hooks.example.com/x" } })),
      fetchPath(`${subscriptions}/${unique("s")}`, json("PUT", { type: "webhook", streams: ["a/.."], webhook: { url: "https://hooks.example.com/x" } })),
      fetchPath(`${subscriptions}/${unique("s")}`, json("PUT", { type: "webhook", pattern: "../*", webhook: { url: "https://hooks.example.com/x" } })),
      fetchPath(`${subscriptions}/${unique("s")}`, json("PUT", { type: "pull-wake", pattern: "a/*", wake_stream: "..." })),
      fetchPath(`${subscriptions}/${unique("s")}/streams`, json("POST", { streams: ["ok", "b/./c"] })),
      fetchPath(`${subscriptions}/${unique("s")}/streams/a%2f..`, { method: "DELETE", headers: ADMIN }),
    ];
    for (const [i, response] of (await Promise.all(refusals)).entries()) {
      expect(response.status, String(i)).toBe(400);
      expect(await errorCode(response), String(i)).toBe("INVALID_REQUEST");
    }
  });
});
