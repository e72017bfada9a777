/**
 * The demo target `reminders` appends to a stream. These tests need the stream feature
 * (`StreamLog` bound as `STREAMS`, `/v1/stream/*`) in the same Worker.
 */
import { env, exports } from "cloudflare:workers";
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { BASE } from "../../test/edge/support.ts";
import type { ScheduleView } from "./scheduler.ts";
import { schedulerSettings } from "./settings.ts";

// workerd's clock stands still until the first I/O; start it before computing times.
beforeAll(async () => {
  await exports.default.fetch(`${BASE}/api/health`);
});

describe("stream targets", { timeout: 20_000 }, () => {
  it("appends a due schedule's payload to the target's stream, where a reader sees it", async () => {
    const text = `reminder ${crypto.randomUUID()}`;
    const response = await exports.default.fetch(`${BASE}/api/schedules`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ target: "reminders", at: new Date(Date.now() + 1000).toISOString(), payload: { text } }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const schedule = (await response.json()) as ScheduleView & { manageToken: string };

    await expect
      .poll(
        async () => {
          const read = await exports.default.fetch(`${BASE}/v1/stream/reminders?offset=-1`);
          return read.ok ? ((await read.json()) as unknown[]) : [];
        },
        { timeout: 10_000, interval: 100 },
      )
      .toContainEqual({ text });
    const view = await exports.default.fetch(`${BASE}/api/schedules/${schedule.id}`, {
      headers: { Authorization: `Bearer ${schedule.manageToken}` },
    });
    expect(await view.json()).toMatchObject({ state: "done", lastRun: { ok: true, error: null } });
  });

  it("keeps the demo stream bounded: it expires a day after it was made, and the next reminder starts a fresh one", async () => {
    const remind = async (text: string) => {
      const response = await exports.default.fetch(`${BASE}/api/schedules`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ target: "reminders", at: new Date(Date.now() + 500).toISOString(), payload: { text } }),
      });
      expect(response.status, await response.clone().text()).toBe(201);
    };
    const read = async () => {
      const response = await exports.default.fetch(`${BASE}/v1/stream/reminders?offset=-1`);
      return response.ok ? ((await response.json()) as unknown[]) : [];
    };
    const expiry = async () => Date.parse((await exports.default.fetch(`${BASE}/v1/stream/reminders`, { method: "HEAD" })).headers.get("Stream-Expires-At")!);
    const first = `first ${crypto.randomUUID()}`;
    await remind(first);
    await expect.poll(read, { timeout: 10_000, interval: 100 }).toContainEqual({ text: first });
    const expiresAt = await expiry();
    expect(expiresAt).toBeGreaterThan(Date.now() + 86_400_000 - 60_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 86_400_000);

    // A day passes: the stream's time is up.
    const stream = env.STREAMS.getByName("reminders");
    await runInDurableObject(stream, (_, state) => {
      const meta = state.storage.kv.get<{ expiresAt: string }>("meta")!;
      state.storage.kv.put("meta", { ...meta, expiresAt: new Date(Date.now() - 1000).toISOString() });
    });
    await evictDurableObject(stream);

    const second = `second ${crypto.randomUUID()}`;
    await remind(second);
    await expect.poll(read, { timeout: 10_000, interval: 100 }).toEqual([{ text: second }]);
    expect(await expiry()).toBeGreaterThan(Date.now() + 86_400_000 - 60_000);
  });
});

describe("SCHEDULE_TARGETS", () => {
  it("takes no stream target, and no target name, of dots alone", () => {
    for (const targets of ['{"up":{"stream":".."}}', '{"..":{"stream":"news"}}']) {
      expect(schedulerSettings({ ...env, SCHEDULE_TARGETS: targets }).targets.size, targets).toBe(0);
    }
    expect(schedulerSettings({ ...env, SCHEDULE_TARGETS: '{"up":{"stream":"v1.2"}}' }).targets.get("up")).toEqual({ kind: "stream", stream: "v1.2" });
  });
});
