/**
 * The R2 buckets of `npm run serve`: one `ObjectStore` Durable Object per bucket keeps every
 * object in its SQLite database on disk (under the data directory), metadata in one row and the
 * body in chunks. workerd has no R2 of its own; `r2-bucket.js` gives the Worker the R2Bucket
 * calls it makes and asks this object over RPC.
 *
 * Keys are only ever SQL values, never file names, so no key (`../x` included) can reach a file
 * outside the bucket's database. One object per bucket runs one call at a time, which makes a
 * conditional put (`onlyIf.etagMatches`) atomic, as it is on R2.
 */
import { DurableObject } from "cloudflare:workers";

/** Under the 2 MB a SQLite value may hold in a Durable Object. */
const CHUNK_BYTES = 1024 * 1024;

export class ObjectStore extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS objects (
      key TEXT PRIMARY KEY, version TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
      uploaded INTEGER NOT NULL, http_metadata TEXT NOT NULL, custom_metadata TEXT NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS chunks (
      version TEXT NOT NULL, n INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (version, n))`);
  }

  head(key) {
    const row = this.sql.exec("SELECT * FROM objects WHERE key = ?", key).toArray()[0];
    return row ? described(row) : null;
  }

  /** The object's description and the bytes of [offset, offset + length). */
  get(key, offset, length) {
    const row = this.sql.exec("SELECT * FROM objects WHERE key = ?", key).toArray()[0];
    if (!row) return null;
    const end = Math.min(row.size, offset + length);
    const bytes = new Uint8Array(Math.max(0, end - offset));
    for (let n = Math.floor(offset / CHUNK_BYTES); n * CHUNK_BYTES < end; n++) {
      const chunk = new Uint8Array(this.sql.exec("SELECT bytes FROM chunks WHERE version = ? AND n = ?", row.version, n).one().bytes);
      const start = n * CHUNK_BYTES;
      const from = Math.max(offset, start) - start;
      const to = Math.min(end, start + chunk.length) - start;
      bytes.set(chunk.subarray(from, to), start + from - offset);
    }
    return { object: described(row), bytes };
  }

  /** Stores `bytes` under `key` unless `etagMatches` is given and differs; null when refused. */
  async put(key, bytes, httpMetadata, customMetadata, etagMatches) {
    const existing = this.sql.exec("SELECT version, etag FROM objects WHERE key = ?", key).toArray()[0];
    if (etagMatches !== undefined && existing?.etag !== etagMatches.replaceAll('"', "")) return null;
    const digest = new Uint8Array(await crypto.subtle.digest("MD5", bytes));
    const etag = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    const version = crypto.randomUUID().replaceAll("-", "");
    const row = {
      key, version, size: bytes.byteLength, etag, uploaded: Date.now(),
      http_metadata: JSON.stringify(httpMetadata ?? {}), custom_metadata: JSON.stringify(customMetadata ?? {}),
    };
    this.ctx.storage.transactionSync(() => {
      if (existing) this.sql.exec("DELETE FROM chunks WHERE version = ?", existing.version);
      for (let n = 0; n * CHUNK_BYTES < bytes.byteLength || n === 0; n++) {
        this.sql.exec("INSERT INTO chunks (version, n, bytes) VALUES (?, ?, ?)", version, n, bytes.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES));
      }
      this.sql.exec(
        "INSERT OR REPLACE INTO objects (key, version, size, etag, uploaded, http_metadata, custom_metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
        row.key, row.version, row.size, row.etag, row.uploaded, row.http_metadata, row.custom_metadata,
      );
    });
    return described(row);
  }

  delete(keys) {
    this.ctx.storage.transactionSync(() => {
      for (const key of keys) {
        const row = this.sql.exec("SELECT version FROM objects WHERE key = ?", key).toArray()[0];
        if (!row) continue;
        this.sql.exec("DELETE FROM chunks WHERE version = ?", row.version);
        this.sql.exec("DELETE FROM objects WHERE key = ?", key);
      }
    });
  }

  /** As R2 lists: keys in order after `after`, with `delimiter` folding keys into common prefixes. */
  list(prefix, after, limit, delimiter) {
    const objects = [];
    const prefixes = new Set();
    let last;
    // Keys past the prefix's range stop the scan; `>=` with the prefix keeps it on the index.
    const rows = this.sql.exec("SELECT * FROM objects WHERE key > ? AND key >= ? ORDER BY key", after, prefix);
    for (const row of rows) {
      if (!row.key.startsWith(prefix)) break;
      if (objects.length + prefixes.size >= limit) return { objects, prefixes: [...prefixes], truncated: true, last };
      const cut = delimiter ? row.key.indexOf(delimiter, prefix.length) : -1;
      if (cut >= 0) prefixes.add(row.key.slice(0, cut + delimiter.length));
      else objects.push(described(row));
      last = row.key;
    }
    return { objects, prefixes: [...prefixes], truncated: false, last };
  }
}

function described(row) {
  return {
    key: row.key,
    version: row.version,
    size: row.size,
    etag: row.etag,
    uploaded: row.uploaded,
    httpMetadata: JSON.parse(row.http_metadata),
    customMetadata: JSON.parse(row.custom_metadata),
  };
}

export default {
  fetch() {
    return new Response("Not found", { status: 404 });
  },
};
