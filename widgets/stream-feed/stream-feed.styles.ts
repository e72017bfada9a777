import { css } from "lit";

export const styles = css`
  :host {
    display: block;
  }
  [part="items"] {
    list-style: none;
    margin: 0;
    padding: 0;
    max-height: var(--stream-feed-max-height, none);
    overflow-y: auto;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
  }
  [part="items"]:empty {
    display: none;
  }
  [part="item"] {
    padding: var(--stream-feed-item-padding, 0.6rem 0.8rem);
    border-top: var(--stream-feed-item-border, 1px solid var(--_border));
    overflow-wrap: anywhere;
  }
  [part="item"]:first-child {
    border-top: 0;
  }
  [part="title"] {
    display: block;
    font-weight: 600;
  }
  [part="text"] {
    margin: 0.2rem 0 0;
    white-space: pre-wrap;
  }
  [part="time"] {
    display: block;
    margin-top: 0.2rem;
    color: var(--_muted);
    font-size: 0.85em;
  }
  a {
    color: var(--_accent);
  }
  a:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
    border-radius: 2px;
  }
  [part="status"] {
    margin: 0.35rem 0 0;
    padding: 0.1rem 0.3rem;
    border-radius: calc(var(--_radius) - 4px);
    color: var(--_muted);
    font-size: 0.9em;
  }
  [part="status"]:empty {
    display: none;
  }
  [part="status"].problem {
    color: var(--_danger);
  }
`;
