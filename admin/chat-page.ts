import { LitElement, html } from "lit";
import { state } from "lit/decorators.js";
import { call, part, problem } from "./api.ts";
import { consoleStyles } from "./console.styles.ts";
import { feedback } from "./feedback.ts";
import { PagedList, pager } from "./paged-list.ts";

declare global {
  interface HTMLElementTagNameMap {
    "chat-page": ChatPage;
  }
}

interface Room {
  name: string;
  members: number;
  messages: number;
  lastMessageAt: string | null;
  lastActive: string;
}

interface Message {
  id: number;
  name: string;
  text: string;
  at: number;
  verified: boolean;
}

interface Person {
  name: string;
  verified: boolean;
  ip: string;
}

interface Ban {
  kind: "name" | "ip";
  value: string;
  until: number;
  reason: string;
}

const MESSAGES_SHOWN = 20;
/** Ban lengths offered, in seconds. */
const BAN_LENGTHS = [
  [600, "10 minutes"],
  [3600, "1 hour"],
  [86_400, "1 day"],
  [7 * 86_400, "1 week"],
] as const;

const time = (ms: number) => new Date(ms).toLocaleString();
const words = (text: string) =>
  text
    .split(/[\n,]/)
    .map((word) => word.trim())
    .filter(Boolean);

/**
 * Chat moderation: every room with its activity; for the room chosen, its recent messages with
 * delete, who is here with ban by name or IP, the bans with lift, its blocked words and slow
 * mode; and the blocked words of every room.
 */
export class ChatPage extends LitElement {
  static override styles = consoleStyles;

  private readonly rooms = new PagedList<Room>(this, async (cursor) => {
    const page = await call<{ rooms: Room[]; cursor: string | null }>(`/api/admin/rooms?limit=20${cursor ? `&cursor=${part(cursor)}` : ""}`);
    return { items: page.rooms, cursor: page.cursor };
  });

  @state() private room = "";
  @state() private messages: Message[] = [];
  @state() private people: Person[] = [];
  @state() private bans: Ban[] = [];
  @state() private roomWords = "";
  @state() private allWords = "";
  @state() private slowSeconds = 0;
  @state() private error = "";
  @state() private notice = "";

  override connectedCallback(): void {
    super.connectedCallback();
    void this.rooms.reload();
    void this.loadGlobalWords();
  }

  private async attempt(work: () => Promise<unknown>, done?: string): Promise<void> {
    this.error = "";
    this.notice = "";
    try {
      await work();
      if (done) this.notice = done;
    } catch (error) {
      this.error = problem(error);
    }
  }

  private async loadGlobalWords(): Promise<void> {
    await this.attempt(async () => {
      this.allWords = (await call<{ words: string[] }>("/api/chat/blocked-words")).words.join("\n");
    });
  }

  private async open(room: string): Promise<void> {
    this.room = room;
    await this.refreshRoom();
  }

  private async refreshRoom(): Promise<void> {
    const room = part(this.room);
    await this.attempt(async () => {
      const [messages, people, bans] = await Promise.all([
        call<{ messages: Message[] }>(`/api/rooms/${room}/messages?limit=${MESSAGES_SHOWN}`),
        call<{ people: Person[] }>(`/api/rooms/${room}/people`),
        call<{ bans: Ban[] }>(`/api/rooms/${room}/bans`),
      ]);
      this.messages = messages.messages.slice().reverse();
      this.people = people.people;
      this.bans = bans.bans;
    });
    // Moderation tools of their own: the room still shows when they cannot be read.
    await Promise.all([
      call<{ words: string[] }>(`/api/rooms/${room}/blocked-words`).then(
        (answer) => (this.roomWords = answer.words.join("\n")),
        () => (this.roomWords = ""),
      ),
      call<{ seconds: number }>(`/api/rooms/${room}/slow-mode`).then(
        (answer) => (this.slowSeconds = answer.seconds),
        () => (this.slowSeconds = 0),
      ),
    ]);
  }

  private openNamed(event: SubmitEvent): void {
    event.preventDefault();
    const input = (event.target as HTMLFormElement).elements.namedItem("room") as HTMLInputElement;
    if (input.value.trim()) void this.open(input.value.trim());
  }

  private async deleteMessage(message: Message): Promise<void> {
    if (!confirm(`Delete this message from ${message.name} for everyone?`)) return;
    await this.attempt(async () => {
      await call(`/api/rooms/${part(this.room)}/messages/${message.id}`, { method: "DELETE" });
      this.messages = this.messages.filter((m) => m.id !== message.id);
    }, "Message deleted.");
  }

  private async ban(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const data = new FormData(form);
    const kind = String(data.get("kind"));
    const value = String(data.get("value")).trim();
    const body = { [kind]: value, seconds: Number(data.get("seconds")), reason: String(data.get("reason")).trim() || undefined };
    await this.attempt(async () => {
      await call(`/api/rooms/${part(this.room)}/bans`, { method: "POST", body });
      form.reset();
      await this.refreshRoom();
    }, `Banned ${kind === "ip" ? "address" : "name"} ${value}.`);
  }

  private prefillBan(kind: "name" | "ip", value: string): void {
    const form = this.renderRoot.querySelector<HTMLFormElement>("#ban-form")!;
    (form.elements.namedItem("kind") as HTMLSelectElement).value = kind;
    (form.elements.namedItem("value") as HTMLInputElement).value = value;
    (form.elements.namedItem("reason") as HTMLInputElement).focus();
  }

  private async lift(ban: Ban): Promise<void> {
    await this.attempt(async () => {
      await call(`/api/rooms/${part(this.room)}/bans?${ban.kind}=${part(ban.value)}`, { method: "DELETE" });
      this.bans = this.bans.filter((b) => b !== ban);
    }, `Lifted the ban on ${ban.value}.`);
  }

  private async saveWords(event: SubmitEvent, path: string, field: "roomWords" | "allWords"): Promise<void> {
    event.preventDefault();
    const text = ((event.target as HTMLFormElement).elements.namedItem("words") as HTMLTextAreaElement).value;
    await this.attempt(async () => {
      const answer = await call<{ words: string[] }>(path, { method: "PUT", body: { words: words(text) } });
      this[field] = answer.words.join("\n");
    }, "Blocked words saved.");
  }

  private async saveSlowMode(event: SubmitEvent): Promise<void> {
    event.preventDefault();
    const seconds = Number(((event.target as HTMLFormElement).elements.namedItem("seconds") as HTMLInputElement).value);
    await this.attempt(async () => {
      this.slowSeconds = (await call<{ seconds: number }>(`/api/rooms/${part(this.room)}/slow-mode`, { method: "PUT", body: { seconds } })).seconds;
    }, seconds > 0 ? `Slow mode: one message per ${seconds} s.` : "Slow mode off.");
  }

  override render() {
    return html`
      <h2>Chat</h2>
      ${feedback(this.notice, this.error)}
      <div class="columns">
        <section class="panel" aria-labelledby="rooms-title">
          <h3 id="rooms-title">Rooms</h3>
          <form class="row" @submit=${this.openNamed}>
            <label>Open a room by name <input name="room" maxlength="64" /></label>
            <button type="submit">Open</button>
          </form>
          ${this.renderRooms()}
        </section>
        <section class="panel" aria-labelledby="everywhere-title">
          <h3 id="everywhere-title">Blocked words in every room</h3>
          <form @submit=${(event: SubmitEvent) => this.saveWords(event, "/api/chat/blocked-words", "allWords")}>
            <label>One word or phrase a line <textarea name="words" rows="4" .value=${this.allWords}></textarea></label>
            <div class="row"><button type="submit">Save blocked words</button></div>
          </form>
        </section>
      </div>
      ${this.room ? this.renderRoom() : ""}
    `;
  }

  private renderRooms() {
    const list = this.rooms;
    return html`
      <table>
        <thead>
          <tr><th scope="col">Room</th><th scope="col" class="number">Here now</th><th scope="col" class="number">Messages</th><th scope="col">Last message</th></tr>
        </thead>
        <tbody>
          ${list.items.map(
            (room) => html`<tr class=${room.name === this.room ? "selected" : ""}>
              <td><button type="button" @click=${() => this.open(room.name)} aria-pressed=${room.name === this.room}>${room.name}</button></td>
              <td class="number">${room.members}</td>
              <td class="number">${room.messages}</td>
              <td>${room.lastMessageAt ? new Date(room.lastMessageAt).toLocaleString() : "—"}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${pager(list, "rooms")}
    `;
  }

  private renderRoom() {
    return html`
      <h3>Room <code>${this.room}</code> <button type="button" @click=${this.refreshRoom}>Refresh room</button></h3>
      <div class="columns">
        <section class="panel" aria-labelledby="messages-title">
          <h3 id="messages-title">Recent messages</h3>
          ${this.messages.length === 0 ? html`<p class="muted">No messages.</p>` : ""}
          <ul class="plain" aria-label="Recent messages">
            ${this.messages.map(
              (message) => html`<li data-message=${message.id}>
                <strong>${message.name}${message.verified ? " ✓" : ""}</strong> <span class="muted">${time(message.at)}</span>
                <div>${message.text}</div>
                <button type="button" class="danger" @click=${() => this.deleteMessage(message)} aria-label=${`Delete message ${message.id} from ${message.name}`}>Delete</button>
              </li>`,
            )}
          </ul>
        </section>
        <section class="panel" aria-labelledby="people-title">
          <h3 id="people-title">Here now</h3>
          ${this.people.length === 0 ? html`<p class="muted">Nobody is connected.</p>` : ""}
          <ul class="plain">
            ${this.people.map(
              (person) => html`<li>
                <strong>${person.name}${person.verified ? " ✓" : ""}</strong> <span class="mono muted">${person.ip}</span>
                <div class="row">
                  <button type="button" @click=${() => this.prefillBan("name", person.name)} aria-label=${`Ban the name ${person.name}`}>Ban name…</button>
                  <button type="button" @click=${() => this.prefillBan("ip", person.ip)} aria-label=${`Ban the address of ${person.name}`}>Ban IP…</button>
                </div>
              </li>`,
            )}
          </ul>
          <form id="ban-form" @submit=${this.ban} aria-label="Ban">
            <div class="row">
              <label>Ban by <select name="kind"><option value="name">Name</option><option value="ip">IP address</option></select></label>
              <label>Name or address <input name="value" required maxlength="64" /></label>
            </div>
            <div class="row">
              <label>For <select name="seconds">${BAN_LENGTHS.map(([seconds, text]) => html`<option value=${seconds}>${text}</option>`)}</select></label>
              <label>Reason <input name="reason" maxlength="200" /></label>
              <button type="submit" class="primary">Ban</button>
            </div>
          </form>
        </section>
        <section class="panel" aria-labelledby="bans-title">
          <h3 id="bans-title">Bans</h3>
          ${this.bans.length === 0 ? html`<p class="muted">No bans in force.</p>` : ""}
          <ul class="plain">
            ${this.bans.map(
              (ban) => html`<li data-ban=${ban.value}>
                ${ban.kind === "ip" ? "Address" : "Name"} <strong class="mono">${ban.value}</strong> until ${time(ban.until)}${ban.reason ? html` — ${ban.reason}` : ""}
                <button type="button" @click=${() => this.lift(ban)} aria-label=${`Lift the ban on ${ban.value}`}>Lift</button>
              </li>`,
            )}
          </ul>
        </section>
        <section class="panel" aria-labelledby="tools-title">
          <h3 id="tools-title">Blocked words and slow mode</h3>
          <form @submit=${(event: SubmitEvent) => this.saveWords(event, `/api/rooms/${part(this.room)}/blocked-words`, "roomWords")}>
            <label>Blocked in this room, one a line <textarea name="words" rows="4" .value=${this.roomWords}></textarea></label>
            <div class="row"><button type="submit">Save room's blocked words</button></div>
          </form>
          <form class="row" @submit=${this.saveSlowMode}>
            <label>Slow mode: seconds between a member's messages (0: off) <input name="seconds" type="number" min="0" max="3600" .value=${String(this.slowSeconds)} /></label>
            <button type="submit">Save slow mode</button>
          </form>
        </section>
      </div>
    `;
  }
}

customElements.define("chat-page", ChatPage);
