import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { AUDIENCE, mintToken } from "../http/tokens.ts";
import { BASE, fetchWithVars } from "../../test/edge/support.ts";
import { DEV_STREAMS_SECRET, mintStreamToken } from "./tokens.ts";
import { ADMIN, bearer, call, createStream, token, unique } from "../../test/edge/stream-support.ts";

/** A token signed with the server's stream secret holding exactly these claims. */
const signed = (claims: Record<string, unknown>) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(env.STREAMS_JWT_SECRET!));
const inSeconds = (seconds: number) => Math.floor(Date.now() / 1000) + seconds;

const post = (name: string, headers: Record<string, string>) =>
  call(name, { method: "POST", headers: { "Content-Type": "text/plain", ...headers }, body: "hello" });

describe("stream auth (the default, STREAMS_AUTH=required)", () => {
  it("refuses a write without a token with 401 and a Bearer challenge", async () => {
    const name = unique("no-token");
    await createStream(name);
    const response = await post(name, {});
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer/);
    expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
  });

  it("refuses creating a stream without a token", async () => {
    const response = await call(unique("anon-create"), { method: "PUT", headers: { "Content-Type": "text/plain" } });
    expect(response.status).toBe(401);
  });

  it("refuses a token signed with another secret", async () => {
    const name = unique("wrong-secret");
    await createStream(name);
    const forged = await mintStreamToken("not-the-server-secret", { scope: "write" });
    const response = await post(name, bearer(forged));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_token" } });
  });

  it("refuses a malformed token", async () => {
    const name = unique("garbage");
    await createStream(name);
    expect((await post(name, bearer("not.a.jwt"))).status).toBe(401);
    expect((await post(name, { Authorization: "Basic abc" })).status).toBe(401);
  });

  it("refuses an expired token with token_expired", async () => {
    const name = unique("expired");
    await createStream(name);
    const old = await token({ scope: "write" }, Math.floor(Date.now() / 1000) - 60);
    const response = await post(name, bearer(old));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "token_expired" } });
  });

  it("refuses a read token for writing with 403", async () => {
    const name = unique("read-scope");
    await createStream(name);
    const response = await post(name, bearer(await token({ scope: "read" })));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "insufficient_scope" } });
  });

  it("refuses a write token limited to another stream with 403", async () => {
    const name = unique("mine");
    await createStream(name);
    const response = await post(name, bearer(await token({ scope: "write", stream: "someone-else" })));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: "wrong_stream" } });
  });

  it("accepts a write token for this stream, and one for any stream", async () => {
    const name = unique("writable");
    await createStream(name);
    expect((await post(name, bearer(await token({ scope: "write", stream: name })))).status).toBe(204);
    expect((await post(name, bearer(await token({ scope: "write" })))).status).toBe(204);
  });

  it("accepts ADMIN_TOKEN as the bearer for writes and deletes", async () => {
    const name = unique("admin");
    await createStream(name);
    expect((await post(name, ADMIN)).status).toBe(204);
    expect((await call(name, { method: "DELETE", headers: ADMIN })).status).toBe(204);
  });

  it("keeps a private stream from readers without a read token", async () => {
    const name = unique("private");
    await createStream(name, { body: "secret" });
    expect((await call(name, { query: "?offset=-1" })).status).toBe(401);
    expect((await call(name, { method: "HEAD" })).status).toBe(401);
    expect((await call(name, { query: "?offset=-1&live=sse" })).status).toBe(401);
    const read = await call(name, { query: "?offset=-1", headers: bearer(await token({ scope: "read", stream: name })) });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe("secret");
  });

  it("refuses a read token for another stream, and an expired read token, even on public streams", async () => {
    const name = unique("public-bad-token");
    await createStream(name, { body: "open", public: true });
    const other = await call(name, { query: "?offset=-1", headers: bearer(await token({ scope: "read", stream: "other" })) });
    expect(other.status).toBe(403);
    const expired = await call(name, { query: "?offset=-1", headers: bearer(await token({ scope: "read" }, Math.floor(Date.now() / 1000) - 5)) });
    expect(expired.status).toBe(401);
  });

  it("lets anyone read a stream created with ?public=true, but not write to it", async () => {
    const name = unique("public");
    await createStream(name, { body: "news", public: true });
    const read = await call(name, { query: "?offset=-1" });
    expect(read.status).toBe(200);
    expect(await read.text()).toBe("news");
    expect((await post(name, {})).status).toBe(401);
  });

  it("lets a write token read too", async () => {
    const name = unique("write-reads");
    await createStream(name, { body: "both" });
    const read = await call(name, { query: "?offset=-1", headers: bearer(await token({ scope: "write", stream: name })) });
    expect(await read.text()).toBe("both");
  });
});

describe("stream token lifetime and audience", () => {
  it("refuses a token that never expires", async () => {
    const name = unique("no-exp");
    await createStream(name);
    const response = await post(name, bearer(await signed({ aud: AUDIENCE.stream, scope: "write" })));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_token", message: expect.stringContaining("exp") } });
  });

  it("refuses a token that expires more than a day ahead (TOKEN_MAX_LIFETIME_SECONDS by default)", async () => {
    const name = unique("long-lived");
    await createStream(name);
    const response = await post(name, bearer(await token({ scope: "write" }, "25h")));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_token", message: expect.stringContaining("86400") } });
    expect((await post(name, bearer(await token({ scope: "write" }, "23h")))).status).toBe(204);
  });

  it("follows TOKEN_MAX_LIFETIME_SECONDS", async () => {
    const name = unique("short-lived");
    await createStream(name);
    const append = async (expires: string) =>
      fetchWithVars({ TOKEN_MAX_LIFETIME_SECONDS: "600" }, `/v1/stream/${name}`, {
        method: "POST",
        headers: { "Content-Type": "text/plain", ...bearer(await token({ scope: "write" }, expires)) },
        body: "x",
      });
    expect((await append("1h")).status).toBe(401);
    expect((await append("5m")).status).toBe(204);
  });

  it("refuses a token without an audience, as stream tokens were minted before", async () => {
    const name = unique("no-aud");
    await createStream(name);
    const response = await post(name, bearer(await signed({ scope: "write", exp: inSeconds(600) })));
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: "invalid_token", message: expect.stringContaining(AUDIENCE.stream) } });
  });

  it("refuses a token minted for another use with the same secret, even one that carries a write scope", async () => {
    const name = unique("other-use");
    await createStream(name);
    for (const kind of ["chatIdentity", "videoUpload", "subscriptionWake"] as const) {
      const replayed = await mintToken(env.STREAMS_JWT_SECRET!, kind, { scope: "write", sub: "u", name: "Ann" }, "10m");
      const response = await post(name, bearer(replayed));
      expect(response.status, kind).toBe(401);
    }
  });
});

describe("the dev secret", () => {
  const devToken = () => mintStreamToken(DEV_STREAMS_SECRET, { scope: "write" });
  const create = async (vars: Parameters<typeof fetchWithVars>[0], origin: string) =>
    fetchWithVars(vars, `${origin}/v1/stream/${unique("dev")}`, { method: "PUT", headers: { "Content-Type": "text/plain", ...bearer(await devToken()) } });

  it.each(["http://localhost:8787", "http://127.0.0.1:8787", "http://[::1]:8787", BASE])(
    "is refused by a backend without LOCAL_DEV and without STREAMS_JWT_SECRET, reached at %s",
    async (origin) => {
      const response = await create({ LOCAL_DEV: undefined, STREAMS_JWT_SECRET: undefined }, origin);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "invalid_token" } });
    },
  );

  it("is accepted by a backend the local runner started (LOCAL_DEV=true) without STREAMS_JWT_SECRET", async () => {
    expect((await create({ LOCAL_DEV: "true", STREAMS_JWT_SECRET: undefined }, "http://127.0.0.1:8787")).status).toBe(201);
  });

  it("is refused by a local backend that has its own STREAMS_JWT_SECRET", async () => {
    expect((await create({ LOCAL_DEV: "true" }, "http://127.0.0.1:8787")).status).toBe(401);
  });
});
