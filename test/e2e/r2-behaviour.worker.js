/**
 * The R2 calls the Worker makes (edge/streams/log-storage.ts, edge/video/local-library.ts),
 * run against `env.BUCKET`; answers what each returned, as plain JSON. serve-r2.test.ts runs it
 * on wrangler's R2 and on npm run serve's and expects the same answers.
 */
function described(object) {
  if (object === null) return null;
  return {
    key: object.key,
    size: object.size,
    etag: object.etag,
    httpEtag: object.httpEtag,
    uploadedIsDate: object.uploaded instanceof Date,
    httpMetadata: object.httpMetadata,
    customMetadata: object.customMetadata,
    range: object.range,
  };
}

async function read(bucket, key, options) {
  try {
    const object = await bucket.get(key, options);
    return object === null ? null : { ...described(object), text: await object.text() };
  } catch (error) {
    return { threw: true };
  }
}

const ranged = (header) => new Headers(header === undefined ? {} : { Range: header });

export default {
  async fetch(request, env) {
    const bucket = env.BUCKET;
    const seen = {};
    seen.put = described(
      await bucket.put("notes/a", "0123456789", { httpMetadata: { contentType: "text/plain" }, customMetadata: { owner: "ada", n: "1" } }),
    );
    seen.head = described(await bucket.head("notes/a"));
    seen.get = await read(bucket, "notes/a");
    seen.getJson = await (async () => {
      await bucket.put("notes/json", JSON.stringify({ ok: [1, 2] }));
      return (await bucket.get("notes/json")).json();
    })();
    seen.getRangeObject = await read(bucket, "notes/a", { range: { offset: 2, length: 3 } });
    seen.getRangeHeaders = await read(bucket, "notes/a", { range: ranged("bytes=1-3") });
    seen.getRangeOpenEnd = await read(bucket, "notes/a", { range: ranged("bytes=4-") });
    seen.getRangeSuffix = await read(bucket, "notes/a", { range: ranged("bytes=-2") });
    seen.getRangePastEnd = await read(bucket, "notes/a", { range: ranged("bytes=8-20") });
    seen.getRangeNoHeader = (await read(bucket, "notes/a", { range: ranged() })).text;
    seen.getRangeUnsatisfiable = await read(bucket, "notes/a", { range: ranged("bytes=100-") });
    seen.getMissing = await read(bucket, "notes/missing");
    seen.headMissing = await bucket.head("notes/missing");

    const current = await bucket.head("notes/a");
    seen.putIfStale = described(await bucket.put("notes/a", "stale", { onlyIf: { etagMatches: "0".repeat(32) } }));
    seen.putIfCurrent = described(await bucket.put("notes/a", "fresh", { onlyIf: { etagMatches: current.etag }, customMetadata: current.customMetadata }));
    seen.afterConditional = await read(bucket, "notes/a");

    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => i % 251);
    await bucket.put("binary/blob", bytes);
    await bucket.put("binary/buffer", bytes.buffer);
    seen.binary = await Promise.all(
      ["binary/blob", "binary/buffer"].map(async (key) => {
        const back = new Uint8Array(await (await bucket.get(key)).arrayBuffer());
        return back.length === bytes.length && back.every((b, i) => b === bytes[i]);
      }),
    );
    seen.binaryStream = await (async () => {
      const object = await bucket.get("binary/blob", { range: ranged("bytes=2990-") });
      return [...new Uint8Array(await new Response(object.body).arrayBuffer())];
    })();

    for (const n of [1, 2, 3, 4, 5]) await bucket.put(`list/${n}`, String(n), { customMetadata: { n: String(n) } });
    const first = await bucket.list({ prefix: "list/", limit: 2, include: ["customMetadata"] });
    const second = await bucket.list({ prefix: "list/", limit: 2, include: ["customMetadata"], cursor: first.cursor });
    const rest = await bucket.list({ prefix: "list/", cursor: second.cursor });
    const page = (listing) => ({ keys: listing.objects.map((o) => o.key), meta: listing.objects.map((o) => o.customMetadata), truncated: listing.truncated, hasCursor: typeof listing.cursor === "string" });
    seen.listPages = [page(first), page(second), page(rest)];
    seen.listWithoutInclude = (await bucket.list({ prefix: "list/", limit: 1 })).objects.map((o) => o.customMetadata ?? null);
    seen.listAll = (await bucket.list()).objects.map((o) => o.key);

    await bucket.delete(["list/1", "list/2", "list/none"]);
    await bucket.delete("list/3");
    seen.afterDelete = (await bucket.list({ prefix: "list/" })).objects.map((o) => o.key);

    await bucket.put("../escape", "stays inside");
    await bucket.put("/../../etc/escape", "stays inside too");
    seen.dotKeys = [await read(bucket, "../escape"), await read(bucket, "/../../etc/escape")].map((o) => o.text);

    await bucket.put("empty", "");
    seen.empty = await read(bucket, "empty");
    return Response.json(seen);
  },
};
