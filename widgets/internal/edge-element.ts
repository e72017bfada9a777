import { LitElement, type CSSResultGroup } from "lit";
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
 * that hold a live connection, and a socket tied to the element's life on the page.
 */
export class EdgeElement extends LitElement {
  static override styles: CSSResultGroup = [theme];

  /** The backend origin; defaults to the origin the widget script was loaded from. */
  @property({ reflect: false }) endpoint: string | null = null;

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
  protected createSocket(options: Omit<SocketOptions, "onState"> & Pick<Partial<SocketOptions>, "onState">): ReconnectingSocket {
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
