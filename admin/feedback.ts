import { html } from "lit";

/** What the last operation of a page came to: a polite status line, or an alert when it failed. */
export const feedback = (notice: string, error: string) => html`
  <p role="status" class="muted">${notice}</p>
  ${error ? html`<p role="alert" class="error">${error}</p>` : ""}
`;
