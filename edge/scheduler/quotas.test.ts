import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../env.ts";
import { fetchWithVars, freshIp } from "../../test/edge/support.ts";
import type { ScheduleView } from "./scheduler.ts";

type Created = ScheduleView & { manageToken: string };

const ADMIN = { Authorization: "Bearer test-admin-token" };
const inAMinute = () => new Date(Date.now() + 60_000).toISOString();
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

/** A target of its own per test, so no other test's schedules count against it. */
function setup(vars: Partial<Env>) {
  const target = `cap-${crypto.randomUUID().slice(0, 8)}`;
  const targets = { [target]: "https://hooks.example.com/cap" };
  const all = { SCHEDULE_TARGETS: JSON.stringify(targets), ...vars };
  const create = (ip: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    fetchWithVars(all, "/api/schedules", {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip, ...headers },
      body: JSON.stringify({ target, at: tomorrow(), ...body }),
    });
  const cancel = (schedule: Created) =>
    fetchWithVars(all, `/api/schedules/${schedule.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${schedule.manageToken}` } });
  return { create, cancel, target };
}

async function createdBy(create: () => Promise<Response>): Promise<Created> {
  const response = await create();
  expect(response.status, await response.clone().text()).toBe(201);
  return response.json();
}

describe("caps on live schedules", { timeout: 20_000 }, () => {
  it("refuses an address more than SCHEDULE_MAX_PER_IP live schedules with 429 too_many_schedules, and not another address", async () => {
    const { create } = setup({ SCHEDULE_MAX_PER_IP: "3" });
    const ip = freshIp();
    for (let i = 0; i < 3; i++) await createdBy(() => create(ip));
    const refused = await create(ip, { at: undefined, every: 3600 });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: "too_many_schedules", message: expect.stringContaining("3 live schedules") } });
    await createdBy(() => create(freshIp()));
  });

  it("gives a cancelled schedule's place back at once", async () => {
    const { create, cancel } = setup({ SCHEDULE_MAX_PER_IP: "1" });
    const ip = freshIp();
    const first = await createdBy(() => create(ip));
    expect((await create(ip)).status).toBe(429);
    expect((await cancel(first)).status).toBe(200);
    await createdBy(() => create(ip));
  });

  it("gives a finished schedule's place back", async () => {
    const { create } = setup({ SCHEDULE_MAX_PER_IP: "1" });
    const ip = freshIp();
    await createdBy(() => create(ip, { at: new Date(Date.now() + 500).toISOString() }));
    expect((await create(ip)).status).toBe(429);
    // The shard delivers (to a target only this test's vars know, so the run fails) and finishes it.
    await expect.poll(async () => (await create(ip)).status, { timeout: 10_000, interval: 200 }).toBe(201);
  });

  it("stops counting a schedule once it can no longer run, even if its place was never given back", async () => {
    const counter = env.RATE_LIMITER.getByName(freshIp());
    expect(await counter.holdSchedule("lost-release", Date.now() - 1, 1)).toBe(true);
    expect(await counter.holdSchedule("next", Date.now() + 60_000, 1)).toBe(true);
    expect(await counter.holdSchedule("one-too-many", Date.now() + 60_000, 1)).toBe(false);
  });

  it("refuses a target more than SCHEDULE_MAX_PER_TARGET live schedules from all addresses together", async () => {
    const { create, target } = setup({ SCHEDULE_MAX_PER_TARGET: "2" });
    await createdBy(() => create(freshIp()));
    await createdBy(() => create(freshIp()));
    const refused = await create(freshIp());
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: "too_many_schedules", message: expect.stringContaining(`"${target}"`) } });
  });

  it("does not count the admin's schedules", async () => {
    const { create } = setup({ SCHEDULE_MAX_PER_IP: "1", SCHEDULE_MAX_PER_TARGET: "1" });
    const ip = freshIp();
    await createdBy(() => create(ip, {}, ADMIN));
    await createdBy(() => create(ip, {}, ADMIN));
    await createdBy(() => create(ip));
  });

  it("takes no place for an idempotent replay", async () => {
    const { create } = setup({ SCHEDULE_MAX_PER_IP: "2" });
    const ip = freshIp();
    const body = { idempotencyKey: `replay-${crypto.randomUUID()}`, at: inAMinute() };
    await createdBy(() => create(ip, body));
    expect((await create(ip, body)).status).toBe(200);
    await createdBy(() => create(ip));
  });
});
