/**
 * The Cache API (`caches.default`) of `npm run serve`: workerd hands every `cache.put`,
 * `cache.match` and `cache.delete` of the Worker to this service (`cacheApiOutbound`), as a
 * PUT whose body is the whole HTTP response, a GET, and a PURGE, keyed by URL. It keeps what
 * a shared cache may keep (`public` with a max-age or s-maxage, no `no-store`, `private`,
 * `no-cache` or Set-Cookie) in this process's memory, up to a byte budget, oldest out first.
 * Like a Cloudflare data centre's cache it may forget anything at any time (here: on restart).
 */
const BUDGET_BYTES = 64 * 1024 * 1024;
const MISS = () => new Response(null, { status: 504, headers: { "cf-cache-status": "MISS" } });

/** URL → { status, headers, body, expires }; a Map keeps insertion order, so the first is the oldest. */
const entries = new Map();
let bytes = 0;

function forget(key) {
  const entry = entries.get(key);
  if (!entry) return false;
  entries.delete(key);
  bytes -= entry.body.byteLength;
  return true;
}

/** Seconds a shared cache may keep a response, or 0 when it may not. */
function lifetime(headers) {
  if (headers.has("set-cookie")) return 0;
  const directives = (headers.get("cache-control") ?? "").toLowerCase().split(",").map((part) => part.trim());
  if (directives.some((d) => d === "no-store" || d === "private" || d === "no-cache" || d.startsWith("private="))) return 0;
  const ages = Object.fromEntries(directives.filter((d) => d.includes("=")).map((d) => d.split("=")));
  const seconds = Number(ages["s-maxage"] ?? ages["max-age"] ?? 0);
  return Number.isFinite(seconds) ? seconds : 0;
}

/** The stored response: `HTTP/1.1 <status> <text>\r\n<headers>\r\n\r\n<body>`. */
async function parseStored(body) {
  const raw = new Uint8Array(await new Response(body).arrayBuffer());
  let end = -1;
  for (let i = 0; i + 3 < raw.length; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) {
      end = i;
      break;
    }
  }
  if (end < 0) return undefined;
  const [statusLine, ...lines] = new TextDecoder().decode(raw.subarray(0, end)).split("\r\n");
  const status = Number(/^HTTP\/\d(?:\.\d)? (\d+)/.exec(statusLine)?.[1]);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  headers.delete("transfer-encoding");
  return { status, headers, body: raw.slice(end + 4) };
}

export default {
  async fetch(request) {
    const key = request.url;
    if (request.method === "PUT") {
      const stored = await parseStored(request.body);
      const seconds = stored ? lifetime(stored.headers) : 0;
      if (!stored || seconds <= 0 || stored.status === 206 || stored.body.byteLength > BUDGET_BYTES / 8) return new Response(null, { status: 413 });
      forget(key);
      entries.set(key, { ...stored, expires: Date.now() + seconds * 1000 });
      bytes += stored.body.byteLength;
      for (const [oldest] of entries) {
        if (bytes <= BUDGET_BYTES) break;
        forget(oldest);
      }
      return new Response(null, { status: 204 });
    }
    if (request.method === "PURGE") return new Response(null, { status: forget(key) ? 200 : 404 });
    const entry = entries.get(key);
    if (!entry) return MISS();
    if (entry.expires <= Date.now()) {
      forget(key);
      return MISS();
    }
    const headers = new Headers(entry.headers);
    headers.set("cf-cache-status", "HIT");
    return new Response(entry.body, { status: entry.status, headers });
  },
};
