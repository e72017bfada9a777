/** Cursors keep CDN caches of long-polls from looping (protocol §cursors): 20 s intervals. */
const CURSOR_EPOCH = Date.UTC(2024, 9, 9);
export const CURSOR_INTERVAL_S = 20;

/** The `Stream-Cursor` to answer a client that sent `clientCursor` (or none). */
export function responseCursor(clientCursor: string | null | undefined): string {
  const current = Math.floor((Date.now() - CURSOR_EPOCH) / (CURSOR_INTERVAL_S * 1000));
  if (!clientCursor) return String(current);
  const client = Number.parseInt(clientCursor, 10);
  if (Number.isNaN(client) || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(Math.random() * 3600);
  return String(client + Math.max(1, Math.ceil(jitterSeconds / CURSOR_INTERVAL_S)));
}
