import { LitElement, html } from "lit";
import { call, part } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import { PagedList, pager } from "./paged-list.ts";

declare global {
  interface HTMLElementTagNameMap {
    "counters-page": CountersPage;
  }
}

interface Counter {
  name: string;
  value: number;
  lastActive: string;
}

/** Every counter that was ever clicked, with its value. */
export class CountersPage extends LitElement {
  static override styles = consoleStyles;

  private readonly counters = new PagedList<Counter>(this, async (cursor) => {
    const page = await call<{ counters: Counter[]; cursor: string | null }>(`/api/admin/counters?limit=20${cursor ? `&cursor=${part(cursor)}` : ""}`);
    return { items: page.counters, cursor: page.cursor };
  });

  override connectedCallback(): void {
    super.connectedCallback();
    void this.counters.reload();
  }

  override render() {
    const list = this.counters;
    return html`
      <h2>Counters</h2>
      <div class="panel">
        <table>
          <thead>
            <tr><th scope="col">Counter</th><th scope="col" class="number">Value</th><th scope="col">Last click</th></tr>
          </thead>
          <tbody>
            ${list.items.map(
              (counter) => html`<tr>
                <td><code>${counter.name}</code></td>
                <td class="number">${counter.value}</td>
                <td>${new Date(counter.lastActive).toLocaleString()}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${pager(list, "counters")}
      </div>
    `;
  }
}

customElements.define("counters-page", CountersPage);
