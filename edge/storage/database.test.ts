import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { Database, type Migration } from "./database.ts";

/** Storage of an object of its own, fresh for each test: a counter, which keeps no tables of its own. */
const freshStorage = () => env.COUNTER.getByName(`database-test-${crypto.randomUUID()}`);

const NOTES: Migration[] = [
  { name: "notes", up: "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)" },
  { name: "note authors", up: "ALTER TABLE notes ADD COLUMN author TEXT" },
];

interface Note {
  id: number;
  text: string;
  author: string | null;
}

describe("Database", () => {
  it("runs each schema step once, in order, and records it", async () => {
    const steps = await runInDurableObject(freshStorage(), (_, state) => {
      new Database(state.storage, NOTES);
      // Opened again (the object restarting): the recorded steps are skipped, or the ALTER would throw.
      const db = new Database(state.storage, [...NOTES, { name: "note dates", up: "ALTER TABLE notes ADD COLUMN at INTEGER" }]);
      return db.all<{ version: number; name: string }>("SELECT version, name FROM _migrations ORDER BY version");
    });
    expect(steps.map(({ version, name }) => [version, name])).toEqual([
      [1, "notes"],
      [2, "note authors"],
      [3, "note dates"],
    ]);
  });

  it("leaves neither the changes nor the record of a step that fails", async () => {
    const outcome = await runInDurableObject(freshStorage(), (_, state) => {
      const failing: Migration = {
        name: "half done",
        up: (db) => {
          db.run("INSERT INTO notes (id, text) VALUES (1, 'kept only if the step completes')");
          throw new Error("step failed");
        },
      };
      let error: unknown;
      try {
        new Database(state.storage, [...NOTES, failing]);
      } catch (thrown) {
        error = thrown;
      }
      const db = new Database(state.storage, NOTES);
      return { error: (error as Error).message, notes: db.all<Note>("SELECT * FROM notes"), steps: db.one<{ n: number }>("SELECT COUNT(*) AS n FROM _migrations")!.n };
    });
    expect(outcome).toEqual({ error: "step failed", notes: [], steps: 2 });
  });

  it("types rows once and answers one row, all rows, or the rows written", async () => {
    const answers = await runInDurableObject(freshStorage(), (_, state) => {
      const db = new Database(state.storage, NOTES);
      const written = db.run("INSERT INTO notes (id, text, author) VALUES (1, 'a', 'Ann'), (2, 'b', NULL)");
      return {
        written,
        first: db.one<Note>("SELECT * FROM notes WHERE id = ?", 1),
        missing: db.one<Note>("SELECT * FROM notes WHERE id = ?", 3),
        all: db.all<Note>("SELECT * FROM notes ORDER BY id").map((note) => note.author),
      };
    });
    expect(answers).toEqual({ written: 2, first: { id: 1, text: "a", author: "Ann" }, missing: null, all: ["Ann", null] });
  });

  it("reads rows one at a time, and stores just the bytes a view shows", async () => {
    const answers = await runInDurableObject(freshStorage(), (_, state) => {
      const db = new Database(state.storage, [{ name: "blobs", up: "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)" }]);
      const bytes = new Uint8Array([0, 1, 2, 3, 4, 5]);
      for (let id = 1; id <= 3; id++) db.run("INSERT INTO blobs (id, data) VALUES (?, ?)", id, bytes.subarray(id, id + 2));
      const rows = db.each<{ id: number; data: ArrayBuffer }>("SELECT id, data FROM blobs ORDER BY id");
      const read: number[][] = [];
      for (const row of rows) {
        read.push([row.id, ...new Uint8Array(row.data)]);
        if (row.id === 2) break;
      }
      return read;
    });
    expect(answers).toEqual([
      [1, 1, 2],
      [2, 2, 3],
    ]);
  });
});
