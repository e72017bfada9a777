/**
 * The owner's settings that are plain values (vars in wrangler.toml, or `.dev.vars`): each is
 * declared once, where it is used, with its var name, its default and its kind, e.g.
 * `const HISTORY_LIMIT = wholeNumber("CHAT_HISTORY_LIMIT", 10_000)`, then read with
 * `HISTORY_LIMIT.read(env)`. Unset or blank gives the default, and so does a value that cannot be
 * read; `problem` says why, for the settings the deployment check (configuration.ts) refuses to
 * serve with. Settings that are JSON documents (RATE_LIMITS, SCHEDULE_TARGETS) have schemas of
 * their own. This module imports nothing, so scripts under Node can use it.
 */

/** The vars a setting reads: any object with that one string field, `Env` included. */
export type Vars<Name extends string> = { readonly [K in Name]?: string | undefined };

export interface Setting<Name extends string, T> {
  readonly name: Name;
  readonly fallback: T;
  /** The value the text stands for, or the default when it is unset, blank or cannot be read. */
  parse(raw: string | undefined): T;
  /** The setting's value in `env`. */
  read(env: Vars<Name>): T;
  /** Why the value set cannot be read; undefined when it is unset, blank or fine. */
  problem(env: Vars<Name>): string | undefined;
}

function setting<Name extends string, T>(name: Name, fallback: T, expected: string, parse: (text: string) => T | undefined): Setting<Name, T> {
  const parsed = (raw: string | undefined) => (raw === undefined || raw.trim() === "" ? fallback : parse(raw.trim()));
  return {
    name,
    fallback,
    parse: (raw) => parsed(raw) ?? fallback,
    read: (env) => parsed(env[name]) ?? fallback,
    problem: (env) => (parsed(env[name]) === undefined ? `${name} must be ${expected} (it is "${env[name]}").` : undefined),
  };
}

const above0 = (text: string) => {
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : undefined;
};

/** A number above 0, fractions allowed ("0.5" days). */
export const positiveNumber = <Name extends string>(name: Name, fallback: number, unit?: string) =>
  setting(name, fallback, unit ? `a number of ${unit} above 0` : "a number above 0", above0);

/** A whole number above 0. */
export const wholeNumber = <Name extends string>(name: Name, fallback: number, unit?: string) =>
  setting(name, fallback, unit ? `a whole number of ${unit} above 0` : "a whole number above 0", (text) => {
    const value = above0(text);
    return value !== undefined && Number.isInteger(value) ? value : undefined;
  });

/** On only when set to `word` (any case), e.g. `LOCAL_DEV=true`; anything else is off. */
export const flag = <Name extends string>(name: Name, word: string) =>
  setting(name, false, `"${word}" or unset`, (text) => text.toLowerCase() === word.toLowerCase());

/** A comma list whose every item `item` reads; one item it cannot read and the whole list is the default. */
export const list = <Name extends string, T>(name: Name, fallback: readonly T[], expected: string, item: (text: string) => T | undefined) =>
  setting<Name, readonly T[]>(name, fallback, `a comma list of ${expected}`, (text) => {
    const items = text.split(",").map((part) => item(part.trim()));
    return items.every((value) => value !== undefined) ? (items as T[]) : undefined;
  });
