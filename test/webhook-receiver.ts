/**
 * A webhook receiver in Node for end-to-end tests and benchmarks: records every POST with the
 * time it arrived, answers 200, and lets callers await a number of deliveries.
 */
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";
import { freePort } from "../scripts/backend.ts";

export interface Received {
  path: string;
  at: number;
  headers: Record<string, string>;
  body: string;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves once `count` deliveries satisfy `match`. */
  waitFor(count: number, match?: (r: Received) => boolean): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) headers[name] = String(value);
      received.push({ path: request.url ?? "/", at: Date.now(), headers, body: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
      for (const check of waiters) check();
    });
  });
  const port = await freePort();
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    waitFor(count, match = () => true) {
      return new Promise((done) => {
        const check = () => {
          const list = received.filter(match);
          if (list.length < count) return;
          waiters.delete(check);
          done(list);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/**
 * The secret a receiver gives a Standard Webhooks library for `WEBHOOK_SIGNING_SECRET`: the
 * secret itself when it is `whsec_…`, else `whsec_` and the base64 of its bytes (see the README).
 */
export const receiverSecret = (secret: string) => (secret.startsWith("whsec_") ? secret : `whsec_${Buffer.from(secret).toString("base64")}`);

/** Verifies a delivery with the official Standard Webhooks library, as a receiver would: its payload, or a throw for a forged, altered or stale one. */
export function verifyDelivery(delivery: Received, secret: string): unknown {
  return new Webhook(receiverSecret(secret)).verify(delivery.body, delivery.headers);
}
