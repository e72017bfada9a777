import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { TOO_DEEP, readJsonText } from "../http/json-depth.ts";
import { describeIssue } from "../http/validate.ts";
import { CloseCode } from "./close-codes.ts";
import { closedSocket } from "./upgrade.ts";

/** Heartbeat frames, answered by the runtime itself so that a hibernated object stays asleep. */
export const PING = "ping";
export const PONG = "pong";

/** What every error frame looks like. */
export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  retryAfterMs?: number;
  /** The client's id of the message that was refused, when there was one. */
  ref?: string;
}

/** Thrown from `attach` to turn a socket away: it is accepted and closed at once with this code and reason. */
export class SocketRefusal extends Error {
  constructor(
    readonly closeCode: number,
    reason: string,
  ) {
    super(reason);
  }
}

/** Thrown from a message handler to answer the sender with an error frame. */
export class FrameError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Partial<Pick<ErrorFrame, "retryAfterMs" | "ref">> = {},
  ) {
    super(message);
  }
}

/**
 * The WebSocket plumbing every live Durable Object shares: it accepts sockets with the
 * hibernation API, keeps a small attachment per socket that survives hibernation, checks every
 * frame's size, encoding and schema, and broadcasts. A subclass only says what happens on
 * connect, on a valid message and on close.
 */
export abstract class SocketRoom<E, Attachment, Message> extends DurableObject<E> {
  /** Largest text frame accepted, in bytes; larger frames close the socket with 1009. */
  protected abstract readonly maxFrameBytes: number;
  /** One schema for every client message; invalid ones are answered with an error frame. */
  protected abstract readonly messages: z.ZodType<Message>;

  /** Builds the attachment for a new socket, or throws a SocketRefusal to turn it away. */
  protected abstract attach(request: Request): Attachment | Promise<Attachment>;
  /** Runs after the socket is accepted: send the initial state, then `{"type":"ready"}`. */
  protected abstract onOpen(ws: WebSocket, attachment: Attachment): void | Promise<void>;
  protected abstract onMessage(ws: WebSocket, message: Message, attachment: Attachment): void | Promise<void>;
  protected onClose(_ws: WebSocket, _attachment: Attachment): void | Promise<void> {}

  constructor(ctx: DurableObjectState, env: E) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return Response.json(
        { error: { code: "upgrade_required", message: "This path speaks WebSocket only." } },
        { status: 426 },
      );
    }
    let attachment: Attachment;
    try {
      attachment = await this.attach(request);
    } catch (error) {
      // A refused handshake looks like a network error to a browser, which would retry it
      // forever; a socket closed with a final code says why and stops the retries.
      if (error instanceof SocketRefusal) return closedSocket(error.closeCode, error.message);
      throw error;
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, this.tags(attachment));
    server.serializeAttachment(attachment);
    await this.onOpen(server, attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Tags for `getWebSockets(tag)`; none by default. */
  protected tags(_attachment: Attachment): string[] {
    return [];
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    if (typeof data !== "string") {
      ws.close(CloseCode.unsupportedData, "send JSON text frames");
      return;
    }
    if (exceedsBytes(data, this.maxFrameBytes)) {
      ws.close(CloseCode.tooBig, `frames are limited to ${this.maxFrameBytes} bytes`);
      return;
    }
    const reading = readJsonText(data);
    if (!reading.ok) {
      const message = reading.problem === "too_deep" ? `The frame nests too deep: ${TOO_DEEP}` : "Frames must be JSON.";
      this.send(ws, { type: "error", code: reading.problem === "too_deep" ? "too_deep" : "bad_frame", message });
      return;
    }
    const json = reading.value;
    const parsed = this.messages.safeParse(json);
    if (!parsed.success) {
      const ref = typeof json === "object" && json !== null && "id" in json && typeof json.id === "string" ? json.id : undefined;
      this.send(ws, { type: "error", code: "invalid_message", message: describeIssue(parsed.error), ref });
      return;
    }
    try {
      await this.onMessage(ws, parsed.data, ws.deserializeAttachment() as Attachment);
    } catch (error) {
      if (error instanceof FrameError) {
        this.send(ws, { type: "error", code: error.code, message: error.message, ...error.extra });
      } else {
        console.error("message handler failed", error);
        this.send(ws, { type: "error", code: "internal", message: "That message could not be handled." });
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // 1005 and 1006 are reserved and may not be sent back.
      ws.close(code === 1005 || code === 1006 ? CloseCode.normal : code, reason);
    } catch {
      // Already closed by the runtime's automatic reply.
    }
    await this.onClose(ws, ws.deserializeAttachment() as Attachment);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.onClose(ws, ws.deserializeAttachment() as Attachment);
  }

  protected send(ws: WebSocket, message: object): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed under us; its close handler cleans up.
    }
  }

  /** Sends one message to every open socket but `except`, serialising it once. */
  protected broadcast(message: object, except?: WebSocket): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN) continue;
      try {
        ws.send(text);
      } catch {
        // Closed between the check and the send.
      }
    }
  }
}

function exceedsBytes(text: string, max: number): boolean {
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so most frames are decided without encoding them.
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).byteLength > max;
}
