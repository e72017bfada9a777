import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Alarm, earliest } from "./alarm.ts";

/** Storage of an object of its own: a subscription never created, whose alarm would do nothing. */
const freshStorage = () => env.SUBSCRIPTIONS.getByName(`alarm-test-${crypto.randomUUID()}`);
const HOUR = 3_600_000;

describe("Alarm", () => {
  it("is set to the earliest of its deadlines, and deleted when none is left", async () => {
    const seen = await runInDurableObject(freshStorage(), async (_, state) => {
      const alarm = new Alarm(state.storage);
      const soon = Date.now() + HOUR;
      await alarm.setToEarliest(soon + HOUR, null, soon, undefined);
      const first = await state.storage.getAlarm();
      await alarm.setToEarliest(null, undefined);
      return { soon, first, after: await state.storage.getAlarm() };
    });
    expect(seen.first).toBe(seen.soon);
    expect(seen.after).toBeNull();
  });

  it("is brought forward by a sooner deadline and left alone by a later one", async () => {
    const seen = await runInDurableObject(freshStorage(), async (_, state) => {
      const at = Date.now() + HOUR;
      await state.storage.setAlarm(at);
      const alarm = new Alarm(state.storage);
      await alarm.bringForward(at + HOUR);
      const unchanged = await state.storage.getAlarm();
      // Still in the future: an alarm set for "now" may be moved by the runtime.
      await alarm.bringForward(at - HOUR / 2);
      return { at, unchanged, forward: await state.storage.getAlarm() };
    });
    expect(seen.unchanged).toBe(seen.at);
    expect(seen.forward).toBe(seen.at - HOUR / 2);
  });

  it("is set again by the first deadline after it fired", async () => {
    const seen = await runInDurableObject(freshStorage(), async (_, state) => {
      const alarm = new Alarm(state.storage);
      const at = Date.now() + HOUR;
      await alarm.setToEarliest(at);
      // As when the alarm runs: it is no longer set, whatever this object set before.
      await state.storage.deleteAlarm();
      alarm.fired();
      await alarm.bringForward(at + HOUR);
      return { at, now: await state.storage.getAlarm() };
    });
    expect(seen.now).toBe(seen.at + HOUR);
  });

  it("takes no deadline as none", () => {
    expect(earliest([])).toBeNull();
    expect(earliest([null, undefined, Infinity])).toBeNull();
    expect(earliest([3, null, 1, 2])).toBe(1);
  });
});
