/**
 * What the console's admin routes answer (`/api/admin/*`, README "The owner's console"): the
 * figures, and the lists of objects and videos. The Worker builds these; the console reads them.
 */

/** `GET /api/admin/metrics`. */
export interface MetricsReport {
  /** False under `METRICS=off`. */
  enabled: boolean;
  /** When the report was made (ISO 8601). */
  at: string;
  /** Levels now: open counter and chat sockets, open live stream readers. */
  open: { counters: number; rooms: number; feeds: number };
  /** Events per second over the last full minute. */
  perSecond: Record<string, number>;
  /** Sums since the figures began (what a Prometheus counter is). */
  totals: Record<string, number>;
  /** The last hour, one entry per minute that saw anything, oldest first. */
  minutes: { minute: string; counts: Record<string, number> }[];
}

/** A video as the owner sees it in the console: private and unfinished ones too, without media URLs. */
export interface AdminVideo {
  uid: string;
  name: string;
  created: string;
  duration: number;
  visibility: "public" | "private";
  /** `ready`, or how far it is: `pendingupload`, `inprogress`, `error`... */
  status: string;
}

/** What every entry of the directory's lists holds, besides its object's own figures. */
export interface DirectoryEntry {
  name: string;
  /** When the object first stored data (ISO 8601). */
  firstSeen: string;
  /** When it last stored data, to within a minute (ISO 8601). */
  lastActive: string;
}

/** One page of a list: pass `cursor` back for the next page; null at the end. */
export type AdminPage<Key extends string, T> = { [K in Key]: T[] } & { cursor: string | null };
