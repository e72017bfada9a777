import { describe, expect, it } from "vitest";
import { Presence } from "./presence.ts";

const socket = () => new WebSocketPair()[0];
const member = (name: string, session = `s-${name}`) => ({ name, verified: false, session });

describe("a room's presence", () => {
  it("tells of a person once, however many sockets they hold, and of their leaving with the last", () => {
    const presence = new Presence();
    const [one, two] = [socket(), socket()];
    expect(presence.add(one, member("Ann"))).toBe(true);
    expect(presence.add(two, member("Ann"))).toBe(false);
    expect(presence.takeChanges()).toEqual({ joined: [{ name: "Ann", verified: false }], left: [] });
    expect(presence.remove(one)).toBeUndefined();
    expect(presence.remove(two)).toEqual({ name: "Ann", verified: false });
    expect(presence.remove(two)).toBeUndefined();
    expect(presence.takeChanges()).toEqual({ joined: [], left: [{ name: "Ann", verified: false }] });
    expect(presence.count).toBe(0);
  });

  it("reports the net change of an interval: who left and came back within it is no news", () => {
    const presence = new Presence();
    const ann = socket();
    presence.add(ann, member("Ann"));
    presence.takeChanges();
    presence.remove(ann);
    presence.add(socket(), member("Ann"));
    presence.add(socket(), member("Bob"));
    const cleo = socket();
    presence.add(cleo, member("Cleo"));
    presence.remove(cleo);
    expect(presence.takeChanges()).toEqual({ joined: [{ name: "Bob", verified: false }], left: [] });
    expect(presence.changed).toBe(false);
  });

  it("knows a name as taken by another session in any case, and not by the same session", () => {
    const presence = new Presence();
    presence.add(socket(), member("Dee", "one"));
    expect(presence.isTaken("dee", "two")).toBe(true);
    expect(presence.isTaken("Dee", "one")).toBe(false);
    expect(presence.list()).toEqual([{ name: "Dee", verified: false }]);
  });
});
