import type { Migration } from "../storage/database.ts";

/** A row of `messages`, the hot log: one message, in append order, ending at `end_offset`. */
export interface MessageRow {
  seq: number;
  end_offset: string;
  data: ArrayBuffer;
}

/** A row of `segments`: a run of older messages moved into one R2 object (format in segments.ts). */
export interface SegmentRow {
  start_offset: string;
  end_offset: string;
  key: string;
  messages: number;
  bytes: number;
}

/** A row of `producers`: an idempotent producer's epoch and the last sequence stored for it. */
export interface ProducerRow {
  id: string;
  epoch: number;
  last_seq: number;
  updated: number;
}

/** A row of `watchers`: a subscription told this stream's tail on each append. */
export interface WatcherRow {
  subscription: string;
}

/**
 * A stream's schema (what it is, `meta`, is a key-value entry: stream-state.ts). Step 1 is the
 * setup every stream ran before steps were recorded, so a stream made then takes it as a no-op.
 */
export const STREAM_LOG_MIGRATIONS: readonly Migration[] = [
  {
    name: "hot log, segments, producers and watchers",
    up: `
      CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY, end_offset TEXT NOT NULL, data BLOB NOT NULL);
      CREATE INDEX IF NOT EXISTS messages_offset ON messages (end_offset);
      CREATE TABLE IF NOT EXISTS segments (start_offset TEXT PRIMARY KEY, end_offset TEXT NOT NULL, key TEXT NOT NULL, messages INTEGER NOT NULL, bytes INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS producers (id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, last_seq INTEGER NOT NULL, updated INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS watchers (subscription TEXT PRIMARY KEY);
    `,
  },
];
