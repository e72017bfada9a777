/** Shared by the workerd test files: open a socket through the Worker and read its frames. */
import { env, exports } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import type { Env } from "../../edge/env.ts";
import worker from "../../edge/index.ts";

export const BASE = "https://widgets.test";

export interface TestSocket {
  ws: WebSocket;
  /** Resolves with the next JSON frame that satisfies `match`. */
  next<T = Record<string, unknown>>(match?: (frame: Record<string, unknown>) => boolean): Promise<T>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a socket through the Worker, with the test config's vars or, given `vars`, with those over them. */
export async function openSocket(path: string, headers: Record<string, string> = {}, vars?: Partial<Env>): Promise<TestSocket> {
  const init = { headers: { Upgrade: "websocket", ...headers } };
  const response = vars ? await fetchWithVars(vars, path, init) : await exports.default.fetch(`${BASE}${path}`, init);
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket: ${response.status} ${await response.text()}`);
  const frames: Record<string, unknown>[] = [];
  const waiters: { match: (frame: Record<string, unknown>) => boolean; done: (frame: Record<string, unknown>) => void }[] = [];
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    ws.addEventListener("close", (event: CloseEvent) => done({ code: event.code, reason: event.reason })),
  );
  ws.addEventListener("message", (event: MessageEvent) => {
    if (typeof event.data !== "string" || event.data === "pong") return;
    const frame = JSON.parse(event.data) as Record<string, unknown>;
    const waiter = waiters.findIndex((w) => w.match(frame));
    if (waiter >= 0) waiters.splice(waiter, 1)[0]!.done(frame);
    else frames.push(frame);
  });
  ws.accept();
  return {
    ws,
    closed,
    next<T>(match: (frame: Record<string, unknown>) => boolean = () => true): Promise<T> {
      const index = frames.findIndex(match);
      if (index >= 0) return Promise.resolve(frames.splice(index, 1)[0] as T);
      return new Promise<T>((done) => waiters.push({ match, done: done as (frame: Record<string, unknown>) => void }));
    },
  };
}

export const ofType = (type: string) => (frame: Record<string, unknown>) => frame.type === type;

/**
 * A request through the Worker with some vars other than the test config's (e.g. the built-in
 * rate limits): the same code and the same bindings, so the same Durable Objects and buckets.
 * `path` is on BASE unless it is a whole URL (`http://localhost:8787/...`).
 */
export async function fetchWithVars(vars: Partial<Env>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const request = new Request(new URL(path, BASE), init) as Parameters<typeof worker.fetch>[0];
  const response = await worker.fetch(request, { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** A random documentation address (RFC 3849), so a test has rate-limit buckets of its own. */
export const freshIp = () => `2001:db8::${crypto.randomUUID().slice(0, 4)}:${crypto.randomUUID().slice(0, 4)}`;
