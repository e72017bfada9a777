/**
 * A stand-in for the Cloudflare Stream API (https://api.cloudflare.com/client/v4), run as an
 * auxiliary Worker in the workerd tests, because the real one cannot be reached here. It keeps
 * the real request shapes (bearer token, `/accounts/<id>/stream` with `search`, `limit`,
 * `before`, `after`, `asc`, `status`, `include_counts`; `/stream/<uid>` read, edited (POST) and
 * deleted; `/stream/direct_upload`)
 * and the real envelope (`{result, success, errors, messages}`, plus `total`/`range` for lists).
 *
 * Its library: 30 videos, one a day from 2026-01-01 (newest first when listed):
 *   - every 3rd (n % 3 === 0) requires signed URLs and has no visibility: private by default;
 *   - n % 3 === 1 requires signed URLs and says meta.visibility "public";
 *   - n % 3 === 2 plays without signing (public at Stream), except n % 10 === 2: visibility "private";
 *   - n % 7 === 4 is still processing (not ready to stream).
 */
const ACCOUNT = "023e105f4ecef8ad9ca31a8372d0c353";
const TOKEN = "stand-in-api-token";
const CUSTOMER = "customer-standin0000.cloudflarestream.com";

function video(n) {
  const uid = n.toString(16).padStart(2, "0").repeat(16);
  const day = String(n).padStart(2, "0");
  const ready = n % 7 !== 4;
  const requireSignedURLs = n % 3 !== 2;
  const meta = { name: `${n % 2 === 0 ? "Harbour" : "Mountain"} clip ${day}` };
  if (n % 3 === 1) meta.visibility = "public";
  if (n % 3 === 2 && n % 10 === 2) meta.visibility = "private";
  return {
    uid,
    creator: null,
    thumbnail: `https://${CUSTOMER}/${uid}/thumbnails/thumbnail.jpg`,
    thumbnailTimestampPct: 0,
    readyToStream: ready,
    readyToStreamAt: ready ? `2026-01-${day}T10:05:00.000000Z` : null,
    status: ready ? { state: "ready", pctComplete: "100.000000", errorReasonCode: "", errorReasonText: "" } : { state: "inprogress", pctComplete: "42.000000", errorReasonCode: "", errorReasonText: "" },
    meta,
    created: `2026-01-${day}T10:00:00.000000Z`,
    modified: `2026-01-${day}T10:05:00.000000Z`,
    scheduledDeletion: null,
    size: 1_000_000 + n,
    preview: `https://${CUSTOMER}/${uid}/watch`,
    allowedOrigins: [],
    requireSignedURLs,
    uploaded: `2026-01-${day}T10:00:00.000000Z`,
    uploadExpiry: null,
    maxSizeBytes: null,
    maxDurationSeconds: null,
    duration: ready ? 10 + n : -1,
    input: { width: 1280, height: 720 },
    playback: { hls: `https://${CUSTOMER}/${uid}/manifest/video.m3u8`, dash: `https://${CUSTOMER}/${uid}/manifest/video.mpd` },
    watermark: null,
    clippedFrom: null,
    publicDetails: { title: null, share_link: null, channel_link: null, logo: null },
  };
}

const videos = Array.from({ length: 30 }, (_, i) => video(i + 1));
/** How many list calls were answered, by search text: the tests read it at /__standin/list-calls. */
const listCalls = new Map();

const envelope = (result, extra = {}, status = 200) =>
  Response.json({ result, success: status < 400, errors: [], messages: [], ...extra }, { status });
const failure = (status, code, message) =>
  Response.json({ result: null, success: false, errors: [{ code, message }], messages: [] }, { status });

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/__standin/list-calls") return Response.json({ calls: listCalls.get(url.searchParams.get("search") ?? "") ?? 0 });
    const match = url.pathname.match(/^\/client\/v4\/accounts\/([^/]+)\/stream(?:\/([^/]+))?$/);
    if (!match) return failure(404, 7003, "Could not route to " + url.pathname + ", perhaps your object identifier is invalid?");
    if (request.headers.get("Authorization") !== `Bearer ${TOKEN}`) return failure(401, 10000, "Authentication error");
    if (match[1] !== ACCOUNT) return failure(403, 10000, "Authentication error");
    const sub = match[2];

    if (!sub && request.method === "GET") {
      const p = url.searchParams;
      const limit = p.has("limit") ? Number(p.get("limit")) : 1000;
      if (!Number.isInteger(limit) || limit < 0 || limit > 1000) return failure(400, 10005, "limit must be between 0 and 1000");
      const search = (p.get("search") ?? "").toLowerCase();
      listCalls.set(p.get("search") ?? "", (listCalls.get(p.get("search") ?? "") ?? 0) + 1);
      const before = p.get("before") ?? p.get("end");
      const after = p.get("after") ?? p.get("start");
      let found = videos.filter(
        (v) =>
          (!search || String(v.meta.name ?? "").toLowerCase().includes(search)) &&
          (!p.get("status") || v.status.state === p.get("status")) &&
          (!before || Date.parse(v.created) < Date.parse(before)) &&
          (!after || Date.parse(v.created) > Date.parse(after)),
      );
      found.sort((a, b) => Date.parse(b.created) - Date.parse(a.created));
      if (p.get("asc") === "true") found.reverse();
      const total = found.length;
      found = found.slice(0, limit);
      return envelope(found, p.get("include_counts") === "true" ? { total: String(total), range: String(found.length) } : {});
    }

    if (sub === "direct_upload" && request.method === "POST") {
      let body;
      try {
        body = await request.json();
      } catch {
        return failure(400, 10005, "The request body is not valid JSON");
      }
      if (!Number.isInteger(body.maxDurationSeconds) || body.maxDurationSeconds < 1 || body.maxDurationSeconds > 21600) {
        return failure(400, 10005, "maxDurationSeconds must be an integer between 1 and 21600");
      }
      const uid = crypto.randomUUID().replace(/-/g, "");
      const pending = { ...video(31), uid, meta: body.meta ?? {}, requireSignedURLs: Boolean(body.requireSignedURLs), readyToStream: false, status: { state: "pendingupload" }, created: new Date().toISOString() };
      videos.push(pending);
      return envelope({ uploadURL: `https://upload.videodelivery.net/${crypto.randomUUID().replace(/-/g, "")}`, uid, watermark: null, scheduledDeletion: null });
    }

    if (sub && request.method === "GET") {
      const found = videos.find((v) => v.uid === sub);
      return found ? envelope(found) : failure(404, 10003, "Not Found");
    }

    // Edit video details: the fields sent replace the video's (meta as a whole).
    if (sub && request.method === "POST") {
      const found = videos.find((v) => v.uid === sub);
      if (!found) return failure(404, 10003, "Not Found");
      const body = await request.json().catch(() => null);
      if (!body || typeof body !== "object") return failure(400, 10005, "The request body is not valid JSON");
      if (body.meta !== undefined) found.meta = body.meta;
      if (body.requireSignedURLs !== undefined) found.requireSignedURLs = Boolean(body.requireSignedURLs);
      return envelope(found);
    }

    if (sub && request.method === "DELETE") {
      const at = videos.findIndex((v) => v.uid === sub);
      if (at < 0) return failure(404, 10003, "Not Found");
      videos.splice(at, 1);
      return envelope("");
    }
    return failure(405, 10000, "Method not allowed");
  },
};
