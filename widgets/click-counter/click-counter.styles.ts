import { css } from "lit";

export const styles = css`
  :host {
    display: inline-block;
  }
  .counter {
    display: inline-flex;
    align-items: center;
    gap: var(--_gap);
    padding: var(--click-counter-padding, 0.25rem);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
  }
  [part="count"] {
    min-width: 3ch;
    padding: 0 0.5rem;
    font-variant-numeric: tabular-nums;
    font-size: var(--click-counter-count-size, 1.25em);
    font-weight: 600;
    text-align: center;
  }
  [part="button"] {
    border: 0;
    border-radius: calc(var(--_radius) - 2px);
    padding: 0.4rem 0.9rem;
    background: var(--click-counter-button-background, var(--_accent));
    color: var(--click-counter-button-color, var(--_on-accent));
  }
  [part="button"]:active:not(:disabled) {
    transform: translateY(1px);
  }
  [part="button"]:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  [part="viewers"] {
    display: block;
    margin-top: 0.25rem;
    font-size: 0.85em;
    color: var(--_muted);
  }
  [part="status"] {
    display: block;
    margin-top: 0.25rem;
    padding: 0.1rem 0.25rem;
    font-size: 0.85em;
    color: var(--_danger);
    border-radius: calc(var(--_radius) - 4px);
  }
  [part="status"]:empty {
    display: none;
  }
`;
