import { LitElement, css, html, nothing } from "lit";
import { state } from "lit/decorators.js";
import { ApiError, SESSION_ENDED, problem, resumeSession, signIn, signOut } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import "./chat-page.ts";
import "./counters-page.ts";
import "./overview-page.ts";
import "./schedules-page.ts";
import "./streams-page.ts";
import "./videos-page.ts";

declare global {
  interface HTMLElementTagNameMap {
    "admin-console": AdminConsole;
  }
}

const PAGES = [
  { id: "overview", title: "Overview" },
  { id: "chat", title: "Chat" },
  { id: "schedules", title: "Schedules" },
  { id: "streams", title: "Streams" },
  { id: "videos", title: "Videos" },
  { id: "counters", title: "Counters" },
] as const;

type PageId = (typeof PAGES)[number]["id"];

const pageOf = (hash: string): PageId => PAGES.find((page) => `#${page.id}` === hash)?.id ?? "overview";

/**
 * The owner's console: the sign-in form until there is a session, then a page per feature,
 * chosen by the URL's fragment (`#chat`), so the back button and bookmarks work.
 */
export class AdminConsole extends LitElement {
  static override styles = [
    consoleStyles,
    css`
      :host {
        min-height: 100vh;
        background: var(--_raised);
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 1rem;
        padding: 0.75rem 1rem;
        background: var(--_bg);
        border-bottom: 1px solid var(--_border);
      }
      header h1 {
        font-size: 1.1rem;
        margin: 0;
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        display: block;
        padding: 0.35rem 0.7rem;
        border-radius: var(--_radius);
        text-decoration: none;
        color: var(--_fg);
      }
      nav a[aria-current="page"] {
        background: var(--_accent);
        color: var(--_on-accent);
      }
      nav a:focus-visible {
        outline: none;
        box-shadow: var(--_focus);
      }
      .spacer {
        flex: 1;
      }
      main {
        padding: 1rem;
        max-width: 72rem;
        margin: 0 auto;
      }
      .sign-in {
        max-width: 24rem;
        margin: 4rem auto;
      }
      .sign-in label {
        display: flex;
      }
      .sign-in input {
        width: 100%;
        box-sizing: border-box;
      }
    `,
  ];

  @state() private signedIn: boolean | undefined;
  @state() private page: PageId = pageOf(location.hash);
  @state() private message = "";
  @state() private busy = false;

  private readonly onHash = () => {
    this.page = pageOf(location.hash);
  };
  private readonly onEnded = () => {
    this.signedIn = false;
    this.message = "Your session has ended. Sign in again.";
  };

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener("hashchange", this.onHash);
    window.addEventListener(SESSION_ENDED, this.onEnded);
    resumeSession().then(
      (session) => (this.signedIn = session !== undefined),
      (error: unknown) => {
        this.signedIn = false;
        this.message = problem(error);
      },
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener("hashchange", this.onHash);
    window.removeEventListener(SESSION_ENDED, this.onEnded);
  }

  protected override updated(): void {
    document.title = this.signedIn ? `${PAGES.find((page) => page.id === this.page)!.title} · Console` : "Sign in · Console";
  }

  private async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const input = form.elements.namedItem("token") as HTMLInputElement;
    this.busy = true;
    this.message = "";
    try {
      await signIn(input.value);
      // The token leaves the page as soon as it has done its one job.
      input.value = "";
      this.signedIn = true;
    } catch (error) {
      this.message = error instanceof ApiError && error.status === 401 ? "That is not the admin token." : problem(error);
    } finally {
      this.busy = false;
    }
  }

  private async leave(): Promise<void> {
    await signOut().catch(() => undefined);
    this.signedIn = false;
    this.message = "Signed out.";
  }

  override render() {
    if (this.signedIn === undefined) return html`<main><p role="status">Loading…</p></main>`;
    if (!this.signedIn) return this.renderSignIn();
    return html`
      <header>
        <h1>edge-widgets console</h1>
        <nav aria-label="Console pages">
          <ul>
            ${PAGES.map(
              (page) => html`<li><a href="#${page.id}" aria-current=${this.page === page.id ? "page" : nothing}>${page.title}</a></li>`,
            )}
          </ul>
        </nav>
        <span class="spacer"></span>
        <button type="button" @click=${this.leave}>Sign out</button>
      </header>
      <main>${this.renderPage()}</main>
    `;
  }

  private renderSignIn() {
    return html`
      <main>
        <form class="panel sign-in" @submit=${this.submit} aria-labelledby="sign-in-title">
          <h1 id="sign-in-title">Sign in to the console</h1>
          <p class="muted">Use the backend's <code>ADMIN_TOKEN</code>. The console keeps a session cookie, never the token.</p>
          <div class="row">
            <label>Admin token <input name="token" type="password" autocomplete="current-password" required /></label>
          </div>
          <button class="primary" type="submit" ?disabled=${this.busy}>Sign in</button>
          <p role="status" class=${this.message.startsWith("Signed out") ? "muted" : "error"}>${this.message}</p>
        </form>
      </main>
    `;
  }

  private renderPage() {
    switch (this.page) {
      case "overview":
        return html`<overview-page></overview-page>`;
      case "chat":
        return html`<chat-page></chat-page>`;
      case "schedules":
        return html`<schedules-page></schedules-page>`;
      case "streams":
        return html`<streams-page></streams-page>`;
      case "videos":
        return html`<videos-page></videos-page>`;
      case "counters":
        return html`<counters-page></counters-page>`;
    }
  }
}

customElements.define("admin-console", AdminConsole);
