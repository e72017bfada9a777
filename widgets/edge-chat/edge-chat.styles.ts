import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    height: var(--edge-chat-height, 28rem);
  }
  .chat,
  .name-form {
    box-sizing: border-box;
    height: 100%;
    display: flex;
    flex-direction: column;
    gap: var(--_gap);
    padding: var(--_gap);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
  }
  header {
    display: flex;
    justify-content: space-between;
    align-items: baseline;
    gap: var(--_gap);
    font-size: 0.9em;
    color: var(--_muted);
  }
  [part="roster"] ul {
    margin: 0.25rem 0 0;
    padding-inline-start: 1.25rem;
    max-height: 6rem;
    overflow: auto;
  }
  summary {
    cursor: pointer;
  }
  .scroller {
    position: relative;
    flex: 1;
    min-height: 0;
  }
  [part="messages"] {
    box-sizing: border-box;
    height: 100%;
    padding: 0 0.25rem;
    overflow-y: auto;
    overscroll-behavior: contain;
    /* The widget keeps the view still itself when older messages go in above (not every browser anchors). */
    overflow-anchor: none;
  }
  [part="messages"] > ol {
    margin: 0;
    padding: 0;
    list-style: none;
    display: flex;
    flex-direction: column;
    gap: 0.35rem;
  }
  [part="messages"]:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  .top {
    text-align: center;
    font-size: 0.85em;
    color: var(--_muted);
    padding: 0.25rem;
  }
  [part~="message"] {
    align-self: flex-start;
    max-width: 85%;
    padding: 0.35rem 0.6rem;
    border-radius: var(--_radius);
    background: var(--edge-chat-message-background, var(--_raised));
    overflow-wrap: anywhere;
  }
  [part~="message"].own {
    align-self: flex-end;
    background: var(--edge-chat-own-background, color-mix(in srgb, var(--_accent) 16%, var(--_bg)));
  }
  /* Marked by its outline and note, not by fading: faded text would be too faint to read. */
  .pending {
    outline: 1px dashed color-mix(in srgb, var(--_accent) 60%, transparent);
  }
  .refused {
    outline: 1px solid var(--_danger);
  }
  .name {
    font-weight: 600;
    font-size: 0.85em;
    margin-inline-end: 0.4rem;
  }
  time,
  .note {
    font-size: 0.75em;
    color: var(--_muted);
  }
  .refused .note {
    color: var(--_danger);
  }
  .text {
    white-space: pre-wrap;
  }
  /* Links sit on tinted bubbles too: the accent leans toward the text colour to stay readable there. */
  .text a,
  .link {
    color: color-mix(in srgb, var(--_accent) 75%, var(--_fg));
  }
  .badge {
    font-size: 0.75em;
    font-weight: 400;
    color: var(--_muted);
  }
  .link {
    border: 0;
    padding: 0;
    background: none;
    text-decoration: underline;
    font-size: 0.9em;
  }
  .actions {
    display: inline-flex;
    gap: 0.5rem;
    margin-inline-start: 0.5rem;
  }
  [part="new-messages"] {
    position: absolute;
    bottom: 0.5rem;
    left: 50%;
    transform: translateX(-50%);
    border: 0;
    border-radius: 999px;
    padding: 0.3rem 0.8rem;
    background: var(--_accent);
    color: var(--_on-accent);
    box-shadow: 0 2px 6px rgb(0 0 0 / 0.2);
  }
  [part="typing"] {
    margin: 0;
    min-height: 1.2em;
    font-size: 0.8em;
    font-style: italic;
    color: var(--_muted);
  }
  .composer {
    display: flex;
    gap: var(--_gap);
    align-items: stretch;
  }
  [part="input"],
  .name-form input {
    font: inherit;
    padding: 0.4rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) - 2px);
    background: var(--_bg);
    color: var(--_fg);
  }
  [part="input"] {
    flex: 1;
    resize: none;
  }
  [part="send"],
  .name-form button {
    border: 0;
    border-radius: calc(var(--_radius) - 2px);
    padding: 0.4rem 0.9rem;
    background: var(--_accent);
    color: var(--_on-accent);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  [part="status"] {
    margin: 0;
    font-size: 0.85em;
    color: var(--_danger);
  }
  [part="status"]:empty {
    display: none;
  }
  .name-form {
    justify-content: center;
  }
  fieldset {
    border: 0;
    display: flex;
    flex-wrap: wrap;
    gap: var(--_gap);
    align-items: center;
    justify-content: center;
  }
  legend {
    font-weight: 600;
    margin: 0 auto var(--_gap);
    padding: 0;
  }
  .name-form [part="status"] {
    flex-basis: 100%;
    text-align: center;
  }
`;
