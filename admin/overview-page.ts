import { LitElement, css, html } from "lit";
import { state } from "lit/decorators.js";
import type { MetricsReport } from "../contract/admin.ts";
import { call, problem } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import "./figure-chart.ts";

declare global {
  interface HTMLElementTagNameMap {
    "overview-page": OverviewPage;
  }
}


/** How often the page asks for fresh figures while it is open. */
const REFRESH_MS = 5_000;

const RATES: { key: string; title: string }[] = [
  { key: "chat_messages", title: "Chat messages" },
  { key: "clicks", title: "Clicks" },
  { key: "appends", title: "Stream appends" },
  { key: "deliveries_ok", title: "Deliveries ok" },
  { key: "deliveries_retried", title: "Deliveries retried" },
  { key: "deliveries_given_up", title: "Deliveries given up" },
  { key: "rate_limited", title: "Rate-limit refusals" },
  { key: "errors", title: "Errors (5xx)" },
];

/** The last hour of one figure, a value per minute (0 for quiet minutes), oldest first. */
function lastHour(report: MetricsReport, key: string): number[] {
  const byMinute = new Map(report.minutes.map((entry) => [Date.parse(entry.minute), entry.counts[key] ?? 0]));
  const now = Math.floor(Date.parse(report.at) / 60_000) * 60_000;
  return Array.from({ length: 60 }, (_, i) => byMinute.get(now - (59 - i) * 60_000) ?? 0);
}

/** Live figures per feature, refreshed every few seconds while the page is open. */
export class OverviewPage extends LitElement {
  static override styles = [
    consoleStyles,
    css`
      .cards {
        display: grid;
        gap: 0.75rem;
        grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr));
      }
      .card {
        background: var(--_bg);
        border: 1px solid var(--_border);
        border-radius: var(--_radius);
        padding: 0.75rem;
      }
      .card h3 {
        font-size: 0.95rem;
        font-weight: 600;
        color: var(--_muted);
      }
      .value {
        font-size: 1.6rem;
        font-variant-numeric: tabular-nums;
      }
      .unit {
        font-size: 0.85rem;
        color: var(--_muted);
      }
    `,
  ];

  @state() private report: MetricsReport | undefined;
  @state() private error = "";
  private timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    try {
      this.report = await call<MetricsReport>("/api/admin/metrics");
      this.error = "";
    } catch (error) {
      this.error = problem(error);
    }
  }

  override render() {
    const report = this.report;
    return html`
      <h2>Overview</h2>
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : ""}
      ${!report
        ? html`<p role="status">Loading figures…</p>`
        : html`
            ${report.enabled ? "" : html`<p class="muted">Figures are off (<code>METRICS=off</code>).</p>`}
            <section aria-labelledby="open-title" class="panel">
              <h3 id="open-title">Open now</h3>
              <div class="cards">
                ${[
                  ["Counter sockets", report.open.counters],
                  ["Chat sockets", report.open.rooms],
                  ["Live feed readers", report.open.feeds],
                ].map(([title, value]) => html`<div class="card"><h3>${title}</h3><div class="value" data-figure=${title}>${value}</div></div>`)}
              </div>
            </section>
            <section aria-labelledby="rates-title" class="panel">
              <h3 id="rates-title">Last minute, and the last hour</h3>
              <div class="cards">
                ${RATES.map(
                  ({ key, title }) => html`<div class="card">
                    <h3>${title}</h3>
                    <div class="value" data-figure=${key}>${report.perSecond[key] ?? 0} <span class="unit">/s</span></div>
                    <figure-chart .values=${lastHour(report, key)} label=${`${title} per minute`}></figure-chart>
                    <div class="unit">${lastHour(report, key).at(-1)} this minute · ${report.totals[key] ?? 0} in all</div>
                  </div>`,
                )}
              </div>
            </section>
            <p class="muted">Updated ${new Date(report.at).toLocaleTimeString()}; refreshed every ${REFRESH_MS / 1000} s while this page is open.</p>
          `}
    `;
  }
}

customElements.define("overview-page", OverviewPage);
