import { describe, expect, it } from "vitest";
import { signingKey } from "./sign-playback-token.ts";
import { makeStreamKey } from "../../test/edge/video-keys.ts";
import { playbackToken } from "./token-cache.ts";

const A = "5d5bc37ffcf54c9b82e996823bffbb81";
const B = "a3e7f1b2c4d54e6f8091a2b3c4d5e6f7";

describe("playbackToken", { timeout: 30_000 }, () => {
  it("hands out the same token for a video within ten minutes, and a separate one per video and per download right", async () => {
    const key = await signingKey((await makeStreamKey()).base64);
    const first = await playbackToken(key, A);
    expect(await playbackToken(key, A)).toEqual(first);
    expect((await playbackToken(key, B)).token).not.toBe(first.token);
    expect((await playbackToken(key, A, { downloadable: true })).token).not.toBe(first.token);
  });

  it("signs a new token once the cached one has less than fifty minutes left", async () => {
    const key = await signingKey((await makeStreamKey()).base64);
    const at = (time: string) => Date.parse(time) / 1000;
    const first = await playbackToken(key, A, { now: at("2026-06-01T12:00:00Z") });
    expect((await playbackToken(key, A, { now: at("2026-06-01T12:09:59Z") })).token).toBe(first.token);
    const renewed = await playbackToken(key, A, { now: at("2026-06-01T12:10:01Z") });
    expect(renewed.token).not.toBe(first.token);
    expect(renewed.exp).toBe(Date.parse("2026-06-01T13:10:01Z") / 1000);
  });
});
