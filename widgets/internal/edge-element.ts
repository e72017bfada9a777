import { LitElement, type CSSResultGroup, type PropertyValues } from "lit";
import { property } from "lit/decorators.js";
import { resolveEndpoint } from "./endpoint.ts";
import { emit } from "./events.ts";
import { ReconnectingSocket, type CloseInfo, type ConnectionState, type SocketOptions } from "./reconnecting-socket.ts";
import { theme } from "./theme.ts";

declare global {
  interface GlobalEventHandlersEventMap {
    /** A live widget's connection changed; `close` says why it closed for good. */
    "edge-connection": CustomEvent<{ state: ConnectionState; close?: CloseInfo }>;
  }
}

/**
 * The base of every widget: the `endpoint` attribute, the `connection` attribute of widgets
 * that hold a live connection, and the widget's work tied to the element's life on the page.
 *
 * A widget implements `start()` (open its socket, load its data) and `stop()` (release all
 * of it), and lists in `restartOn` the properties that change what it shows. The base starts
 * it on the first update, restarts it when `endpoint` or one of those changes, stops it when
 * the element leaves the page and starts it again when the element comes back.
 */
export class EdgeElement extends LitElement {
  static override styles: CSSResultGroup = [theme];

  /** Properties whose change restarts the widget; `endpoint` always does. */
  protected static readonly restartOn: readonly PropertyKey[] = [];

  /** The backend origin; defaults to the origin the widget script was loaded from. */
  @property({ reflect: false }) endpoint: string | null = null;

  /** Opens the widget's connection or loads its data; called again to restart it. */
  protected start(): void {}

  /** Releases everything `start()` took: sockets, timers, listeners, requests. */
  protected stop(): void {}

  override connectedCallback(): void {
    super.connectedCallback();
    // The first start happens in willUpdate; this is a move back into the page.
    if (this.hasUpdated) this.start();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  protected override willUpdate(changed: PropertyValues): void {
    const restartOn = (this.constructor as typeof EdgeElement).restartOn;
    if (!this.hasUpdated || changed.has("endpoint") || restartOn.some((key) => changed.has(key))) this.start();
  }

  /** Resolves `endpoint`; a bad value throws a TypeError the widget shows to the user. */
  protected get endpointUrl(): URL {
    return resolveEndpoint(this.endpoint);
  }

  /** Reflects a live connection's state as the `connection` attribute and announces changes. */
  protected setConnection(state: ConnectionState, close?: CloseInfo): void {
    if (this.getAttribute("connection") === state && !close) return;
    this.setAttribute("connection", state);
    emit(this, "edge-connection", close ? { state, close } : { state });
  }

  /** A socket whose state is mirrored on the host. Start it in `connectedCallback`-time code. */
  protected createSocket<ServerFrame extends { type: string }, ClientFrame extends object>(
    options: Omit<SocketOptions<ServerFrame, ClientFrame>, "onState"> & Pick<Partial<SocketOptions<ServerFrame, ClientFrame>>, "onState">,
  ): ReconnectingSocket<ServerFrame, ClientFrame> {
    return new ReconnectingSocket({
      ...options,
      onState: (state, close) => {
        this.setConnection(state, close);
        options.onState?.(state, close);
      },
    });
  }
}

/** Defines a widget unless the page already has it, so two script tags do no harm. */
export function define(tag: string, element: CustomElementConstructor): void {
  if (!customElements.get(tag)) customElements.define(tag, element);
}
