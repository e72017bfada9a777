import { describe, expect, it } from "vitest";
import { flag, list, positiveNumber, wholeNumber } from "./settings.ts";

const RETENTION_DAYS = positiveNumber("RETENTION_DAYS", 7);
const HISTORY_LIMIT = wholeNumber("HISTORY_LIMIT", 100);
const LIFETIME = wholeNumber("LIFETIME", 3600, "seconds");
const DEV = flag("DEV", "true");
const PORTS = list("PORTS", [443, 80], "ports", (text) => {
  const port = Number(text);
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
});

describe("settings", () => {
  it("give their default when unset or blank", () => {
    for (const raw of [undefined, "", "  "]) {
      expect(RETENTION_DAYS.read({ RETENTION_DAYS: raw })).toBe(7);
      expect(PORTS.read({ PORTS: raw })).toEqual([443, 80]);
      expect(DEV.read({ DEV: raw })).toBe(false);
    }
    expect(HISTORY_LIMIT.read({})).toBe(100);
  });

  it("read the value set, spaces around it allowed", () => {
    expect(RETENTION_DAYS.read({ RETENTION_DAYS: " 0.5 " })).toBe(0.5);
    expect(HISTORY_LIMIT.read({ HISTORY_LIMIT: "40" })).toBe(40);
    expect(PORTS.read({ PORTS: "8443, 8080" })).toEqual([8443, 8080]);
    expect(DEV.read({ DEV: " TRUE " })).toBe(true);
  });

  it("fall back to the default for a value they cannot read", () => {
    for (const raw of ["0", "-1", "ten", "Infinity"]) expect(RETENTION_DAYS.read({ RETENTION_DAYS: raw })).toBe(7);
    for (const raw of ["0", "2.5", "1e400"]) expect(HISTORY_LIMIT.read({ HISTORY_LIMIT: raw })).toBe(100);
    for (const raw of ["443,", "443,0", "80,http"]) expect(PORTS.read({ PORTS: raw })).toEqual([443, 80]);
    expect(DEV.read({ DEV: "yes" })).toBe(false);
  });

  it("name the setting and what it must be when the value set cannot be read", () => {
    expect(LIFETIME.problem({ LIFETIME: "a day" })).toBe('LIFETIME must be a whole number of seconds above 0 (it is "a day").');
    expect(HISTORY_LIMIT.problem({ HISTORY_LIMIT: "0" })).toBe('HISTORY_LIMIT must be a whole number above 0 (it is "0").');
    expect(PORTS.problem({ PORTS: "443,x" })).toBe('PORTS must be a comma list of ports (it is "443,x").');
    expect(LIFETIME.problem({ LIFETIME: "60" })).toBeUndefined();
    expect(LIFETIME.problem({})).toBeUndefined();
  });
});
