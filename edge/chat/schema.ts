import type { Migration } from "../storage/database.ts";

/** A row of `messages` as the room reads it back (it also keeps the sender's IP and a deleted flag). */
export interface MessageRow {
  id: number;
  client_id: string;
  name: string;
  text: string;
  at: number;
  verified: number;
}

/**
 * A chat room's schema. Step 1 is the setup every room ran before steps were recorded, so a room
 * made then takes it as a no-op.
 */
export const CHAT_ROOM_MIGRATIONS: readonly Migration[] = [
  {
    name: "messages and bans",
    up: `
      CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        text TEXT NOT NULL,
        at INTEGER NOT NULL,
        verified INTEGER NOT NULL,
        ip TEXT NOT NULL,
        deleted INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS deleted_messages ON messages (id) WHERE deleted = 1;
      CREATE TABLE IF NOT EXISTS bans (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        until INTEGER NOT NULL,
        reason TEXT NOT NULL,
        PRIMARY KEY (kind, value)
      );
    `,
  },
  {
    name: "moderation settings and senders",
    // `sender` is the member's session, so slow mode can tell when a member last sent, across
    // reconnects and restarts; older messages have none and count for nobody.
    up: `
      CREATE TABLE room_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      ALTER TABLE messages ADD COLUMN sender TEXT;
      CREATE INDEX messages_by_sender ON messages (sender, id) WHERE sender IS NOT NULL;
    `,
  },
  {
    name: "senders by address",
    // Slow mode also asks when the member's address last sent: a new session is free to choose.
    up: "CREATE INDEX messages_by_ip ON messages (ip, id)",
  },
];
