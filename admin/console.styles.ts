import { css } from "lit";
import { theme } from "../widgets/internal/theme.ts";

/**
 * The console's look, on the widgets' theme tokens (so light and dark follow
 * `prefers-color-scheme` the same way): panels, tables, forms, buttons and the "Load more" row.
 */
export const consoleStyles = [
  theme,
  css`
    :host {
      display: block;
    }
    h2 {
      font-size: 1.25rem;
      margin: 0 0 0.75rem;
    }
    h3 {
      font-size: 1.05rem;
      margin: 0 0 0.5rem;
    }
    .panel {
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: var(--_radius);
      padding: 1rem;
      margin-bottom: 1rem;
    }
    .columns {
      display: grid;
      gap: 1rem;
      grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr));
    }
    table {
      border-collapse: collapse;
      width: 100%;
      font-size: 0.95rem;
    }
    th,
    td {
      text-align: left;
      padding: 0.4rem 0.5rem;
      border-bottom: 1px solid var(--_border);
      vertical-align: top;
    }
    th {
      font-weight: 600;
      color: var(--_muted);
    }
    td.number,
    th.number {
      text-align: right;
      font-variant-numeric: tabular-nums;
    }
    button,
    input,
    select,
    textarea {
      font: inherit;
      color: var(--_fg);
    }
    button {
      border: 1px solid var(--_border);
      background: var(--_raised);
      border-radius: calc(var(--_radius) - 2px);
      padding: 0.3rem 0.7rem;
    }
    button.primary {
      background: var(--_accent);
      color: var(--_on-accent);
      border-color: var(--_accent);
    }
    button.danger {
      color: var(--_danger);
    }
    button[disabled] {
      opacity: 0.6;
      cursor: default;
    }
    input,
    select,
    textarea {
      background: var(--_bg);
      border: 1px solid var(--_border);
      border-radius: calc(var(--_radius) - 2px);
      padding: 0.3rem 0.5rem;
    }
    label {
      display: inline-flex;
      flex-direction: column;
      gap: 0.2rem;
      font-size: 0.9rem;
    }
    label:has(textarea) {
      display: flex;
    }
    textarea {
      width: 100%;
      box-sizing: border-box;
    }
    h3 button {
      font-size: 0.9rem;
      font-weight: normal;
      margin-left: 0.5rem;
    }
    form.row,
    .row {
      display: flex;
      flex-wrap: wrap;
      align-items: flex-end;
      gap: 0.5rem;
      margin-bottom: 0.75rem;
    }
    .muted {
      color: var(--_muted);
    }
    .error {
      color: var(--_danger);
    }
    .more {
      margin-top: 0.75rem;
    }
    a {
      color: var(--_accent);
    }
    code,
    .mono {
      font-family: ui-monospace, SFMono-Regular, Menlo, monospace;
      font-size: 0.9em;
      word-break: break-all;
    }
    ul.plain {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    ul.plain > li {
      padding: 0.4rem 0;
      border-bottom: 1px solid var(--_border);
    }
    .selected {
      background: var(--_raised);
    }
  `,
];
