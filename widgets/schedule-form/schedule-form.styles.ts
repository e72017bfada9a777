import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    max-width: var(--schedule-form-max-width, 32rem);
  }
  [part="form"] {
    display: grid;
    gap: var(--_gap);
    padding: var(--schedule-form-padding, 0.75rem);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
  }
  label {
    display: grid;
    gap: 0.2rem;
    font-size: 0.9em;
    color: var(--_muted);
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_gap);
    align-items: end;
  }
  input,
  select {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) - 2px);
    padding: 0.35rem 0.5rem;
  }
  input[type="number"] {
    width: 6ch;
  }
  input:focus-visible,
  select:focus-visible,
  button:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  button {
    font: inherit;
    border: 0;
    border-radius: calc(var(--_radius) - 2px);
    padding: 0.4rem 0.9rem;
    cursor: pointer;
  }
  [part="submit"] {
    justify-self: start;
    background: var(--schedule-form-button-background, var(--_accent));
    color: var(--schedule-form-button-color, var(--_on-accent));
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  [part="status"] {
    margin: 0;
    font-size: 0.9em;
  }
  [part="status"][data-kind="error"] {
    color: var(--_danger);
  }
  [part="list"] {
    list-style: none;
    margin: var(--_gap) 0 0;
    padding: 0;
    display: grid;
    gap: var(--_gap);
  }
  [part="list"]:empty {
    display: none;
  }
  [part="schedule"] {
    display: flex;
    flex-wrap: wrap;
    gap: var(--_gap);
    align-items: center;
    justify-content: space-between;
    padding: 0.5rem 0.75rem;
    border-radius: var(--_radius);
    background: var(--_raised);
    font-size: 0.9em;
  }
  .failed {
    color: var(--_danger);
  }
  [part="cancel"] {
    background: transparent;
    color: var(--_danger);
    border: 1px solid currentColor;
    padding: 0.2rem 0.6rem;
  }
  .hint {
    font-size: 0.8em;
    color: var(--_muted);
  }
`;
