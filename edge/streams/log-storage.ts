/**
 * Where one stream's messages live: recent ones in the SQLite hot log (`messages`, one row per
 * message), older runs rotated into immutable R2 segments (`segments` lists them; the format is
 * in segments.ts). A read stitches both into one sequence of offsets.
 */
import type { Env } from "../env.ts";
import { positiveNumber } from "../settings.ts";
import type { Database } from "../storage/database.ts";
import { advance, startOf } from "./offsets.ts";
import type { MessageRow, SegmentRow } from "./schema.ts";
import { decodeSegment, encodeSegment, generationPrefix, segmentKey, type StoredMessage } from "./segments.ts";
import type { Meta, StreamRecord } from "./stream-state.ts";

/** Messages read in one go, and whether the read reached the end (the tail, or its cap). */
export interface Collected {
  messages: StoredMessage[];
  complete: boolean;
}

const HOT_BYTES = positiveNumber("STREAMS_HOT_BYTES", 8 * 1024 * 1024, "bytes");
/** Decoded segments kept in memory, for readers that page through the cold part. */
const SEGMENT_CACHE = 4;

export class LogStorage {
  private readonly segments = new Map<string, StoredMessage[]>();
  private rotating: Promise<void> | undefined;
  /** Counts finished rotations, so a read that awaited R2 knows the hot log moved under it. */
  private rotations = 0;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly db: Database,
    private readonly record: StreamRecord,
  ) {}

  /**
   * Appends one message to the hot log, moving the stream's tail and hot bytes in memory. A
   * plain append writes nothing else: the log's own rows say where it ends (`catchUp`), so the
   * `meta` entry is saved only when something it alone holds changes.
   */
  write(meta: Meta, data: Uint8Array): void {
    const offset = advance(meta.tail, data.byteLength);
    this.db.run("INSERT INTO messages (end_offset, data) VALUES (?, ?)", offset, data);
    meta.tail = offset;
    meta.hotBytes += data.byteLength;
  }

  /**
   * Brings a `meta` entry just loaded up to its log: the rows past its saved tail were
   * appended after it was last saved, so they move the tail and count as hot bytes.
   */
  catchUp(meta: Meta): void {
    const since = this.db.one<{ tail: string | null; bytes: number }>(
      "SELECT MAX(end_offset) AS tail, COALESCE(SUM(length(data)), 0) AS bytes FROM messages WHERE end_offset > ?",
      meta.tail,
    )!;
    if (since.tail === null) return;
    meta.tail = since.tail;
    meta.hotBytes += since.bytes;
  }

  /** This stream's own messages after `after`, up to `cap` if given, about `maxBytes` at most. */
  async read(after: string, cap: string | undefined, maxBytes: number): Promise<Collected> {
    const messages: StoredMessage[] = [];
    let bytes = 0;
    let cursor = after;
    const generation = this.record.meta?.generation;
    // Returns true when the read must stop here (past the cap, or enough bytes).
    const take = (message: StoredMessage): "past" | "full" | "more" => {
      if (message.offset <= cursor) return "more";
      if (cap !== undefined && message.offset > cap) return "past";
      messages.push(message);
      bytes += message.data.byteLength;
      cursor = message.offset;
      return bytes >= maxBytes ? "full" : "more";
    };
    for (;;) {
      const version = this.rotations;
      const cold = this.db.all<SegmentRow>("SELECT * FROM segments WHERE end_offset > ? ORDER BY start_offset", cursor);
      for (const segment of cold) {
        if (cap !== undefined && segment.start_offset >= cap) return { messages, complete: true };
        for (const message of await this.loadSegment(segment)) {
          const verdict = take(message);
          if (verdict === "past") return { messages, complete: true };
          if (verdict === "full") return { messages, complete: this.atEnd(cursor, cap) };
        }
        if (this.record.meta?.generation !== generation) return { messages, complete: true };
      }
      if (this.rotations !== version) continue; // Hot rows moved to R2 while we read R2.
      for (const row of this.db.each<Omit<MessageRow, "seq">>("SELECT end_offset, data FROM messages WHERE end_offset > ? ORDER BY seq", cursor)) {
        const verdict = take({ offset: row.end_offset, data: new Uint8Array(row.data) });
        if (verdict === "past") return { messages, complete: true };
        if (verdict === "full") return { messages, complete: this.atEnd(cursor, cap) };
      }
      return { messages, complete: true };
    }
  }

  private atEnd(cursor: string, cap: string | undefined): boolean {
    const tail = this.record.meta?.tail;
    return cursor === (cap ?? tail) || (cap !== undefined && cursor === tail);
  }

  private async loadSegment(segment: SegmentRow): Promise<StoredMessage[]> {
    const cached = this.segments.get(segment.key);
    if (cached) return cached;
    const object = await this.env.STREAM_SEGMENTS.get(segment.key);
    if (!object) throw new Error(`segment ${segment.key} is missing from R2`);
    const messages = decodeSegment(new Uint8Array(await object.arrayBuffer()), segment.start_offset);
    this.segments.set(segment.key, messages);
    if (this.segments.size > SEGMENT_CACHE) this.segments.delete(this.segments.keys().next().value!);
    return messages;
  }

  private hotLimit(): number {
    return HOT_BYTES.read(this.env);
  }

  /** Starts a rotation in the background when the hot log has grown past its limit. */
  maybeRotate(meta: Meta): void {
    if (this.rotating || meta.hotBytes <= this.hotLimit()) return;
    this.rotating = this.rotate(meta.generation)
      .catch((error: unknown) => console.error("segment rotation failed", error))
      .finally(() => {
        this.rotating = undefined;
      });
  }

  /** Moves the oldest hot messages into one R2 segment, leaving about half the limit hot. */
  private async rotate(generation: string): Promise<void> {
    const meta = this.record.meta;
    if (!meta || meta.generation !== generation) return;
    const keep = this.hotLimit() / 2;
    const moving: { seq: number; end_offset: string; data: Uint8Array }[] = [];
    let moved = 0;
    for (const row of this.db.each<MessageRow>("SELECT seq, end_offset, data FROM messages ORDER BY seq")) {
      if (meta.hotBytes - moved <= keep) break;
      moving.push({ seq: row.seq, end_offset: row.end_offset, data: new Uint8Array(row.data) });
      moved += row.data.byteLength;
    }
    const first = moving[0];
    const last = moving.at(-1);
    if (!first || !last) return;
    const start = startOf(first.end_offset, first.data.byteLength);
    const key = segmentKey(this.ctx.id.toString(), generation, start, last.end_offset);
    await this.env.STREAM_SEGMENTS.put(key, encodeSegment(moving.map((m) => m.data)));
    const now = this.record.meta;
    if (!now || now.generation !== generation) {
      await this.env.STREAM_SEGMENTS.delete(key);
      return;
    }
    this.db.run(
      "INSERT INTO segments (start_offset, end_offset, key, messages, bytes) VALUES (?, ?, ?, ?, ?)",
      start,
      last.end_offset,
      key,
      moving.length,
      moved,
    );
    this.db.run("DELETE FROM messages WHERE seq <= ?", last.seq);
    now.hotBytes -= moved;
    this.record.save(now);
    this.rotations += 1;
  }

  /** Resolves once a rotation in progress has finished; answers the cold segments' count. */
  async settled(): Promise<number> {
    while (this.rotating) await this.rotating;
    return this.db.one<{ n: number }>("SELECT COUNT(*) AS n FROM segments")!.n;
  }

  /** Empties the log (the segments of the incarnation stay in R2 until `deleteGeneration`). */
  clear(): void {
    this.db.run("DELETE FROM messages");
    this.db.run("DELETE FROM segments");
    this.segments.clear();
  }

  /** Deletes an incarnation's segments from R2, in the background. */
  deleteGeneration(generation: string): void {
    this.ctx.waitUntil(this.deleteSegments(generationPrefix(this.ctx.id.toString(), generation)));
  }

  private async deleteSegments(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.env.STREAM_SEGMENTS.list({ prefix, ...(cursor !== undefined && { cursor }) });
      if (page.objects.length > 0) await this.env.STREAM_SEGMENTS.delete(page.objects.map((o) => o.key));
      cursor = page.truncated ? page.cursor : undefined;
    } while (cursor);
  }
}
