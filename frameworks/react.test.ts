import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { afterEach, describe, expect, inject, it } from "vitest";
import { ClickCounter, StreamFeed } from "./react.ts";

const endpoint = inject("endpoint");
const roots: { unmount(): void }[] = [];

function render(element: ReturnType<typeof createElement>): HTMLElement {
  const container = document.createElement("div");
  document.body.append(container);
  const root = createRoot(container);
  roots.push(root);
  root.render(element);
  return container;
}

afterEach(() => {
  for (const root of roots.splice(0)) root.unmount();
  document.body.replaceChildren();
});

describe("edge-widgets/react", () => {
  it("passes an edge-<name> event to the on<Name> prop, with its detail", async () => {
    const name = `react-${crypto.randomUUID().slice(0, 8)}`;
    const counted = new Promise<{ name: string; count: number }>((done) => {
      render(createElement(ClickCounter, { name, endpoint, onCount: (event) => done(event.detail) }));
    });
    expect(await counted).toEqual({ name, count: 0 });
  });

  it("sets props as the element's properties, numbers as numbers", async () => {
    const container = render(createElement(StreamFeed, { stream: "react-feed", limit: 7, endpoint }));
    // React renders on its own schedule; the element appears with its properties set.
    await expect.poll(() => container.querySelector("stream-feed")?.limit).toBe(7);
    expect(container.querySelector("stream-feed")!.stream).toBe("react-feed");
  });
});
