import { html, nothing, type CSSResultGroup, type PropertyValues, type TemplateResult } from "lit";
import { property, state } from "lit/decorators.js";
import { repeat } from "lit/directives/repeat.js";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { apiUrl, isStreamPath } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { Localizer, stringsAttribute } from "../internal/localize.ts";
import { theme } from "../internal/theme.ts";
import { fillTemplate, httpUrl, text } from "./item-template.ts";
import { StreamReader, type LiveMode } from "./stream-reader.ts";
import { styles } from "./stream-feed.styles.ts";

/** Every piece of text the widget shows; set `strings` to change any of them. */
export interface FeedStrings {
  itemsLabel: string;
  badStream: string;
  badEndpoint: (reason: string) => string;
  private: (reason: string) => string;
  ended: string;
  paused: string;
  waiting: string;
  empty: string;
}

export const FEED_STRINGS: FeedStrings = {
  itemsLabel: "Feed",
  badStream: "This feed needs a stream path: 1–8 names of 1–64 letters, digits, dots, dashes or underscores (not dots alone), joined by /.",
  badEndpoint: (reason) => `Bad endpoint: ${reason}`,
  private: (reason) => `This feed is private: ${reason}`,
  ended: "This feed has ended.",
  paused: "Paused while the page is hidden.",
  waiting: "Waiting for this stream to be created…",
  empty: "No items yet.",
};

/** What is wrong, in the language shown when it renders. */
type Problem = (text: FeedStrings) => string;

declare global {
  interface HTMLElementTagNameMap {
    "stream-feed": StreamFeed;
  }
  interface GlobalEventHandlersEventMap {
    /** New items arrived (oldest first), with the stream offset just after them. */
    "edge-items": CustomEvent<{ stream: string; items: unknown[]; offset: string }>;
    /** The stream was closed by its writer: no more items will come. */
    "edge-stream-closed": CustomEvent<{ stream: string; offset: string }>;
  }
}

interface Item {
  /** Position in arrival order: stable keys for rendering. */
  id: number;
  value: unknown;
}

/** What survives a reload (sessionStorage): the items shown and the offset after them. */
interface Saved {
  offset: string;
  items: unknown[];
  closed: boolean;
}

const DEFAULT_LIMIT = 50;

/**
 * A live feed of a Durable Streams stream of JSON items: it catches up, then follows live
 * (SSE, else long-poll), keeps the newest `limit` items and resumes after a reload from the
 * last offset it showed. It pauses while the page is hidden and catches up on return.
 *
 * Items render from a `<template>` child when there is one: an element with
 * `data-field="path"` gets the item's value at that (dotted) path as text, and
 * `data-field-href="path"` (an attribute after `data-field-`) sets that attribute. Only
 * attributes on an allowlist are filled (see `item-template.ts`), URL attributes only with
 * http(s) URLs; event handlers and `style` never. Without a template, items with `title`,
 * `text`, `time` and `url` get a sensible default. Everything is rendered as text.
 *
 * @tag stream-feed
 * @attr stream - The stream's name.
 * @attr limit - How many items to keep (default 50).
 * @attr order - `newest-first` (default) or `oldest-first`.
 * @attr token - A read token, for streams not created public.
 * @attr live - `auto` (SSE, falling back to long-poll; default), `sse` or `long-poll`.
 * @attr connection - Reflected: connecting | open | reconnecting | closed.
 * @attr lang - The language of its text (default: the closest `lang` around it, else English).
 * @attr strings - JSON object overriding UI text, e.g. `{"empty":"Noch nichts da."}` (also a property).
 * @csspart items - The list of items.
 * @csspart item - One item.
 * @csspart title - An item's title (default rendering).
 * @csspart text - An item's text (default rendering).
 * @csspart time - An item's time (default rendering).
 * @csspart link - An item's link (default rendering).
 * @csspart status - Empty, closed, paused and error notes.
 * @cssprop --stream-feed-max-height - Scroll the list past this height (default none).
 * @cssprop --stream-feed-item-padding - Padding of each item.
 * @cssprop --stream-feed-item-border - Separator between items.
 * @fires edge-items - New items arrived.
 * @fires edge-stream-closed - The stream was closed.
 * @fires edge-connection - The connection state changed.
 */
export class StreamFeed extends EdgeElement {
  static override styles: CSSResultGroup = [theme, styles];

  /** The stream's name: 1–64 of `A-Z a-z 0-9 . _ -`. */
  @property({ reflect: true }) stream = "";
  /** How many items to keep. */
  @property({ type: Number }) limit = DEFAULT_LIMIT;
  /** `newest-first` or `oldest-first`. */
  @property({ reflect: true }) order: "newest-first" | "oldest-first" = "newest-first";
  /** A read token for a private stream. */
  @property() token: string | null = null;
  /** How to follow the stream live. */
  @property() live: LiveMode = "auto";
  /** Overrides of the UI text. As an attribute, a JSON object of the plain-text entries. */
  @property({ converter: stringsAttribute(FEED_STRINGS) }) strings: Partial<FeedStrings> = {};

  @state() private items: Item[] = [];
  @state() private closed = false;
  @state() private paused = false;
  @state() private problem: Problem | undefined;
  /** The stream does not exist yet; the reader keeps checking. */
  @state() private waiting = false;
  @state() private connectionState = "";

  private reader: StreamReader | undefined;
  private nextId = 0;
  private offset = "-1";
  private readonly rendered = new WeakMap<Item, Node>();
  private readonly l10n = new Localizer(this, FEED_STRINGS, import.meta.glob("./translations/*.ts"));

  private readonly onVisibility = () => {
    if (document.visibilityState === "hidden") this.pause();
    else this.resume();
  };
  private readonly onOnline = () => this.reader?.retryNow();

  protected static override readonly restartOn = ["stream", "token", "live"];

  protected override start(): void {
    // Adding the same listener again is a no-op, so a restart does not double them.
    document.addEventListener("visibilitychange", this.onVisibility);
    window.addEventListener("online", this.onOnline);
    this.open();
  }

  protected override stop(): void {
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.removeEventListener("online", this.onOnline);
    this.stopReader();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    super.willUpdate(changed);
    if (changed.has("limit")) this.trim();
  }

  private get storageKey(): string {
    let endpoint = "";
    try {
      endpoint = this.endpointUrl.href;
    } catch {
      // Reported by open().
    }
    return `stream-feed:${endpoint}:${this.stream}`;
  }

  private get max(): number {
    return Number.isInteger(this.limit) && this.limit > 0 ? this.limit : DEFAULT_LIMIT;
  }

  /** (Re)starts from what this tab showed last, or from the stream's beginning. */
  private open(): void {
    this.stopReader();
    this.problem = undefined;
    this.paused = false;
    this.closed = false;
    this.items = [];
    this.offset = "-1";
    if (!isStreamPath(this.stream)) {
      this.problem = (t) => t.badStream;
      this.setConnection("closed");
      return;
    }
    try {
      this.endpointUrl;
    } catch (error) {
      const reason = (error as Error).message;
      this.problem = (t) => t.badEndpoint(reason);
      this.setConnection("closed");
      return;
    }
    const saved = this.load();
    if (saved) {
      this.offset = saved.offset;
      this.items = saved.items.slice(-this.max).map((value) => ({ id: this.nextId++, value }));
      this.closed = saved.closed;
    }
    if (this.closed) {
      this.setConnection("closed");
      return;
    }
    if (document.visibilityState === "hidden") {
      this.pause();
      return;
    }
    this.startReader();
  }

  private startReader(): void {
    this.reader = new StreamReader({
      url: apiUrl(this.endpointUrl, `/v1/stream/${this.stream}`),
      token: this.token ?? undefined,
      offset: this.offset,
      live: this.live === "sse" || this.live === "long-poll" ? this.live : "auto",
      onState: (state) => {
        if (state === "open") this.waiting = false;
        this.setConnection(state);
      },
      onWaiting: () => {
        this.waiting = true;
      },
      onItems: (values, offset) => this.add(values, offset),
      onClosed: (offset) => {
        this.closed = true;
        this.offset = offset;
        this.save();
        emit(this, "edge-stream-closed", { stream: this.stream, offset });
      },
      onFailure: (status, message) => {
        this.problem = status === 401 || status === 403 ? (t) => t.private(message) : () => message;
      },
    });
    this.reader.start();
  }

  private stopReader(): void {
    this.reader?.stop();
    this.reader = undefined;
  }

  protected override setConnection(...args: Parameters<EdgeElement["setConnection"]>): void {
    super.setConnection(...args);
    this.connectionState = args[0];
  }

  private pause(): void {
    if (this.closed || this.problem || this.paused) return;
    this.stopReader();
    this.paused = true;
    this.setConnection("closed");
  }

  private resume(): void {
    if (!this.paused || !this.isConnected) return;
    this.paused = false;
    this.startReader();
  }

  private add(values: unknown[], offset: string): void {
    this.offset = offset;
    if (values.length > 0) {
      this.items = [...this.items, ...values.map((value) => ({ id: this.nextId++, value }))].slice(-this.max);
      emit(this, "edge-items", { stream: this.stream, items: values, offset });
    }
    this.save();
  }

  private trim(): void {
    if (this.items.length > this.max) this.items = this.items.slice(-this.max);
  }

  private load(): Saved | undefined {
    try {
      const raw = sessionStorage.getItem(this.storageKey);
      if (!raw) return undefined;
      const saved = JSON.parse(raw) as Saved;
      if (typeof saved.offset !== "string" || !Array.isArray(saved.items)) return undefined;
      return saved;
    } catch {
      return undefined;
    }
  }

  private save(): void {
    const saved: Saved = { offset: this.offset, items: this.items.map((item) => item.value), closed: this.closed };
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify(saved));
    } catch {
      // Storage full or blocked: the feed still works, it just starts over after a reload.
    }
  }

  /** Clears what this tab remembers of the stream and reads it again from the start. */
  reload(): void {
    try {
      sessionStorage.removeItem(this.storageKey);
    } catch {
      // Nothing to clear.
    }
    this.open();
  }

  protected override render() {
    const ordered = this.order === "oldest-first" ? this.items : [...this.items].reverse();
    const t = this.l10n.text;
    const note = this.problem
      ? this.problem(t)
      : this.closed
        ? t.ended
        : this.paused
          ? t.paused
          : this.waiting
            ? t.waiting
          : this.items.length === 0 && this.connectionState === "open"
            ? t.empty
            : "";
    return html`
      <ol part="items" aria-label=${t.itemsLabel} aria-live="polite" aria-relevant="additions" aria-busy=${this.connectionState === "connecting"}>
        ${repeat(
          ordered,
          (item) => item.id,
          (item) => html`<li part="item">${this.renderItem(item)}</li>`,
        )}
      </ol>
      <p part="status" role="status" class=${this.problem ? "problem" : nothing}>${note}</p>
    `;
  }

  private renderItem(item: Item): Node | TemplateResult {
    const template = this.querySelector(":scope > template");
    if (!(template instanceof HTMLTemplateElement)) return this.defaultItem(item.value);
    let node = this.rendered.get(item);
    if (!node) {
      node = fillTemplate(template, item.value);
      this.rendered.set(item, node);
    }
    return node;
  }

  private defaultItem(value: unknown): TemplateResult {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return html`<p part="text">${typeof value === "string" ? value : JSON.stringify(value)}</p>`;
    }
    const record = value as Record<string, unknown>;
    const title = text(record.title);
    const body = text(record.text);
    const time = parseTime(record.time);
    const url = httpUrl(record.url);
    if (title === undefined && body === undefined && time === undefined && url === undefined) {
      return html`<p part="text">${JSON.stringify(value)}</p>`;
    }
    const heading = title ?? url;
    return html`
      ${heading !== undefined
        ? html`<strong part="title" dir="auto"
            >${url ? html`<a part="link" href=${url} rel="noopener noreferrer" target="_blank">${heading}</a>` : heading}</strong
          >`
        : nothing}
      ${body !== undefined ? html`<p part="text" dir="auto">${body}</p>` : nothing}
      ${time ? html`<time part="time" datetime=${time.toISOString()}>${this.l10n.dateTime(time, { dateStyle: "medium", timeStyle: "short" })}</time>` : nothing}
    `;
  }
}

function parseTime(value: unknown): Date | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

define("stream-feed", StreamFeed);
