/**
 * The ASSETS binding of `npm run serve`: the built files in dist/ (a read-only disk service,
 * `files`) answered as wrangler's static assets answer them: `/` and `/dir/` are their
 * index.html, `/page` is page.html when there is one, the content type follows the extension,
 * and anything else is an empty 404. Only the Worker calls it, never a visitor directly.
 */
const TYPES = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
  ico: "image/x-icon",
  woff2: "font/woff2",
  mp4: "video/mp4",
  m4s: "video/iso.segment",
  m3u8: "application/vnd.apple.mpegurl",
  vtt: "text/vtt; charset=utf-8",
};

export default {
  async fetch(request, env) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return new Response(null, { status: 405, headers: { Allow: "GET, HEAD" } });
    }
    // The URL parser has already resolved `.` and `..`; the disk service refuses dotfiles.
    let path;
    try {
      path = decodeURIComponent(new URL(request.url).pathname);
    } catch {
      return new Response(null, { status: 404 });
    }
    const candidates = path.endsWith("/") ? [`${path}index.html`] : [path, `${path}.html`, `${path}/index.html`];
    for (const candidate of candidates) {
      const file = await env.files.fetch(new Request(new URL(candidate, "http://files"), { method: request.method }));
      // A directory answers with a JSON listing and no Content-Length: not a file.
      if (!file.ok || !file.headers.has("content-length")) {
        await file.body?.cancel();
        continue;
      }
      const extension = candidate.slice(candidate.lastIndexOf(".") + 1).toLowerCase();
      return new Response(file.body, {
        headers: {
          "Content-Type": TYPES[extension] ?? "application/octet-stream",
          "Content-Length": file.headers.get("content-length"),
          "Cache-Control": "public, max-age=0, must-revalidate",
        },
      });
    }
    return new Response(null, { status: 404 });
  },
};
