/**
 * The one alarm of a Durable Object, serving many deadlines (due deliveries, leases, retries,
 * expiry): it is always set to the earliest of them, or deleted when there is none.
 */
export class Alarm {
  /** The alarm as this object last set it; undefined until read. Spares a read per change. */
  private at: number | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Sets the alarm to the earliest deadline (null and undefined are none), or deletes it. */
  async setToEarliest(...deadlines: (number | null | undefined)[]): Promise<number | null> {
    const next = earliest(deadlines);
    this.at = next;
    if (next === null) await this.storage.deleteAlarm();
    else await this.storage.setAlarm(next);
    return next;
  }

  /** Brings the alarm forward to `at`, unless it is already set sooner. */
  async bringForward(at: number): Promise<void> {
    if (this.at === undefined) this.at = await this.storage.getAlarm();
    if (this.at !== null && this.at <= at) return;
    this.at = at;
    await this.storage.setAlarm(at);
  }

  /** The alarm is running: it is no longer set until someone sets it again. */
  fired(): void {
    this.at = null;
  }
}

/** The earliest of `deadlines`, or null when none is set. */
export function earliest(deadlines: readonly (number | null | undefined)[]): number | null {
  let first: number | null = null;
  for (const at of deadlines) if (at !== null && at !== undefined && at !== Infinity && (first === null || at < first)) first = at;
  return first;
}
