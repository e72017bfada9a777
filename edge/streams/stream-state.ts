/**
 * What a stream is, as its object keeps it: one `meta` entry in the object's KV storage. The
 * shape is stored as it is, so a field may be added (optional) but never renamed.
 */
export interface Meta {
  /** A fresh id per incarnation: R2 keys use it, so a re-created stream never sees old segments. */
  generation: string;
  contentType: string;
  ttlSeconds?: number;
  expiresAt?: string;
  lastAccessedAt: number;
  closed: boolean;
  closedBy?: { producerId: string; epoch: number; seq: number };
  public: boolean;
  /**
   * The offset after the last message. Stored as of the entry's last save: appends since then
   * are rows of the log, which `LogStorage.catchUp` adds back when the object starts.
   */
  tail: string;
  /** The last `Stream-Seq` a writer sent (compared as a string, per the protocol). */
  lastSeq?: string;
  forkedFrom?: string;
  forkOffset?: string;
  forkSubOffset?: number;
  /** Forks reading through this stream; while any remain, delete and expiry only hide it. */
  refCount: number;
  softDeleted: boolean;
  /** Bytes in the SQLite hot log; past `STREAMS_HOT_BYTES` the oldest rotate into R2 (stored as `tail` is). */
  hotBytes: number;
  /** The subscription registry knows this stream (streams older than it register on append). */
  registered?: boolean;
}

/**
 * The `meta` entry, read once when the object starts and written on every change but the
 * tail's move by a plain append (see `tail`).
 */
export class StreamRecord {
  meta: Meta | undefined;

  constructor(private readonly kv: SyncKvStorage) {
    this.meta = kv.get<Meta>("meta");
  }

  save(meta: Meta): void {
    this.kv.put("meta", meta);
  }

  forget(): void {
    this.meta = undefined;
    this.kv.delete("meta");
  }

  /**
   * The read seq of a new incarnation of this stream: the creation time in ms, and always past
   * every earlier incarnation's (kept after a delete, unlike `meta`) and past `after`.
   */
  nextIncarnation(after = 0): number {
    const seq = Math.max(Date.now(), (this.kv.get<number>("incarnation") ?? 0) + 1, after + 1);
    this.kv.put("incarnation", seq);
    return seq;
  }
}

/** What readers and the Worker learn about a stream. */
export interface StreamInfo {
  contentType: string;
  tail: string;
  closed: boolean;
  public: boolean;
  ttlSeconds?: number;
  expiresAt?: string;
}

export function info(meta: Meta): StreamInfo {
  const out: StreamInfo = { contentType: meta.contentType, tail: meta.tail, closed: meta.closed, public: meta.public };
  if (meta.ttlSeconds !== undefined) out.ttlSeconds = meta.ttlSeconds;
  if (meta.expiresAt !== undefined) out.expiresAt = meta.expiresAt;
  return out;
}

/** When the stream expires (the sooner of `Stream-Expires-At` and its TTL since last use), if ever. */
export function expiryTime(meta: Meta): number | undefined {
  let at: number | undefined;
  if (meta.expiresAt !== undefined) {
    const t = Date.parse(meta.expiresAt);
    at = Number.isFinite(t) ? t : 0;
  }
  if (meta.ttlSeconds !== undefined) {
    const t = meta.lastAccessedAt + meta.ttlSeconds * 1000;
    at = at === undefined ? t : Math.min(at, t);
  }
  return at;
}

export const isExpired = (meta: Meta): boolean => {
  const at = expiryTime(meta);
  return at !== undefined && Date.now() >= at;
};
