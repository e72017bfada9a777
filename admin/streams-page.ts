import { LitElement, html } from "lit";
import { state } from "lit/decorators.js";
import { ApiError, call, part, problem, request } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import { feedback } from "./feedback.ts";
import { PagedList, pager } from "./paged-list.ts";

declare global {
  interface HTMLElementTagNameMap {
    "streams-page": StreamsPage;
  }
}

interface Stream {
  name: string;
  contentType: string;
  tail: string;
  bytes: number;
  readers: number;
  closed: boolean;
  public: boolean;
  ttlSeconds?: number;
  expiresAt?: string;
  lastActive: string;
}

interface Subscription {
  name: string;
  type: string;
  pattern: string | null;
  streams: number;
  state: string;
}

/** Items of a stream shown at once: the latest of its first read. */
const ITEMS_SHOWN = 20;

const streamPath = (name: string) => `/v1/stream/${name.split("/").map(part).join("/")}`;
const size = (bytes: number) => (bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`);
const lifetime = (s: Stream) => (s.ttlSeconds !== undefined ? `TTL ${s.ttlSeconds} s` : s.expiresAt ? `until ${new Date(s.expiresAt).toLocaleString()}` : "none");

/**
 * Every stream with its size, tail, access and lifetime; the latest items of the one chosen,
 * read through the protocol with the session; close and delete; and every subscription.
 */
export class StreamsPage extends LitElement {
  static override styles = consoleStyles;

  private readonly streams = new PagedList<Stream>(this, async (cursor) => {
    const page = await call<{ streams: Stream[]; cursor: string | null }>(`/api/admin/streams?limit=20${cursor ? `&cursor=${part(cursor)}` : ""}`);
    return { items: page.streams, cursor: page.cursor };
  });

  private readonly subscriptions = new PagedList<Subscription>(this, async (cursor) => {
    const page = await call<{ subscriptions: Subscription[]; cursor: string | null }>(`/api/admin/subscriptions?limit=20${cursor ? `&cursor=${part(cursor)}` : ""}`);
    return { items: page.subscriptions, cursor: page.cursor };
  });

  @state() private chosen: Stream | undefined;
  @state() private items: string[] = [];
  @state() private error = "";
  @state() private notice = "";

  override connectedCallback(): void {
    super.connectedCallback();
    void this.streams.reload();
    void this.subscriptions.reload();
  }

  private async show(stream: Stream): Promise<void> {
    this.chosen = stream;
    this.items = [];
    this.error = "";
    try {
      const response = await request(`${streamPath(stream.name)}?offset=-1`);
      if (!response.ok) throw new ApiError(response.status, "read", `Reading the stream failed (${response.status}).`);
      const text = await response.text();
      if (stream.contentType.includes("json")) {
        const values = JSON.parse(text || "[]") as unknown[];
        this.items = values.slice(-ITEMS_SHOWN).reverse().map((value) => JSON.stringify(value, null, 1));
      } else {
        this.items = text ? [text.slice(-4000)] : [];
      }
    } catch (error) {
      this.error = problem(error);
    }
  }

  private async close(stream: Stream): Promise<void> {
    if (!confirm(`Close ${stream.name}? Nothing can be appended after.`)) return;
    await this.change(stream, "POST", { "Stream-Closed": "true", "Content-Type": stream.contentType }, `Closed ${stream.name}.`);
  }

  private async deleteStream(stream: Stream): Promise<void> {
    if (!confirm(`Delete ${stream.name} and everything in it?`)) return;
    await this.change(stream, "DELETE", {}, `Deleted ${stream.name}.`);
    if (this.chosen?.name === stream.name) this.chosen = undefined;
  }

  private async change(stream: Stream, method: "POST" | "DELETE", headers: Record<string, string>, done: string): Promise<void> {
    this.error = "";
    this.notice = "";
    const response = await request(streamPath(stream.name), { method, headers });
    if (!response.ok) {
      this.error = `${stream.name}: ${response.status} ${(await response.text()).slice(0, 200)}`;
      return;
    }
    this.notice = done;
    await this.streams.reload();
  }

  override render() {
    const list = this.streams;
    return html`
      <h2>Streams</h2>
      ${feedback(this.notice, this.error)}
      <div class="panel">
        <table>
          <thead>
            <tr>
              <th scope="col">Stream</th><th scope="col" class="number">Size</th><th scope="col">Tail</th><th scope="col">Access</th><th scope="col">Lifetime</th><th scope="col">State</th><th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            ${list.items.map(
              (s) => html`<tr class=${this.chosen?.name === s.name ? "selected" : ""}>
                <td><code>${s.name}</code><div class="muted">${s.contentType}</div></td>
                <td class="number">${size(s.bytes)}</td>
                <td class="mono">${s.tail}</td>
                <td>${s.public ? "public" : "private"}</td>
                <td>${lifetime(s)}</td>
                <td>${s.closed ? "closed" : "open"} · ${s.readers} live</td>
                <td>
                  <div class="row">
                    <button type="button" @click=${() => this.show(s)} aria-label=${`Latest items of ${s.name}`}>Items</button>
                    ${s.closed ? "" : html`<button type="button" @click=${() => this.close(s)} aria-label=${`Close ${s.name}`}>Close</button>`}
                    <button type="button" class="danger" @click=${() => this.deleteStream(s)} aria-label=${`Delete ${s.name}`}>Delete</button>
                  </div>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${pager(list, "streams")}
      </div>
      ${this.chosen
        ? html`<section class="panel" aria-labelledby="items-title">
            <h3 id="items-title">Latest items of <code>${this.chosen.name}</code></h3>
            ${this.items.length === 0 ? html`<p class="muted">Empty.</p>` : ""}
            <ol class="plain">
              ${this.items.map((item) => html`<li><pre class="mono">${item}</pre></li>`)}
            </ol>
          </section>`
        : ""}
      ${this.renderSubscriptions()}
    `;
  }

  private renderSubscriptions() {
    const list = this.subscriptions;
    return html`
      <section class="panel" aria-labelledby="subscriptions-title">
        <h3 id="subscriptions-title">Subscriptions</h3>
        <table>
          <thead>
            <tr><th scope="col">Subscription</th><th scope="col">Type</th><th scope="col">Pattern</th><th scope="col" class="number">Streams</th><th scope="col">State</th></tr>
          </thead>
          <tbody>
            ${list.items.map(
              (s) => html`<tr>
                <td><code>${s.name}</code></td>
                <td>${s.type}</td>
                <td class="mono">${s.pattern ?? "—"}</td>
                <td class="number">${s.streams}</td>
                <td>${s.state}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${pager(list, "subscriptions")}
      </section>
    `;
  }
}

customElements.define("streams-page", StreamsPage);
