/** Shared by the widget tests in Chromium: wait for what a user would see, never for a fixed time. */
import axe from "axe-core";
import type { LitElement } from "lit";
import { cdp, userEvent } from "vitest/browser";

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

/** Shows the page as a browser set to a light or dark colour scheme does. */
export async function colorScheme(scheme: "light" | "dark"): Promise<void> {
  await cdp().send("Emulation.setEmulatedMedia", { features: [{ name: "prefers-color-scheme", value: scheme }] });
}

/**
 * What axe-core finds wrong with `element` and its shadow tree, one line per rule and node.
 * Every rule runs, experimental ones included, except `region`: where the page puts the widget
 * among its landmarks is the page's choice.
 */
export async function accessibilityViolations(element: Element): Promise<string[]> {
  const result = await axe.run(element, {
    resultTypes: ["violations"],
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice", "experimental"] },
    rules: { region: { enabled: false } },
  });
  return result.violations.flatMap((violation) =>
    violation.nodes.map((node) => `${violation.id}: ${node.target.join(" > ")}: ${node.failureSummary?.replaceAll("\n", " ")}`),
  );
}

/** Each key a user presses, in turn; `Tab` moves focus as the browser does. */
export async function press(...keys: string[]): Promise<void> {
  for (const key of keys) await userEvent.keyboard(`{${key}}`);
}

/** The element that has focus, looking inside shadow roots. */
export function focused(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}
