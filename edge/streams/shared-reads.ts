/**
 * Reads of one stream object that many readers in this isolate ask for at once (a crowd at the
 * same offset: SSE readers connecting, long-polls waking after an append) go to the object as
 * one read each round trip. A reader joins a read that starts after it arrived, never one
 * already under way, so it still sees every append acknowledged before it asked: one read in
 * flight per key, and the readers that arrive meanwhile share the next one.
 */
import { waitUntil } from "cloudflare:workers";
import { inThisRequest } from "./request-promise.ts";

interface Slot<T> {
  running?: Promise<T>;
  /** The read that starts when the running one ends, shared by everyone who asked since. */
  queued?: Promise<T>;
}

export class SharedReads<T> {
  private readonly slots = new Map<string, Slot<T>>();

  /** `run` once for every reader asking for `key` now; the object sees one call per round trip. */
  read(key: string, run: () => Promise<T>): Promise<T> {
    const shared = this.join(key, run);
    // Each reader waits on a promise of its own request (request-promise.ts). Awaiting the
    // shared one directly would continue this reader in the request that settled it, and the
    // answer built there (its body stream) could not be sent from here: a 500.
    return inThisRequest(shared);
  }

  private join(key: string, run: () => Promise<T>): Promise<T> {
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = {}));
    if (!slot.running) return this.start(key, slot, run);
    if (!slot.queued) {
      // The next read starts in the request of the reader that queued it: `run` calls that
      // reader's stub, which only its own request may use. The running read is settled from
      // another request, so the wait is on a promise of this one (request-promise.ts).
      const after = inThisRequest(slot.running.catch(() => undefined));
      slot.queued = (async () => {
        await after;
        slot.queued = undefined;
        return this.start(key, slot, run);
      })();
    }
    return slot.queued;
  }

  private start(key: string, slot: Slot<T>, run: () => Promise<T>): Promise<T> {
    // A plain promise: the call's own promise belongs to this request, and others may not wait on it.
    const running = new Promise<T>((resolve, reject) => run().then(resolve, reject));
    slot.running = running;
    // The read belongs to the request that started it; others wait on it, so it must finish
    // even if that request's reader goes away.
    waitUntil(running.catch(() => undefined));
    const clear = () => {
      if (slot.running === running) slot.running = undefined;
      if (!slot.running && !slot.queued && this.slots.get(key) === slot) this.slots.delete(key);
    };
    running.then(clear, clear);
    return running;
  }
}
