/** Shared by the widget tests in Chromium: wait for what a user would see, never for a fixed time. */
import type { LitElement } from "lit";

/** Resolves with the next `type` event on `target` that satisfies `match`. */
export function nextEvent<K extends keyof HTMLElementEventMap>(
  target: EventTarget,
  type: K,
  match: (event: HTMLElementEventMap[K]) => boolean = () => true,
): Promise<HTMLElementEventMap[K]> {
  return new Promise((done) => {
    const listener = (event: Event) => {
      if (!match(event as HTMLElementEventMap[K])) return;
      target.removeEventListener(type, listener);
      done(event as HTMLElementEventMap[K]);
    };
    target.addEventListener(type, listener);
  });
}

/** Resolves once `check()` holds, re-checking after every change to the element or its shadow tree. */
export async function until(element: LitElement, check: () => boolean): Promise<void> {
  await element.updateComplete;
  while (!check()) {
    await new Promise<void>((done) => {
      const observer = new MutationObserver(() => {
        observer.disconnect();
        done();
      });
      observer.observe(element, { attributes: true });
      observer.observe(element.shadowRoot!, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await element.updateComplete;
  }
}
