/** Shared by the stream tests in workerd: requests through the Worker, tokens, an SSE reader. */
import { env, exports } from "cloudflare:workers";
import { BASE } from "./support.ts";
import { mintStreamToken, type TokenClaims } from "../../edge/streams/tokens.ts";

export const streamUrl = (name: string, query = "") => `${BASE}/v1/stream/${name}${query}`;
export const unique = (label: string) => `${label}-${crypto.randomUUID().slice(0, 8)}`;

export function token(claims: TokenClaims, expiresIn: string | number = "5m"): Promise<string> {
  return mintStreamToken(env.STREAMS_JWT_SECRET!, claims, expiresIn);
}

export const bearer = (value: string) => ({ Authorization: `Bearer ${value}` });
export const ADMIN = bearer(env.ADMIN_TOKEN!);

export function call(name: string, init: RequestInit & { query?: string } = {}): Promise<Response> {
  return exports.default.fetch(streamUrl(name, init.query ?? ""), init);
}

/** Creates a stream as the admin; `public` makes it readable without a token. */
export async function createStream(name: string, options: { type?: string; body?: string; public?: boolean; headers?: Record<string, string> } = {}) {
  const response = await call(name, {
    method: "PUT",
    query: options.public ? "?public=true" : "",
    headers: { "Content-Type": options.type ?? "text/plain", ...ADMIN, ...options.headers },
    ...(options.body !== undefined && { body: options.body }),
  });
  if (response.status !== 201) throw new Error(`create ${name}: ${response.status} ${await response.text()}`);
  return response;
}

export async function append(name: string, body: string, type = "text/plain"): Promise<string> {
  const response = await call(name, { method: "POST", headers: { "Content-Type": type, ...ADMIN }, body });
  if (response.status !== 204) throw new Error(`append ${name}: ${response.status} ${await response.text()}`);
  return response.headers.get("Stream-Next-Offset")!;
}

export interface SseEvent {
  type: string;
  data: string;
}

/** An SSE reader over a fetch response: `next(match)` resolves with the next matching event. */
export function readSse(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  const queued: SseEvent[] = [];
  let ended = false;
  const pull = async (): Promise<boolean> => {
    const { done, value } = await reader.read();
    if (done) {
      ended = true;
      return false;
    }
    buffer += decoder.decode(value, { stream: true });
    let split: number;
    while ((split = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, split);
      buffer = buffer.slice(split + 2);
      let type = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5));
      }
      queued.push({ type, data: data.join("\n") });
    }
    return true;
  };
  return {
    async next(match: (event: SseEvent) => boolean = () => true): Promise<SseEvent | undefined> {
      for (;;) {
        const index = queued.findIndex(match);
        if (index >= 0) return queued.splice(index, 1)[0];
        queued.length = 0;
        if (ended || !(await pull())) return undefined;
      }
    },
    /** Resolves when the server ends the response. */
    async ended(): Promise<void> {
      while (!ended && (await pull()));
    },
    cancel: () => reader.cancel(),
  };
}

export const isData = (event: SseEvent) => event.type === "data";
