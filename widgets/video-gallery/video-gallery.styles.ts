import { css } from "lit";

export const styles = css`
  :host {
    display: block;
    container-type: inline-size;
    /* Its search label and notes sit here: the surface keeps them readable in either scheme, on any page. */
    background: var(--_bg);
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: end;
    gap: var(--_gap);
    margin-bottom: var(--_gap);
  }
  .search {
    display: contents;
  }
  label {
    display: grid;
    gap: 0.2rem;
    flex: 1 1 12rem;
    font-size: 0.875em;
    color: var(--_muted);
  }
  input[type="search"] {
    font: inherit;
    color: var(--_fg);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.4rem 0.6rem;
  }
  [part~="grid"] {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: var(--video-gallery-gap, var(--_gap));
    grid-template-columns: repeat(auto-fill, minmax(var(--video-gallery-min-column, 11rem), 1fr));
  }
  [part~="video"] {
    display: grid;
    width: 100%;
    padding: 0;
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    overflow: hidden;
    background: var(--_raised);
    color: inherit;
    text-align: start;
  }
  [part~="video"]:hover {
    border-color: var(--_accent);
  }
  .frame {
    position: relative;
    aspect-ratio: 16 / 9;
    background: var(--video-gallery-placeholder, color-mix(in srgb, var(--_fg) 12%, transparent));
  }
  [part~="thumbnail"] {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  [part~="duration"] {
    position: absolute;
    inset-block-end: 0.35rem;
    inset-inline-end: 0.35rem;
    padding: 0.05rem 0.35rem;
    border-radius: 4px;
    background: rgb(0 0 0 / 0.75);
    color: #fff;
    font-size: 0.75em;
    font-variant-numeric: tabular-nums;
  }
  [part~="name"] {
    padding: 0.4rem 0.55rem 0.5rem;
    overflow-wrap: anywhere;
  }
  .actions {
    display: flex;
    justify-content: center;
    margin-top: var(--_gap);
  }
  .button {
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    padding: 0.4rem 0.9rem;
    background: var(--_bg);
    color: var(--_fg);
  }
  .button.primary {
    border-color: transparent;
    background: var(--video-gallery-accent, var(--_accent));
    color: var(--_on-accent);
  }
  .button:disabled {
    opacity: 0.6;
    cursor: default;
  }
  [part~="progress"] {
    flex: 1 1 8rem;
    accent-color: var(--video-gallery-accent, var(--_accent));
  }
  [part~="status"] {
    display: block;
    min-height: 1.25em;
    margin-top: var(--_gap);
    color: var(--_muted);
    font-size: 0.875em;
  }
  [part~="status"].problem,
  .problem {
    color: var(--_danger);
  }
  [part~="player"] {
    width: min(96vw, var(--video-gallery-player-width, 960px));
    max-width: none;
    padding: var(--_gap);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    background: var(--_bg);
    color: var(--_fg);
  }
  [part~="player"]::backdrop {
    background: var(--video-gallery-backdrop, rgb(0 0 0 / 0.7));
  }
  .player-head {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: var(--_gap);
    margin-bottom: var(--_gap);
  }
  .player-head h2 {
    margin: 0;
    font-size: 1em;
    overflow-wrap: anywhere;
  }
  [part~="media"] {
    display: block;
    width: 100%;
    aspect-ratio: 16 / 9;
    background: #000;
    border-radius: calc(var(--_radius) - 2px);
  }
  [part~="media"]:focus-visible {
    outline: none;
    box-shadow: var(--_focus);
  }
`;
