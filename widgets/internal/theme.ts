import { css } from "lit";

/**
 * Theme tokens shared by every widget. A page restyles all of them at once by setting the
 * `--edge-*` custom properties on any ancestor; each widget also has its own properties that
 * fall back to these. Light and dark follow `prefers-color-scheme`.
 */
export const theme = css`
  :host {
    --_fg: var(--edge-color-text, #1b1f24);
    --_muted: var(--edge-color-muted, #5b636e);
    --_bg: var(--edge-color-surface, #ffffff);
    --_raised: var(--edge-color-raised, #f3f4f6);
    --_border: var(--edge-color-border, #d5d9df);
    --_accent: var(--edge-color-accent, #2563eb);
    --_on-accent: var(--edge-color-on-accent, #ffffff);
    --_danger: var(--edge-color-danger, #b42318);
    --_radius: var(--edge-radius, 8px);
    --_gap: var(--edge-spacing, 0.5rem);
    --_focus: var(--edge-focus-ring, 0 0 0 3px color-mix(in srgb, var(--_accent) 45%, transparent));
    font-family: var(--edge-font-family, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
    font-size: var(--edge-font-size, 1rem);
    color: var(--_fg);
    color-scheme: light dark;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --_fg: var(--edge-color-text, #e6e8eb);
      --_muted: var(--edge-color-muted, #9aa3ad);
      --_bg: var(--edge-color-surface, #16191d);
      --_raised: var(--edge-color-raised, #22262c);
      --_border: var(--edge-color-border, #3a4048);
      --_accent: var(--edge-color-accent, #6ea0ff);
      --_on-accent: var(--edge-color-on-accent, #0b1220);
      --_danger: var(--edge-color-danger, #ff8a80);
    }
  }
  :host([hidden]) {
    display: none;
  }
  button {
    font: inherit;
    cursor: pointer;
  }
  button:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
  /*
   * Notes can sit outside a widget's own surface, on the page. On a page that stays light while
   * the visitor's scheme is dark, dark-scheme text there would be unreadable: notes carry the surface.
   */
  [part~="status"] {
    background-color: var(--_bg);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
