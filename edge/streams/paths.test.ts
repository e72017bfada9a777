import { describe, expect, it } from "vitest";
import { ADMIN, call, createStream, unique } from "../../test/edge/stream-support.ts";

describe("stream paths", () => {
  it("names a stream by up to eight /-separated segments", async () => {
    const path = `${unique("nested")}/a/b`;
    await createStream(path, { public: true, body: "deep" });
    expect(await (await call(path, { query: "?offset=-1" })).text()).toBe("deep");
    // The parent path is another stream, which does not exist.
    expect((await call(path.split("/")[0]!)).status).toBe(404);
  });

  it("refuses empty segments, bad characters and too many segments", async () => {
    for (const bad of ["a//b", "a/b/", "a/b%20c", "1/2/3/4/5/6/7/8/9", `${"x".repeat(65)}/y`]) {
      const response = await call(bad, { method: "PUT", headers: { "Content-Type": "text/plain", ...ADMIN } });
      expect(response.status, bad).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_name");
    }
  });
});
