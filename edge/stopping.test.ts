import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, fetchWithVars } from "../test/edge/support.ts";

// Only refusals here: the flag a right token sets holds for the whole isolate, other tests' schedulers included.
describe("POST /api/stopping", () => {
  it("is not there where npm run serve set no stop token", async () => {
    const response = await exports.default.fetch(`${BASE}/api/stopping`, { method: "POST", headers: { Authorization: "Bearer anything" } });
    expect(response.status).toBe(404);
  });

  it("refuses a missing or wrong token with a 401", async () => {
    const vars = { SERVE_STOP_TOKEN: "the-runner-token" };
    expect((await fetchWithVars(vars, "/api/stopping", { method: "POST" })).status).toBe(401);
    const wrong = await fetchWithVars(vars, "/api/stopping", { method: "POST", headers: { Authorization: "Bearer the-runner-tokeN" } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe("unauthorized");
  });
});
