/**
 * The R2Bucket binding of `npm run serve` (a workerd wrapped binding: this module runs in the
 * Worker's isolate, the objects live in `object-store.worker.js`). It implements the calls the
 * Worker makes, as R2 answers them: get (with a range as an object or as request headers),
 * head, put (with httpMetadata, customMetadata and onlyIf.etagMatches), delete (one key or
 * many) and list (prefix, cursor, limit, delimiter, startAfter, include). Anything else throws,
 * so a new call shows up at once instead of half-working.
 */

class RangeNotSatisfiable extends Error {
  constructor(range) {
    super(`get: The requested range is not satisfiable (${range}). (10039)`);
    this.name = "RangeNotSatisfiable";
  }
}

class StoredObject {
  constructor(described, range) {
    this.key = described.key;
    this.version = described.version;
    this.size = described.size;
    this.etag = described.etag;
    this.httpEtag = `"${described.etag}"`;
    this.uploaded = new Date(described.uploaded);
    this.httpMetadata = described.httpMetadata;
    this.customMetadata = described.customMetadata;
    this.checksums = { md5: hexBytes(described.etag) };
    this.storageClass = "Standard";
    if (range) this.range = range;
  }

  writeHttpMetadata(headers) {
    const names = {
      contentType: "content-type",
      contentLanguage: "content-language",
      contentDisposition: "content-disposition",
      contentEncoding: "content-encoding",
      cacheControl: "cache-control",
    };
    for (const [field, header] of Object.entries(names)) {
      if (this.httpMetadata[field] !== undefined) headers.set(header, this.httpMetadata[field]);
    }
    if (this.httpMetadata.cacheExpiry !== undefined) headers.set("expires", new Date(this.httpMetadata.cacheExpiry).toUTCString());
  }
}

class StoredObjectBody extends StoredObject {
  #bytes;
  #used = false;

  constructor(described, range, bytes) {
    super(described, range);
    this.#bytes = bytes;
    const body = this;
    this.body = new ReadableStream({
      type: "bytes",
      pull(controller) {
        body.#used = true;
        if (bytes.byteLength > 0) controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }

  get bodyUsed() {
    return this.#used;
  }

  #take() {
    if (this.#used) throw new TypeError("Body has already been used.");
    this.#used = true;
    return this.#bytes;
  }

  async arrayBuffer() {
    return this.#take().slice().buffer;
  }
  async bytes() {
    return this.#take().slice();
  }
  async text() {
    return new TextDecoder().decode(this.#take());
  }
  async json() {
    return JSON.parse(await this.text());
  }
  async blob() {
    return new Blob([this.#take()], { type: this.httpMetadata.contentType ?? "" });
  }
}

class Bucket {
  #namespace;
  #name;

  constructor(namespace, name) {
    this.#namespace = namespace;
    this.#name = name;
  }

  /** A fresh stub per call: a stub made during one request cannot be used by another. */
  get #store() {
    return this.#namespace.get(this.#namespace.idFromName(this.#name));
  }

  async head(key) {
    const described = await this.#store.head(String(key));
    return described ? new StoredObject(described, { offset: 0, length: described.size }) : null;
  }

  async get(key, options = {}) {
    const { onlyIf, range, ...rest } = options;
    if (onlyIf !== undefined) throw new Error("get: onlyIf is not supported by this R2 binding");
    unsupported("get", rest);
    const described = await this.#store.head(String(key));
    if (!described) return null;
    const wanted = requestedRange(range, described.size);
    const found = await this.#store.get(String(key), wanted?.offset ?? 0, wanted?.length ?? described.size);
    if (!found) return null;
    return new StoredObjectBody(found.object, { offset: wanted?.offset ?? 0, length: found.bytes.byteLength }, found.bytes);
  }

  async put(key, value, options = {}) {
    const { httpMetadata, customMetadata, onlyIf, ...rest } = options;
    unsupported("put", rest);
    if (onlyIf !== undefined && (onlyIf instanceof Headers || Object.keys(onlyIf).some((name) => name !== "etagMatches"))) {
      throw new Error("put: only onlyIf.etagMatches is supported by this R2 binding");
    }
    const metadata = httpMetadata instanceof Headers ? fromHeaders(httpMetadata) : { ...httpMetadata };
    const described = await this.#store.put(String(key), await bytesOf(value), metadata, { ...customMetadata }, onlyIf?.etagMatches);
    return described ? new StoredObject(described) : null;
  }

  async delete(keys) {
    await this.#store.delete((Array.isArray(keys) ? keys : [keys]).map(String));
  }

  async list(options = {}) {
    const { prefix = "", cursor, startAfter, delimiter, include = [], limit = 1000, ...rest } = options;
    unsupported("list", rest);
    const after = cursor !== undefined ? decodeCursor(cursor) : (startAfter ?? "");
    const page = await this.#store.list(prefix, after, Math.min(Math.max(1, limit), 1000), delimiter ?? "");
    const objects = page.objects.map((described) => {
      const object = new StoredObject(described);
      // As wrangler's R2 does: metadata only when asked for.
      if (!include.includes("httpMetadata")) object.httpMetadata = {};
      if (!include.includes("customMetadata")) object.customMetadata = {};
      return object;
    });
    return page.truncated
      ? { objects, truncated: true, cursor: encodeCursor(page.last), delimitedPrefixes: page.prefixes }
      : { objects, truncated: false, delimitedPrefixes: page.prefixes };
  }
}

/**
 * `{offset, length}`, `{offset}`, `{suffix}` or request headers with a `Range`. A `Range` header
 * that cannot be served (past the end, several ranges, not bytes) means the whole object, as
 * wrangler's R2 answers it.
 */
function requestedRange(range, size) {
  if (range === undefined) return undefined;
  if (range instanceof Headers) {
    const match = /^bytes=(\d*)-(\d*)$/.exec(range.get("range")?.trim() ?? "");
    if (!match || (match[1] === "" && match[2] === "")) return undefined;
    try {
      if (match[1] === "") return fitted({ suffix: Number(match[2]) }, size, match[0]);
      const offset = Number(match[1]);
      if (match[2] !== "" && Number(match[2]) < offset) return undefined;
      return fitted(match[2] === "" ? { offset } : { offset, length: Number(match[2]) - offset + 1 }, size, match[0]);
    } catch {
      return undefined;
    }
  }
  return fitted(range, size, JSON.stringify(range));
}

function fitted({ offset, length, suffix }, size, shown) {
  if (suffix !== undefined) {
    const take = Math.min(suffix, size);
    return { offset: size - take, length: take };
  }
  const start = offset ?? 0;
  if (start > size || (start === size && size > 0) || (length !== undefined && length < 0)) throw new RangeNotSatisfiable(shown);
  return { offset: start, length: Math.min(length ?? size - start, size - start) };
}

function fromHeaders(headers) {
  const metadata = {};
  const fields = {
    "content-type": "contentType",
    "content-language": "contentLanguage",
    "content-disposition": "contentDisposition",
    "content-encoding": "contentEncoding",
    "cache-control": "cacheControl",
  };
  for (const [header, field] of Object.entries(fields)) if (headers.has(header)) metadata[field] = headers.get(header);
  return metadata;
}

async function bytesOf(value) {
  if (value === null || value === undefined) return new Uint8Array(0);
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError("put: the value must be a string, ArrayBuffer, ArrayBufferView, Blob, ReadableStream or null");
}

function unsupported(call, rest) {
  const names = Object.keys(rest).filter((name) => rest[name] !== undefined);
  if (names.length > 0) throw new Error(`${call}: ${names.join(", ")} not supported by this R2 binding`);
}

function hexBytes(hex) {
  return Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16)).buffer;
}

const encodeCursor = (key) => btoa(String.fromCharCode(...new TextEncoder().encode(key)));
const decodeCursor = (cursor) => new TextDecoder().decode(Uint8Array.from(atob(cursor), (c) => c.charCodeAt(0)));

/** workerd calls this with the inner bindings: `store`, the bucket's ObjectStore namespace, and `bucket`, its name. */
export default function makeBucket({ store, bucket }) {
  return new Bucket(store, bucket);
}
