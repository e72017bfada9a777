/** `npm run token`, as the README tells people to use it against a local backend. */
import { spawnSync } from "node:child_process";
import { describe, expect, inject, it } from "vitest";
import { root } from "../../scripts/backend.ts";

const endpoint = inject("endpoint");

function mint(...args: string[]): { status: number | null; token: string; stderr: string } {
  const result = spawnSync(process.execPath, ["scripts/token.ts", ...args], { cwd: root, encoding: "utf8", env: { ...process.env, STREAMS_JWT_SECRET: "" } });
  return { status: result.status, token: result.stdout.trim(), stderr: result.stderr };
}

describe("npm run token", () => {
  it("mints a write token for one stream path that the local backend accepts there and nowhere else", async () => {
    const path = `token-${crypto.randomUUID().slice(0, 8)}/eu`;
    const { status, token } = mint("write", path);
    expect(status).toBe(0);
    const put = (stream: string) => fetch(`${endpoint}/v1/stream/${stream}`, { method: "PUT", headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" } });
    expect((await put(path)).status).toBe(201);
    expect((await put(`${path}/other`)).status).toBe(403);
  });

  it("refuses to mint a token that lives longer than the backend accepts", () => {
    const tooLong = mint("write", "news", "--expires", "2d");
    expect(tooLong.status).toBe(2);
    expect(tooLong.stderr).toMatch(/TOKEN_MAX_LIFETIME_SECONDS/);
    expect(mint("write", "news", "--expires", "12h").status).toBe(0);
  });

  it("refuses a scope or stream path the backend would not accept", () => {
    expect(mint("admin").status).toBe(2);
    const bad = mint("read", "a//b");
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/usage/);
  });
});
