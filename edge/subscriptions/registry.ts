import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { DIRECTORY_SHARDS, shardName, shardOf, type StreamDirectory } from "../streams/followers.ts";
import { Database, type Migration } from "../storage/database.ts";
import { globMatch, literalPrefix } from "./glob.ts";
import { generateSigningKey, type SigningKey } from "./webhooks.ts";

/**
 * The shards that must know `pattern`. The registry is the streams' directory, sharded by a
 * path's first segment (`streams/followers.ts`): a pattern whose first segment is a name lives
 * in that name's shard; one that starts with a wildcard (`*`, `**`) is kept by every shard.
 */
export function registriesForPattern(env: Env, pattern: string) {
  const first = pattern.split("/")[0];
  const shards = first === "*" || first === "**" ? Array.from({ length: DIRECTORY_SHARDS }, (_, n) => n) : [shardOf(pattern)];
  return shards.map((n) => env.SUBSCRIPTION_REGISTRY.getByName(shardName(n)));
}

/** The shard that keeps the webhook signing key. */
export const keyRegistry = (env: Env) => env.SUBSCRIPTION_REGISTRY.getByName(shardName(0));

/** Step 1 is the two tables the constructor made before steps were recorded. */
const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    name: "stream paths and subscription patterns",
    up: `
      CREATE TABLE IF NOT EXISTS streams (path TEXT PRIMARY KEY);
      CREATE TABLE IF NOT EXISTS patterns (subscription TEXT PRIMARY KEY, pattern TEXT NOT NULL);
    `,
  },
];

/**
 * What subscriptions need to know across streams: which stream paths exist (so a new pattern
 * subscription links the streams it matches) and which patterns subscriptions watch (so a new
 * stream learns who watches it). A shard is asked only when a stream is created or removed and
 * when a subscription changes, never on an append: each stream keeps its own list of
 * watchers. Shard 0 also keeps the webhook signing key.
 */
export class SubscriptionRegistry extends DurableObject<Env> implements StreamDirectory {
  private readonly db: Database;
  private readonly patterns = new Map<string, string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = new Database(ctx.storage, REGISTRY_MIGRATIONS);
    for (const row of this.db.all<{ subscription: string; pattern: string }>("SELECT subscription, pattern FROM patterns")) {
      this.patterns.set(row.subscription, row.pattern);
    }
  }

  /** A stream was created: remember it, and answer the subscriptions whose pattern matches it. */
  streamCreated(path: string): string[] {
    this.db.run("INSERT OR IGNORE INTO streams (path) VALUES (?)", path);
    return [...this.patterns].filter(([, pattern]) => globMatch(pattern, path)).map(([id]) => id);
  }

  streamRemoved(path: string): void {
    this.db.run("DELETE FROM streams WHERE path = ?", path);
  }

  /** A subscription watches `pattern` from now on; answers the existing streams it matches. */
  addPattern(subscription: string, pattern: string): string[] {
    this.db.run("INSERT OR REPLACE INTO patterns (subscription, pattern) VALUES (?, ?)", subscription, pattern);
    this.patterns.set(subscription, pattern);
    const prefix = literalPrefix(pattern);
    // Paths are ASCII, so every path that starts with `prefix` sorts below prefix + U+FFFF.
    const rows = this.db.all<{ path: string }>("SELECT path FROM streams WHERE path >= ? AND path < ? ORDER BY path", prefix, `${prefix}\uffff`);
    const matched: string[] = [];
    for (const row of rows) if (globMatch(pattern, row.path)) matched.push(row.path);
    return matched;
  }

  removePattern(subscription: string): void {
    this.db.run("DELETE FROM patterns WHERE subscription = ?", subscription);
    this.patterns.delete(subscription);
  }

  async signingKey(): Promise<SigningKey> {
    const kept = this.ctx.storage.kv.get<SigningKey>("signing-key");
    if (kept) return kept;
    const key = await generateSigningKey();
    // Two first calls may race through the await; the first one stored wins.
    const again = this.ctx.storage.kv.get<SigningKey>("signing-key");
    if (again) return again;
    this.ctx.storage.kv.put("signing-key", key);
    return key;
  }

  async jwks(): Promise<{ keys: SigningKey["publicJwk"][] }> {
    return { keys: [(await this.signingKey()).publicJwk] };
  }
}
