import { describe, expect, it } from "vitest";
import { ADMIN, call, createStream, readSse, unique } from "../../test/edge/stream-support.ts";

const SANDBOX = "sandbox; default-src 'none'";

/** What a browser that opens this answer on the Worker's origin could run: nothing. */
function expectInert(response: Response, what: string) {
  expect(response.headers.get("Content-Security-Policy"), what).toBe(SANDBOX);
  expect(response.headers.get("X-Content-Type-Options"), what).toBe("nosniff");
}

const expectDownload = (response: Response, what: string) =>
  expect(response.headers.get("Content-Disposition"), what).toBe("attachment");

const PAGE = "<script>localStorage.clear()</script>";

describe("stream answers are inert in a browser, whatever type the writer chose", () => {
  for (const type of ["text/html", "image/svg+xml"]) {
    it(`serves a ${type} stream as a sandboxed download on create, catch-up, long-poll, SSE, HEAD and 304`, async () => {
      const name = unique("page");
      const created = await createStream(name, { type, body: PAGE, public: true });
      expectInert(created, "create");
      expectDownload(created, "create");

      const read = await call(name, { query: "?offset=-1" });
      expect(read.headers.get("Content-Type"), "the writer's type is kept").toBe(type);
      expect(await read.text()).toBe(PAGE);
      expectInert(read, "catch-up");
      expectDownload(read, "catch-up");

      const notModified = await call(name, { query: "?offset=-1", headers: { "If-None-Match": read.headers.get("ETag")! } });
      expect(notModified.status).toBe(304);
      expectInert(notModified, "304");

      const polled = await call(name, { query: "?offset=-1&live=long-poll" });
      expect(polled.status).toBe(200);
      expectInert(polled, "long-poll");
      expectDownload(polled, "long-poll");
      await polled.body?.cancel();

      const waited = await call(name, { query: `?offset=${created.headers.get("Stream-Next-Offset")}&live=long-poll` });
      expect(waited.status).toBe(204);
      expectInert(waited, "long-poll timeout");

      const sse = await call(name, { query: "?offset=-1&live=sse" });
      expect(sse.headers.get("Content-Type")).toBe("text/event-stream");
      expectInert(sse, "SSE");
      await readSse(sse).cancel();

      const head = await call(name, { method: "HEAD" });
      expectInert(head, "HEAD");
      expectDownload(head, "HEAD");

      const refused = await call(name, { method: "POST", headers: { "Content-Type": type }, body: PAGE });
      expect(refused.status).toBe(401);
      expectInert(refused, "an error");
    });
  }

  it("shows JSON and plain text streams in place (no download), still sandboxed", async () => {
    for (const type of ["application/json", "text/plain; charset=utf-8"]) {
      const name = unique("data");
      await createStream(name, { type, public: true });
      const read = await call(name, { query: "?offset=-1" });
      expectInert(read, type);
      expect(read.headers.get("Content-Disposition"), type).toBeNull();
      await read.body?.cancel();
    }
  });

  it("sandboxes an answer to a bad stream path too", async () => {
    const response = await call("a%2f%3cscript%3e", { method: "PUT", headers: ADMIN });
    expect(response.status).toBe(400);
    expectInert(response, "400");
  });
});
