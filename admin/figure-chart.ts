import { LitElement, css, html, svg } from "lit";
import { property } from "lit/decorators.js";
import { theme } from "../widgets/internal/theme.ts";

declare global {
  interface HTMLElementTagNameMap {
    "figure-chart": FigureChart;
  }
}

const WIDTH = 240;
const HEIGHT = 48;

/**
 * A small line chart of one figure over the last hour (one value per minute, oldest first),
 * drawn as SVG. Screen readers get its label and the latest and highest values instead.
 */
export class FigureChart extends LitElement {
  static override styles = [
    theme,
    css`
      :host {
        display: block;
      }
      svg {
        width: 100%;
        height: 3rem;
        display: block;
      }
      polyline {
        fill: none;
        stroke: var(--_accent);
        stroke-width: 1.5;
        vector-effect: non-scaling-stroke;
      }
      line {
        stroke: var(--_border);
      }
    `,
  ];

  @property({ attribute: false }) values: number[] = [];
  @property() label = "";

  override render() {
    const values = this.values.length > 0 ? this.values : [0];
    const max = Math.max(1, ...values);
    const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
    const points = values.map((value, i) => `${(i * step).toFixed(1)},${(HEIGHT - (value / max) * (HEIGHT - 4) - 2).toFixed(1)}`).join(" ");
    const summary = `${this.label}: ${values.at(-1)} in the last minute, at most ${max === 1 && Math.max(...values) < 1 ? 0 : max} a minute in the last hour`;
    return html`<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label=${summary}>
      ${svg`<line x1="0" y1=${HEIGHT - 1} x2=${WIDTH} y2=${HEIGHT - 1}></line><polyline points=${points}></polyline>`}
    </svg>`;
  }
}

customElements.define("figure-chart", FigureChart);
