import { html, nothing, type CSSResultGroup } from "lit";
import { property, state } from "lit/decorators.js";
import type { CounterClientFrame, CounterServerFrame } from "../../contract/counter.ts";
import { EdgeElement, define } from "../internal/edge-element.ts";
import { NAME_PATTERN, socketUrl } from "../internal/endpoint.ts";
import { emit } from "../internal/events.ts";
import { theme } from "../internal/theme.ts";
import { unhandledFrame, type ReconnectingSocket } from "../internal/reconnecting-socket.ts";
import { styles } from "./click-counter.styles.ts";

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

  /**
   * Shows about how many people are watching this counter. Approximate: the backend adds up
   * figures its objects report about once a second, and a visitor with two tabs counts twice.
   */
  @property({ type: Boolean, attribute: "show-viewers", reflect: true }) showViewers = false;

  @state() private count: number | undefined;
  @state() private viewers: number | undefined;
  @state() private problem = "";
  @state() private coolingDown = false;

  private socket: ReconnectingSocket<CounterServerFrame, CounterClientFrame> | undefined;
  private cooldownTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly format = new Intl.NumberFormat();

  protected static override readonly restartOn = ["name", "showViewers"];

  /** Adds one to the shared count, as the button does. */
  increment(): void {
    if (!this.socket || this.coolingDown) return;
    if (!this.socket.send({ type: "click" })) this.problem = "Offline: too many clicks waiting to be sent.";
  }

  protected override start(): void {
    this.stop();
    this.count = undefined;
    this.viewers = undefined;
    this.problem = "";
    if (!NAME_PATTERN.test(this.name)) {
      this.problem = "This counter needs a name of 1–64 letters, digits, dots, dashes or underscores, not dots alone.";
      this.setConnection("closed");
      return;
    }
    let url: URL;
    try {
      url = socketUrl(this.endpointUrl, `/api/counters/${this.name}/ws`, this.showViewers ? { viewers: 1 } : undefined);
    } catch (error) {
      this.problem = `Bad endpoint: ${(error as Error).message}`;
      this.setConnection("closed");
      return;
    }
    this.socket = this.createSocket<CounterServerFrame, CounterClientFrame>({
      url: () => url,
      onFrame: (frame) => this.onFrame(frame),
      onState: (state, close) => {
        if (state === "closed" && close) this.problem = `Counter unavailable: ${close.reason || `closed (${close.code})`}`;
        if (state === "reconnecting" && close) this.problem = `Counter busy: ${close.reason || "try again later"}`;
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
        if (frame.type === "ready") this.problem = "";
        break;
      case "error": {
        const { code, message, retryAfterMs } = frame;
        emit(this, "edge-refused", { code, message, retryAfterMs });
        if (retryAfterMs !== undefined) this.coolDown(retryAfterMs);
        else this.problem = message;
        break;
      }
      default:
        unhandledFrame(frame);
    }
  }

  private coolDown(ms: number): void {
    this.coolingDown = true;
    this.problem = `Too many clicks. Try again in ${Math.max(1, Math.ceil(ms / 1000))} s.`;
    clearTimeout(this.cooldownTimer);
    this.cooldownTimer = setTimeout(() => {
      this.coolingDown = false;
      this.problem = "";
    }, ms);
  }

  protected override render() {
    const count = this.count === undefined ? "–" : this.format.format(this.count);
    return html`
      <div class="counter">
        <output part="count" aria-live="polite" aria-atomic="true" aria-busy=${this.count === undefined}>${count}</output>
        <button
          part="button"
          type="button"
          ?disabled=${this.coolingDown || this.socket === undefined}
          @click=${() => this.increment()}
        >
          <slot>+1</slot>
        </button>
      </div>
      ${this.showViewers && this.viewers !== undefined
        ? html`<span part="viewers"
            ><span aria-hidden="true">≈ ${this.format.format(this.viewers)} watching</span
            ><span class="visually-hidden">about ${this.format.format(this.viewers)} watching (approximate)</span></span
          >`
        : nothing}
      <span part="status" role="status">${this.problem}</span>
    `;
  }
}

define("click-counter", ClickCounter);
