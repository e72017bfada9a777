import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FramePacing, framesPerSocket, holding } from "./pacing.ts";

/** A viewer object's frames as the pacing lets them out: each carries the latest change. */
function paced(rate: number, quietMs: number) {
  let latest = 0;
  const frames: { change: number; at: number }[] = [];
  const waiters = new Set<() => void>();
  const pacing = new FramePacing(
    () => rate,
    () => quietMs,
    () => {
      frames.push({ change: latest, at: Date.now() });
      for (const check of waiters) check();
    },
  );
  return {
    frames,
    change(): void {
      latest += 1;
      pacing.changed();
    },
    /** Resolves once a frame carries change `n`. */
    shows(n: number): Promise<void> {
      return new Promise((done) => {
        const check = () => {
          if (frames.at(-1)?.change !== n) return;
          waiters.delete(check);
          done();
        };
        waiters.add(check);
        check();
      });
    },
  };
}

const pause = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe("frame pacing of a viewer object", () => {
  it("sends a change after a quiet spell at once", () => {
    const object = paced(1, 50);
    object.change();
    expect(object.frames).toEqual([{ change: 1, at: expect.any(Number) }]);
  });

  it("sends a burst's changes at most 2 + rate × T frames in T seconds, the last frame carrying the last change", async () => {
    const rate = 4;
    const object = paced(rate, 200);
    const started = Date.now();
    // 60 changes 20 ms apart: 1.2 s of changes that never pause long enough to count as quiet.
    for (let i = 0; i < 60; i++) {
      object.change();
      await pause(20);
    }
    await object.shows(60);
    const seconds = (Date.now() - started) / 1000;
    expect(object.frames.length).toBeLessThanOrEqual(2 + rate * seconds);
    expect(object.frames.length).toBeGreaterThan(1);
    expect(object.frames.map((frame) => frame.change)).toEqual([...object.frames.map((frame) => frame.change)].sort((a, b) => a - b));
  });

  it("sends the last change of a burst once changes stop, before the next paced frame would be due", async () => {
    const object = paced(1, 50);
    object.change();
    object.change();
    const last = Date.now();
    await object.shows(2);
    expect(object.frames).toHaveLength(2);
    // At one frame a second the second frame is due a second after the first; the quiet spell ends in 50 ms.
    expect(object.frames[1]!.at - last).toBeLessThan(1000);
  });

  it("keeps to the rate when bursts follow one another closely", async () => {
    const rate = 5;
    const object = paced(rate, 30);
    const started = Date.now();
    // Bursts of 3 changes, 40 ms apart: each ends in a quiet spell, which may not buy extra frames.
    for (let burst = 0; burst < 20; burst++) {
      for (let i = 0; i < 3; i++) object.change();
      await pause(40);
    }
    await object.shows(60);
    const seconds = (Date.now() - started) / 1000;
    expect(object.frames.length).toBeLessThanOrEqual(2 + rate * seconds);
  });
});

describe("the frame budget", () => {
  it("is shared by every counter object loaded in one isolate, since they share its thread", () => {
    const alone = framesPerSocket(env);
    holding("first object", 3000);
    holding("second object", 2000);
    // 15,000 frames a second (the default) over at least these 5,000 sockets.
    expect(framesPerSocket(env)).toBeLessThanOrEqual(3);
    holding("first object", 0);
    holding("second object", 0);
    expect(framesPerSocket(env)).toBe(alone);
  });
});
