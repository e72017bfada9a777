import type { Env } from "../env.ts";
import { withClientIp } from "../http/client-ip.ts";
import { Refusal } from "../http/refusal.ts";
import { isOriginAllowed } from "../http/origins.ts";
import * as CloseCode from "../../contract/close-codes.ts";

/**
 * Checks a request on a WebSocket path before it reaches a Durable Object. A plain HTTP
 * request is a 426. A browser from a disallowed origin gets a socket that closes at once with
 * 1008 and a reason, since browsers hide the status of a refused handshake from the page.
 */
export function checkUpgrade(env: Env, request: Request): Response | undefined {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    throw new Refusal("upgrade_required", "This path speaks WebSocket only.", { headers: { Upgrade: "websocket" } });
  }
  const origin = request.headers.get("Origin");
  if (!isOriginAllowed(env, origin)) {
    return closedSocket(CloseCode.policy, `origin ${origin} not allowed`);
  }
  return undefined;
}

export function closedSocket(code: number, reason: string): Response {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.close(code, reason.slice(0, 120));
  return new Response(null, { status: 101, webSocket: client });
}

/**
 * Checks the upgrade, then hands it to the Durable Object `room` together with the client's IP as
 * the Worker resolved it: the objects never read a visitor's headers for it themselves.
 */
export function forwardSocket(env: Env, request: Request, room: { fetch(request: Request): Promise<Response> }): Response | Promise<Response> {
  return checkUpgrade(env, request) ?? room.fetch(withClientIp(env, request));
}
