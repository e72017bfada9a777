// react-dom ships no types and @types/react-dom is not installed; the React components' test
// needs only this much of it.
declare module "react-dom/client" {
  import type { ReactNode } from "react";
  export function createRoot(container: Element): { render(children: ReactNode): void; unmount(): void };
}
