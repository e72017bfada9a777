import { describe, expect, it } from "vitest";
import { ADMIN, bearer, call, createStream, token, unique } from "../../test/edge/stream-support.ts";

/** Forks a stream into `fork`, with the caller's own credentials. */
function fork(fork: string, source: string, headers: Record<string, string>, options: { public?: boolean } = {}) {
  return call(fork, {
    method: "PUT",
    query: options.public ? "?public=true" : "",
    headers: { "Content-Type": "text/plain", "Stream-Forked-From": source, ...headers },
  });
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe("forks need read access to their source", () => {
  it("refuses a write token for the fork alone a fork of a private stream, as a read of it would be refused", async () => {
    const secret = unique("secret");
    await createStream(secret, { body: "private data" });
    const mine = unique("mine");
    const writeMine = bearer(await token({ scope: "write", stream: mine }));

    const response = await fork(mine, secret, writeMine);
    // A read of the source with this token answers 403 wrong_stream; so does the fork.
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe("wrong_stream");
    expect((await call(mine, { query: "?offset=-1", headers: ADMIN })).status).toBe(404);
  });

  it("never publishes a private source: the fork of the issue's report is refused and reads nothing", async () => {
    const secret = unique("secret");
    await createStream(secret, { body: "private data" });
    const mine = unique("mine");
    const response = await fork(mine, secret, bearer(await token({ scope: "write", stream: mine })), { public: true });
    expect(response.status).toBe(403);
    const read = await call(mine, { query: "?offset=-1" });
    expect(read.status).toBe(404);
    expect(await read.text()).not.toContain("private data");
  });

  it("refuses ?public=true on a fork of a private stream with 403 fork_not_public, even to a caller who may read it", async () => {
    const secret = unique("secret");
    await createStream(secret, { body: "private data" });
    const copy = unique("copy");
    const response = await fork(copy, secret, bearer(await token({ scope: "write" })), { public: true });
    expect(response.status).toBe(403);
    expect(await errorCode(response)).toBe("fork_not_public");
    expect((await fork(copy, secret, ADMIN, { public: true })).status).toBe(403);
    expect((await call(copy, { method: "HEAD", headers: ADMIN })).status).toBe(404);
  });

  it("lets a caller whose token reads a private source fork it privately", async () => {
    const secret = unique("secret");
    await createStream(secret, { body: "private data" });
    const copy = unique("copy");
    const everyStream = bearer(await token({ scope: "write" }));
    expect((await fork(copy, secret, everyStream)).status).toBe(201);
    expect((await call(copy, { query: "?offset=-1" })).status).toBe(401);
    expect(await (await call(copy, { query: "?offset=-1", headers: everyStream })).text()).toBe("private data");
  });

  it("lets a write token for the fork alone fork a public source, publicly", async () => {
    const news = unique("news");
    await createStream(news, { body: "open data", public: true });
    const mine = unique("mine");
    const response = await fork(mine, news, bearer(await token({ scope: "write", stream: mine })), { public: true });
    expect(response.status).toBe(201);
    expect(await (await call(mine, { query: "?offset=-1" })).text()).toBe("open data");
  });

  it("still answers 404 source_not_found for a fork of a stream that does not exist", async () => {
    const response = await fork(unique("orphan"), unique("nothing"), ADMIN);
    expect(response.status).toBe(404);
    expect(await errorCode(response)).toBe("source_not_found");
  });
});

describe("deleting a source that has forks", () => {
  it("hides the source at once while a fork made by someone else keeps what it forked", async () => {
    const source = unique("source");
    await createStream(source, { body: "before the fork" });
    const theirs = unique("theirs");
    const reader = bearer(await token({ scope: "write" }));
    expect((await fork(theirs, source, reader)).status).toBe(201);

    expect((await call(source, { method: "DELETE", headers: ADMIN })).status).toBe(204);
    const gone = await call(source, { query: "?offset=-1", headers: ADMIN });
    expect(gone.status).toBe(410);
    expect(await errorCode(gone)).toBe("stream_gone");
    // The fork's inherited data is its own now: its maker could read it anyway.
    expect(await (await call(theirs, { query: "?offset=-1", headers: reader })).text()).toBe("before the fork");
    // No new forks, and the name stays taken until the last fork goes; then it is free again.
    expect((await fork(unique("late"), source, ADMIN)).status).toBe(409);
    const reuse = await createStream(source).catch((error: Error) => error);
    expect(String(reuse)).toContain("409");
    expect((await call(theirs, { method: "DELETE", headers: reader })).status).toBe(204);
    expect((await createStream(source)).status).toBe(201);
  });
});
