/**
 * The console's one way to the API: same-origin requests that carry the session cookie, and on
 * every change the session's CSRF token, which lives only in this module's memory (a reload asks
 * the server for it again). The admin token itself is sent once, at sign-in, and never kept.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Fired on `window` when a call finds the session gone (expired or signed out elsewhere). */
export const SESSION_ENDED = "admin-session-ended";

let csrf: string | undefined;

export interface Session {
  csrf: string;
  expiresAt: string;
}

export async function signIn(token: string): Promise<Session> {
  const session = await call<Session>("/api/admin/session", { method: "POST", body: { token } });
  csrf = session.csrf;
  return session;
}

/** The session the cookie holds, after a reload; undefined when there is none. */
export async function resumeSession(): Promise<Session | undefined> {
  const answer = await call<({ signedIn: true } & Session) | { signedIn: false }>("/api/admin/session");
  if (!answer.signedIn) return undefined;
  csrf = answer.csrf;
  return answer;
}

export async function signOut(): Promise<void> {
  await call("/api/admin/session", { method: "DELETE", quiet: true });
  csrf = undefined;
}

export interface CallOptions {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** A 401 is the caller's business, not the end of the session. */
  quiet?: boolean;
}

/** The raw response of a same-origin call, with the CSRF header on changes. */
export async function request(path: string, options: CallOptions = {}, rawBody?: BodyInit): Promise<Response> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { ...options.headers };
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-Admin-CSRF"] = csrf;
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: options.body !== undefined ? JSON.stringify(options.body) : rawBody,
  });
  if (response.status === 401 && !options.quiet) window.dispatchEvent(new Event(SESSION_ENDED));
  return response;
}

/** A JSON call; a refusal becomes an ApiError with the API's code and message. */
export async function call<T = unknown>(path: string, options: CallOptions = {}): Promise<T> {
  const response = await request(path, options);
  if (response.status === 204) return undefined as T;
  const data = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  if (!response.ok) throw new ApiError(response.status, data?.error?.code ?? "error", data?.error?.message ?? `HTTP ${response.status}`);
  return data as T;
}

/** A path segment, escaped. */
export const part = (value: string) => encodeURIComponent(value);

/** The message to show for a failed call. */
export const problem = (error: unknown) => (error instanceof Error ? error.message : String(error));
