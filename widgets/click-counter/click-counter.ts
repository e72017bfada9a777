import { html, nothing, type CSSResultGroup } from "lit";
import { property, state } from "lit/decorators.js";
import type { CounterClientFrame, CounterServerFrame } from "../../contract/counter.ts";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { Localizer, stringsAttribute } from "../internal/localize.ts";
import { NAME_PATTERN, socketUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { theme } from "../internal/theme.ts";
import { unhandledFrame, type ReconnectingSocket } from "../internal/reconnecting-socket.ts";
import { styles } from "./click-counter.styles.ts";

/** Every piece of text the widget shows; set `strings` to change any of them. */
export interface CounterStrings {
  add: string;
  offline: string;
  badName: string;
  badEndpoint: (reason: string) => string;
  unavailable: (reason: string) => string;
  busy: (reason: string) => string;
  closed: (code: number) => string;
  tryLater: string;
  tooMany: (seconds: number) => string;
  /** With `show-viewers`: shown, and said (which says it is approximate); `count` is formatted. */
  watching: (count: string) => string;
  watchingSpoken: (count: string) => string;
}

export const COUNTER_STRINGS: CounterStrings = {
  add: "+1",
  offline: "Offline: too many clicks waiting to be sent.",
  badName: "This counter needs a name of 1–64 letters, digits, dots, dashes or underscores, not dots alone.",
  badEndpoint: (reason) => `Bad endpoint: ${reason}`,
  unavailable: (reason) => `Counter unavailable: ${reason}`,
  busy: (reason) => `Counter busy: ${reason}`,
  closed: (code) => `closed (${code})`,
  tryLater: "try again later",
  tooMany: (count) => `Too many clicks. Try again in ${count} s.`,
  watching: (count) => `≈ ${count} watching`,
  watchingSpoken: (count) => `about ${count} watching (approximate)`,
};

type Problem = (text: CounterStrings) => string;

declare global {
  interface HTMLElementTagNameMap {
    "click-counter": ClickCounter;
  }
  interface GlobalEventHandlersEventMap {
    /** The shared count changed (a click from anyone, or the first value on connect). */
    "edge-count": CustomEvent<{ name: string; count: number; viewers?: number }>;
    /** A click was refused; `retryAfterMs` says when clicking works again. */
    "edge-refused": CustomEvent<{ code: string; message: string; retryAfterMs?: number }>;
  }
}

/**
 * A shared counter: every viewer of the same `name` sees every click live, and the count
 * survives restarts of the backend.
 *
 * @tag click-counter
 * @attr lang - The language of its text (default: the closest `lang` around it, else English).
 * @attr strings - JSON object overriding UI text, e.g. `{"add":"Gefällt mir"}` (also a property).
 * @slot - The button's label (default "+1").
 * @csspart count - The current count (an `<output>` announced politely).
 * @csspart button - The button that adds one.
 * @csspart status - Why a click was refused or the counter is unavailable.
 * @csspart viewers - About how many are watching, with `show-viewers`.
 * @cssprop --click-counter-button-background - Button background (default: accent colour).
 * @cssprop --click-counter-button-color - Button text colour.
 * @cssprop --click-counter-count-size - Font size of the count.
 * @cssprop --click-counter-padding - Padding around count and button.
 * @fires edge-count - The count changed.
 * @fires edge-refused - A click was refused (rate limit).
 * @fires edge-connection - The connection state changed.
 */
export class ClickCounter extends EdgeElement {
  static override styles: CSSResultGroup = [theme, styles];

  /** The counter's name: 1–64 of `A-Z a-z 0-9 . _ -`, not dots alone. */
  @property({ reflect: true }) name = "";
  /** Overrides of the UI text. As an attribute, a JSON object of the plain-text entries. */
  @property({ converter: stringsAttribute(COUNTER_STRINGS) }) strings: Partial<CounterStrings> = {};

  /**
   * Shows about how many people are watching this counter. Approximate: the backend adds up
   * figures its objects report about once a second, and a visitor with two tabs counts twice.
   */
  @property({ type: Boolean, attribute: "show-viewers", reflect: true }) showViewers = false;

  @state() private count: number | undefined;
  @state() private viewers: number | undefined;
  /** What is wrong, in the language shown when it renders. */
  @state() private problem: Problem | undefined;
  @state() private coolingDown = false;

  private socket: ReconnectingSocket<CounterServerFrame, CounterClientFrame> | undefined;
  private cooldownTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly l10n = new Localizer(this, COUNTER_STRINGS, import.meta.glob("./translations/*.ts"));

  protected static override readonly restartOn = ["name", "showViewers"];

  /** Adds one to the shared count, as the button does. */
  increment(): void {
    if (!this.socket || this.coolingDown) return;
    if (!this.socket.send({ type: "click" })) this.problem = (t) => t.offline;
  }

  protected override start(): void {
    this.stop();
    this.count = undefined;
    this.viewers = undefined;
    this.problem = undefined;
    if (!NAME_PATTERN.test(this.name)) {
      this.problem = (t) => t.badName;
      this.setConnection("closed");
      return;
    }
    let url: URL;
    try {
      url = socketUrl(this.endpointUrl, `/api/counters/${this.name}/ws`, this.showViewers ? { viewers: 1 } : undefined);
    } catch (error) {
      const reason = (error as Error).message;
      this.problem = (t) => t.badEndpoint(reason);
      this.setConnection("closed");
      return;
    }
    this.socket = this.createSocket<CounterServerFrame, CounterClientFrame>({
      url: () => url,
      onFrame: (frame) => this.onFrame(frame),
      onState: (state, close) => {
        if (state === "closed" && close) this.problem = (t) => t.unavailable(close.reason || t.closed(close.code));
        if (state === "reconnecting" && close) this.problem = (t) => t.busy(close.reason || t.tryLater);
      },
    });
    this.socket.start();
  }

  protected override stop(): void {
    this.socket?.stop();
    this.socket = undefined;
    clearTimeout(this.cooldownTimer);
    this.coolingDown = false;
  }

  private onFrame(frame: CounterServerFrame): void {
    switch (frame.type) {
      case "ready":
      case "count":
        if (frame.viewers !== undefined) this.viewers = frame.viewers;
        if (frame.count !== this.count) {
          this.count = frame.count;
          emit(this, "edge-count", { name: this.name, count: frame.count, viewers: this.viewers });
        }
        if (frame.type === "ready") this.problem = undefined;
        break;
      case "error": {
        const { code, message, retryAfterMs } = frame;
        emit(this, "edge-refused", { code, message, retryAfterMs });
        if (retryAfterMs !== undefined) this.coolDown(retryAfterMs);
        else this.problem = () => message;
        break;
      }
      default:
        unhandledFrame(frame);
    }
  }

  private coolDown(ms: number): void {
    this.coolingDown = true;
    const wait = Math.max(1, Math.ceil(ms / 1000));
    this.problem = (t) => t.tooMany(wait);
    clearTimeout(this.cooldownTimer);
    this.cooldownTimer = setTimeout(() => {
      this.coolingDown = false;
      this.problem = undefined;
    }, ms);
  }

  protected override render() {
    const count = this.count === undefined ? "–" : this.l10n.number(this.count);
    return html`
      <div class="counter">
        <output part="count" aria-live="polite" aria-atomic="true" aria-busy=${this.count === undefined}>${count}</output>
        <button
          part="button"
          type="button"
          ?disabled=${this.coolingDown || this.socket === undefined}
          @click=${() => this.increment()}
        >
          <slot>${this.l10n.text.add}</slot>
        </button>
      </div>
      ${this.showViewers && this.viewers !== undefined
        ? html`<span part="viewers"
            ><span aria-hidden="true">${this.l10n.text.watching(this.l10n.number(this.viewers))}</span
            ><span class="visually-hidden">${this.l10n.text.watchingSpoken(this.l10n.number(this.viewers))}</span></span
          >`
        : nothing}
      <span part="status" role="status">${this.problem?.(this.l10n.text) ?? ""}</span>
    `;
  }
}

define("click-counter", ClickCounter);
