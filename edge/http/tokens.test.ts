import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AUDIENCE, mintToken, verifyToken, type TokenKind } from "./tokens.ts";

const SECRET = "one-secret-an-owner-reuses-everywhere";
const DAY = 24 * 3600;
const KINDS = Object.keys(AUDIENCE) as TokenKind[];
const now = () => Math.floor(Date.now() / 1000);

/** A token as any JWT library would sign it, with exactly these claims. */
const signed = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(SECRET));

describe("tokens of every kind", () => {
  it.each(KINDS)("accept a %s token minted for that use", async (kind) => {
    const verdict = await verifyToken(SECRET, kind, await mintToken(SECRET, kind, { sub: "u" }, "10m"), { maxLifetime: DAY });
    expect(verdict.ok).toBe(true);
  });

  it.each(KINDS.flatMap((minted) => KINDS.filter((used) => used !== minted).map((used) => [minted, used])))(
    "refuse a %s token replayed as a %s token signed with the same secret",
    async (minted, used) => {
      const token = await mintToken(SECRET, minted, { sub: "u", name: "Ann", scope: "write", epoch: 1 }, "10m");
      const verdict = await verifyToken(SECRET, used, token, { maxLifetime: DAY });
      expect(verdict).toMatchObject({ ok: false, code: "invalid_token", message: expect.stringContaining(AUDIENCE[used]) });
    },
  );

  it("refuse a token without an audience, as minted before each kind had one", async () => {
    const verdict = await verifyToken(SECRET, "stream", await signed({ scope: "write", exp: now() + 600 }), { maxLifetime: DAY });
    expect(verdict).toMatchObject({ ok: false, code: "invalid_token" });
  });

  it("refuse a token that never expires", async () => {
    const verdict = await verifyToken(SECRET, "stream", await signed({ aud: AUDIENCE.stream, scope: "write" }), { maxLifetime: DAY });
    expect(verdict).toMatchObject({ ok: false, code: "invalid_token", message: expect.stringContaining("exp") });
  });

  it("refuse a token that expires further ahead than the maximum lifetime", async () => {
    const token = await mintToken(SECRET, "chatIdentity", { sub: "u" }, "2h");
    expect(await verifyToken(SECRET, "chatIdentity", token, { maxLifetime: 3600 })).toMatchObject({
      ok: false,
      code: "invalid_token",
      message: expect.stringContaining("at most 3600 seconds"),
    });
    expect((await verifyToken(SECRET, "chatIdentity", token, { maxLifetime: DAY })).ok).toBe(true);
  });

  it("refuse an expired token with token_expired", async () => {
    const token = await mintToken(SECRET, "videoUpload", { sub: "u" }, now() - 60);
    expect(await verifyToken(SECRET, "videoUpload", token, { maxLifetime: DAY })).toMatchObject({ ok: false, code: "token_expired" });
  });

  it("refuse a token signed with another secret or another algorithm", async () => {
    const other = await mintToken("another-secret-entirely", "stream", { scope: "write" }, "10m");
    expect(await verifyToken(SECRET, "stream", other, { maxLifetime: DAY })).toMatchObject({ ok: false, code: "invalid_token" });
    const unsigned = `${btoa(JSON.stringify({ alg: "none" }))}.${btoa(JSON.stringify({ aud: AUDIENCE.stream, exp: now() + 60 }))}.`;
    expect(await verifyToken(SECRET, "stream", unsigned, { maxLifetime: DAY })).toMatchObject({ ok: false, code: "invalid_token" });
  });
});
