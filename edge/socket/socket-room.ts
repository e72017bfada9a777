import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import * as CloseCode from "../../contract/close-codes.ts";
import { PING, PONG, type ErrorFrame } from "../../contract/socket.ts";
import type { Env } from "../env.ts";
import { forwardedIp } from "../http/client-ip.ts";
import { TOO_DEEP, readJsonText } from "../http/json-depth.ts";
import { describeIssue } from "../http/validate.ts";
import type { SocketAdmission, SocketRoute } from "../rate-limiter/rate-limiter.ts";
import { ratePolicy, type RateAction } from "../rate-limiter/policies.ts";
import { Refusal, errorResponse, isFrameRefusal } from "../http/refusal.ts";
import { wholeNumber } from "../settings.ts";
import { Figures } from "../admin/metrics.ts";
import { closedSocket } from "./upgrade.ts";

/**
 * Concurrent sockets one IP may hold on one socket route (every counter together, every chat
 * room together). Generous by default: one office, school or mobile carrier NAT puts many people
 * behind one address, each page may hold a socket per widget and tab; a script holding thousands
 * is what it stops.
 */
const SOCKETS_PER_IP = wholeNumber("SOCKETS_PER_IP", 100);

/** Tag of the socket holding a slot, so the slot's limiter can ask whether it still lives. */
const SLOT_TAG = "slot:";

/**
 * The WebSocket plumbing every live Durable Object shares: it accepts sockets with the
 * hibernation API, keeps a small attachment per socket that survives hibernation, checks every
 * frame's size, encoding and schema, and broadcasts. A subclass only says what happens on
 * connect, on a valid message and on close. `In` and `Out` are the socket's client and server
 * frames from `contract/`: what a room sends is checked against them.
 */
export abstract class SocketRoom<E extends Env, Attachment extends { ip: string }, In, Out extends { type: string }> extends DurableObject<E> {
  /** Which per-IP socket budget this object's sockets spend. */
  protected abstract readonly route: SocketRoute;
  /** The per-IP rate limit each new socket spends, if the route has one; asked in the same call as the slot. */
  protected readonly joins?: RateAction;
  /** Largest text frame accepted, in bytes; larger frames close the socket with 1009. */
  protected abstract readonly maxFrameBytes: number;
  /** One schema for every client message; invalid ones are answered with an error frame. */
  protected abstract readonly messages: z.ZodType<In>;

  /**
   * Builds the attachment for a new socket, or throws a Refusal to turn it away: the socket is
   * accepted and closed at once with the code's close code and the message as the reason.
   */
  protected abstract attach(request: Request): Attachment | Promise<Attachment>;
  /** Runs after the socket is accepted: send the initial state, then `{"type":"ready"}`. */
  protected abstract onOpen(ws: WebSocket, attachment: Attachment): void | Promise<void>;
  /** Handles a valid message; a Refusal it throws answers the sender with an error frame. */
  protected abstract onMessage(ws: WebSocket, message: In, attachment: Attachment): void | Promise<void>;
  protected onClose(_ws: WebSocket, _attachment: Attachment): void | Promise<void> {}

  /** This object's figures: its open sockets, and whatever the room counts. */
  protected readonly figures = new Figures(this.env, () => this.ctx.id.toString(), () => ({
    [this.route === "counter" ? "sockets:counters" : "sockets:rooms"]: this.ctx.getWebSockets().filter((ws) => ws.readyState === WebSocket.OPEN).length,
  }));

  /** Slots taken whose socket is not accepted yet: alive, though no tag finds them. */
  private readonly opening = new Set<string>();

  constructor(ctx: DurableObjectState, env: E) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
  }

  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(new Refusal("upgrade_required", "This path speaks WebSocket only."));
    }
    let attachment: Attachment;
    let slot: string;
    try {
      attachment = await this.attach(request);
      slot = await this.admit(forwardedIp(request));
    } catch (error) {
      // A refused handshake looks like a network error to a browser, which would retry it
      // forever; a socket closed with a final code says why and stops the retries.
      if (error instanceof Refusal) return closedSocket(error.closeCode, error.message);
      throw error;
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [...this.tags(attachment), SLOT_TAG + slot]);
    this.opening.delete(slot);
    server.serializeAttachment(attachment);
    this.figures.levelsChange();
    await this.onOpen(server, attachment);
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * Spends a join of the IP (when the route limits joins) and takes one of its socket slots on
   * this route, in one call to its limiter, or refuses the socket with 1013.
   */
  private async admit(ip: string): Promise<string> {
    const slot = crypto.randomUUID();
    const max = SOCKETS_PER_IP.read(this.env);
    const join = this.joins && { action: this.joins, policy: ratePolicy(this.env, this.joins) };
    this.opening.add(slot);
    let admission: SocketAdmission = { ok: false, refused: "sockets", retryAfterMs: 0 };
    try {
      admission = await this.env.RATE_LIMITER.getByName(ip).admitSocket(this.route, this.ctx.id.toString(), slot, max, join);
    } finally {
      if (!admission.ok) this.opening.delete(slot);
    }
    if (admission.ok) return slot;
    if (admission.refused === "joins") throw new Refusal("rate_limited", `too many joins; retry in ${Math.ceil(admission.retryAfterMs / 1000)} s`);
    throw new Refusal("rate_limited", `too many connections from your address (at most ${max}); retrying later`);
  }

  /** For the limiter at its cap: which of these slots still have a socket here. */
  liveSockets(slots: string[]): string[] {
    return slots.filter((slot) => this.opening.has(slot) || this.ctx.getWebSockets(SLOT_TAG + slot).some((ws) => ws.readyState === WebSocket.OPEN));
  }

  private async releaseSlot(ws: WebSocket): Promise<void> {
    const slot = this.ctx.getTags(ws).find((tag) => tag.startsWith(SLOT_TAG))?.slice(SLOT_TAG.length);
    if (slot === undefined) return;
    try {
      await this.env.RATE_LIMITER.getByName((ws.deserializeAttachment() as Attachment).ip).releaseSocketSlot(slot);
    } catch {
      // The limiter finds the slot free the next time it checks its holders.
    }
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
      const refusal = reading.problem === "too_deep" ? new Refusal("too_deep", `The frame nests too deep: ${TOO_DEEP}`) : new Refusal("bad_frame", "Frames must be JSON.");
      this.send(ws, refusal.frame);
      return;
    }
    const json = reading.value;
    const parsed = this.messages.safeParse(json);
    if (!parsed.success) {
      const ref = typeof json === "object" && json !== null && "id" in json && typeof json.id === "string" ? json.id : undefined;
      this.send(ws, new Refusal("invalid_message", describeIssue(parsed.error), { ref }).frame);
      return;
    }
    try {
      await this.onMessage(ws, parsed.data, ws.deserializeAttachment() as Attachment);
    } catch (error) {
      // Only codes the catalogue lets travel in a frame reach the client; anything else is our fault.
      if (!isFrameRefusal(error)) console.error("message handler failed", error);
      this.send(ws, isFrameRefusal(error) ? error.frame : new Refusal("internal", "That message could not be handled.").frame);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    // Freed before the close is answered, so a client that reconnects on the answer finds it free.
    await this.releaseSlot(ws);
    try {
      // 1005 and 1006 are reserved and may not be sent back.
      ws.close(code === 1005 || code === 1006 ? CloseCode.normal : code, reason);
    } catch {
      // Already closed by the runtime's automatic reply.
    }
    this.figures.levelsChange();
    await this.onClose(ws, ws.deserializeAttachment() as Attachment);
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.releaseSlot(ws);
    this.figures.levelsChange();
    await this.onClose(ws, ws.deserializeAttachment() as Attachment);
  }

  protected send(ws: WebSocket, message: Out | ErrorFrame): void {
    try {
      ws.send(JSON.stringify(message));
    } catch {
      // The socket closed under us; its close handler cleans up.
    }
  }

  /** Whether `ws` takes part in broadcasts; all do unless a room holds some back. */
  protected hears(_ws: WebSocket): boolean {
    return true;
  }

  /** Sends one message to every open socket but `except`, serialising it once. */
  protected broadcast(message: Out, except?: WebSocket): void {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws === except || ws.readyState !== WebSocket.OPEN || !this.hears(ws)) continue;
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
