/**
 * API answers are data, never pages. They come from the same origin as the demo page and its
 * localStorage (manage tokens, chat outboxes), and a stream's writer chooses its Content-Type,
 * so a browser that opens one must run nothing: a sandbox CSP with no sources, no sniffing,
 * and anything that is not JSON or plain text saved as a download rather than shown. The
 * Content-Type itself is kept (the Durable Streams protocol echoes the writer's).
 */
const INERT = { "Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff" };

/** What browsers show as text; everything else is a download. */
const SHOWN_AS_TEXT = /^(application\/([\w.+-]+\+)?json|text\/plain|text\/event-stream)$/;

/** Adds them to a response's own (mutable) headers; edge/index.ts copies one whose are not. */
export function addInertHeaders(headers: Headers): void {
  for (const [name, value] of Object.entries(INERT)) headers.set(name, value);
  const type = headers.get("Content-Type")?.split(";")[0]!.trim().toLowerCase();
  if (type && !SHOWN_AS_TEXT.test(type)) headers.set("Content-Disposition", "attachment");
}
