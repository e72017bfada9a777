/**
 * Every widget event is a bubbling, composed `CustomEvent` named `edge-*`. Each widget declares
 * its events in `GlobalEventHandlersEventMap`, which is what types `emit` and the page's
 * `addEventListener` alike.
 */
export const EVENT_PREFIX = "edge-";

type EdgeEventName = Extract<keyof GlobalEventHandlersEventMap, `${typeof EVENT_PREFIX}${string}`>;
type DetailOf<K extends EdgeEventName> = GlobalEventHandlersEventMap[K] extends CustomEvent<infer D> ? D : never;

export function emit<K extends EdgeEventName>(target: EventTarget, type: K, detail: DetailOf<K>): boolean {
  return target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: true }));
}
