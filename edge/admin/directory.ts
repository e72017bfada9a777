import { DurableObject } from "cloudflare:workers";
import type { DirectoryEntry } from "../../contract/admin.ts";
import type { Env } from "../env.ts";
import { Database, type Migration } from "../storage/database.ts";

/** The kinds of named objects the console lists; each kind is one Directory object. */
export type Kind = "counters" | "rooms" | "streams" | "subscriptions";

export type Entry = DirectoryEntry;

interface EntryRow {
  name: string;
  first_seen: number;
  last_active: number;
}

/**
 * Every object of one kind that has ever stored data, by name, so the console can list "every
 * room that exists". An object enters it once, on its first write, and then reports its latest
 * activity at most once a minute (see `Listing`); the list is read in pages by name.
 */
export class Directory extends DurableObject<Env> {
  private readonly db = new Database(this.ctx.storage, DIRECTORY_MIGRATIONS);

  touch(name: string, at: number): void {
    this.db.run(
      `INSERT INTO entries (name, first_seen, last_active) VALUES (?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET last_active = MAX(last_active, excluded.last_active)`,
      name,
      at,
      at,
    );
  }

  forget(name: string): void {
    this.db.run("DELETE FROM entries WHERE name = ?", name);
  }

  /** Up to `limit` entries after `cursor` (a name), in name order, and the cursor of the next page. */
  page(cursor: string | undefined, limit: number): { entries: Entry[]; cursor: string | null } {
    const rows = this.db.all<EntryRow>("SELECT name, first_seen, last_active FROM entries WHERE name > ? ORDER BY name LIMIT ?", cursor ?? "", limit + 1);
    const entries = rows.slice(0, limit).map((row) => ({ name: row.name, firstSeen: iso(row.first_seen), lastActive: iso(row.last_active) }));
    return { entries, cursor: rows.length > limit ? rows[limit - 1]!.name : null };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

const DIRECTORY_MIGRATIONS: readonly Migration[] = [
  { name: "entries", up: "CREATE TABLE entries (name TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_active INTEGER NOT NULL)" },
];

export const directory = (env: Env, kind: Kind) => env.DIRECTORY.getByName(kind);

/** The first report waits this long, so a burst of first writes costs one call. */
const FIRST_REPORT_MS = 2_000;
/** Later reports of activity go at most this often. */
const REPORT_EVERY_MS = 60_000;

/**
 * An object's entry in the directory, kept up to date cheaply: `active()` on each write is a
 * memory update; the directory hears of it at most once a minute, in one call.
 */
export class Listing {
  private lastActive = 0;
  private lastReport = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly env: Env,
    private readonly kind: Kind,
    /** The object's name (`ctx.id.name`); an object reached by id alone is not listed. */
    private readonly name: () => string | undefined,
  ) {}

  active(): void {
    this.lastActive = Date.now();
    if (this.timer) return;
    const wait = this.lastReport === 0 ? FIRST_REPORT_MS : Math.max(0, this.lastReport + REPORT_EVERY_MS - this.lastActive);
    this.timer = setTimeout(() => void this.report(), wait);
  }

  private async report(): Promise<void> {
    this.timer = undefined;
    const name = this.name();
    if (name === undefined) return;
    this.lastReport = Date.now();
    try {
      await directory(this.env, this.kind).touch(name, this.lastActive);
    } catch {
      // The next write reports again.
    }
  }
}
