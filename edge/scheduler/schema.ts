import type { Database, Migration } from "../storage/database.ts";

/** A row of `schedules`: one schedule, its timing, and where its next delivery stands. */
export interface ScheduleRow {
  id: string;
  token_hash: string;
  manage_token: string | null;
  idempotency_key: string | null;
  request_hash: string;
  target: string | null;
  url: string | null;
  kind: "at" | "every" | "cron";
  at_ms: number | null;
  every_ms: number | null;
  anchor_ms: number | null;
  cron: string | null;
  tz: string | null;
  payload: string;
  created_ms: number;
  occurrence_ms: number | null;
  due_ms: number | null;
  attempt: number;
  run_count: number;
  /** When the schedule finished (its last delivery was recorded); null while it has a next one. */
  done_ms: number | null;
  times: number | null;
  until_ms: number | null;
  /** Occurrences that ended (delivered or given up), to end a repeat after `times`. */
  occurrences: number;
  owner_ip: string | null;
  /** When the owner paused it; while set, `due_ms` is null and nothing is delivered. */
  paused_ms: number | null;
  /** The occurrence whose last attempt failed and ended the schedule (state "dead"); null otherwise. */
  gave_up_ms: number | null;
}

/** A row of `runs`: one delivery attempt. */
export interface RunRow {
  at_ms: number;
  occurrence_ms: number;
  attempt: number;
  ok: number;
  status: number | null;
  duration_ms: number;
  error: string | null;
}

/**
 * The scheduler's schema. Step 1 is the setup every shard ran before steps were recorded, so a
 * shard made then takes it as a no-op; steps 2 and 3 bring such a shard's older rows up to date
 * and leave a shard that already has their columns as it is, as does step 4.
 */
export const SCHEDULER_MIGRATIONS: readonly Migration[] = [
  {
    name: "schedules and runs",
    up: `
      CREATE TABLE IF NOT EXISTS schedules (
        id TEXT PRIMARY KEY,
        token_hash TEXT NOT NULL,
        manage_token TEXT,
        idempotency_key TEXT UNIQUE,
        request_hash TEXT NOT NULL,
        target TEXT,
        url TEXT,
        kind TEXT NOT NULL,
        at_ms INTEGER,
        every_ms INTEGER,
        anchor_ms INTEGER,
        cron TEXT,
        tz TEXT,
        payload TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        occurrence_ms INTEGER,
        due_ms INTEGER,
        attempt INTEGER NOT NULL DEFAULT 0,
        run_count INTEGER NOT NULL DEFAULT 0,
        done_ms INTEGER,
        times INTEGER,
        until_ms INTEGER,
        occurrences INTEGER NOT NULL DEFAULT 0,
        owner_ip TEXT
      );
      CREATE INDEX IF NOT EXISTS schedules_due ON schedules (due_ms) WHERE due_ms IS NOT NULL;
      CREATE TABLE IF NOT EXISTS runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        schedule_id TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        occurrence_ms INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        ok INTEGER NOT NULL,
        status INTEGER,
        duration_ms INTEGER NOT NULL,
        error TEXT
      );
      CREATE INDEX IF NOT EXISTS runs_by_schedule ON runs (schedule_id, seq);
    `,
  },
  { name: "finish times, for pruning", up: addDoneColumn },
  { name: "repeat ends and the IP holding a place", up: addEndColumns },
  { name: "pauses and dead letters", up: addPauseColumns },
];

/**
 * Shards made before finished schedules were pruned have no `done_ms`: add it, and date the
 * schedules already finished by their last run (else their creation), so they are pruned too.
 */
function addDoneColumn(db: Database): void {
  if (!db.columns("schedules").includes("done_ms")) {
    db.sql.exec(`
      ALTER TABLE schedules ADD COLUMN done_ms INTEGER;
      UPDATE schedules SET done_ms = COALESCE((SELECT MAX(at_ms + duration_ms) FROM runs WHERE schedule_id = schedules.id), created_ms)
        WHERE occurrence_ms IS NULL;
    `);
  }
  db.run("CREATE INDEX IF NOT EXISTS schedules_done ON schedules (done_ms) WHERE done_ms IS NOT NULL");
}

/** Shards made before repeats could end and schedules were counted per IP: their rows have no end and hold no place. */
function addEndColumns(db: Database): void {
  if (db.columns("schedules").includes("owner_ip")) return;
  db.sql.exec(`
    ALTER TABLE schedules ADD COLUMN times INTEGER;
    ALTER TABLE schedules ADD COLUMN until_ms INTEGER;
    ALTER TABLE schedules ADD COLUMN occurrences INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE schedules ADD COLUMN owner_ip TEXT;
  `);
}

/** Pauses and dead letters: shards made before them have neither, so nothing there is paused or dead. */
function addPauseColumns(db: Database): void {
  if (db.columns("schedules").includes("paused_ms")) return;
  db.sql.exec(`
    ALTER TABLE schedules ADD COLUMN paused_ms INTEGER;
    ALTER TABLE schedules ADD COLUMN gave_up_ms INTEGER;
  `);
}
