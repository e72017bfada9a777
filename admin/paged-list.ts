import { html, type ReactiveController, type ReactiveControllerHost } from "lit";
import { problem } from "./api.ts";

export interface Page<T> {
  items: T[];
  cursor: string | null;
}

/**
 * One paged list of a console page: the first page on `reload()`, the next on `more()`. Nothing
 * loads everything at once; the host shows `items`, a "Load more" button while `cursor` is set,
 * and `error` when a page failed.
 */
export class PagedList<T> implements ReactiveController {
  items: T[] = [];
  cursor: string | null = null;
  loading = false;
  error = "";
  private generation = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly fetchPage: (cursor: string | undefined) => Promise<Page<T>>,
  ) {
    host.addController(this);
  }

  hostConnected(): void {}

  reload(): Promise<void> {
    this.items = [];
    this.cursor = null;
    return this.load(undefined);
  }

  more(): Promise<void> {
    return this.cursor === null ? Promise.resolve() : this.load(this.cursor);
  }

  private async load(cursor: string | undefined): Promise<void> {
    const generation = ++this.generation;
    this.loading = true;
    this.error = "";
    this.host.requestUpdate();
    try {
      const page = await this.fetchPage(cursor);
      // A reload while a page was on its way makes that page stale.
      if (generation !== this.generation) return;
      this.items = [...this.items, ...page.items];
      this.cursor = page.cursor;
    } catch (error) {
      if (generation === this.generation) this.error = problem(error);
    } finally {
      if (generation === this.generation) this.loading = false;
      this.host.requestUpdate();
    }
  }
}

/** The row under a list: "Load more <what>" while there is more, and Refresh. */
export const pager = <T>(list: PagedList<T>, what: string) => html`
  ${list.loading ? html`<p role="status" class="muted">Loading ${what}…</p>` : list.items.length === 0 ? html`<p class="muted">No ${what} yet.</p>` : ""}
  ${list.error ? html`<p role="alert" class="error">${list.error}</p>` : ""}
  <div class="row more">
    ${list.cursor ? html`<button type="button" @click=${() => list.more()}>Load more ${what}</button>` : ""}
    <button type="button" @click=${() => list.reload()}>Refresh ${what}</button>
  </div>
`;
