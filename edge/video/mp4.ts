/**
 * Reads the duration of an MP4 from its movie header (`moov/mvhd`), which also proves the file
 * is an ISO BMFF movie. Returns undefined for anything else.
 */
export function mp4Duration(bytes: Uint8Array): number | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const moov = findBox(view, 0, view.byteLength, "moov");
  if (!moov) return undefined;
  const mvhd = findBox(view, moov.body, moov.end, "mvhd");
  if (!mvhd || mvhd.end - mvhd.body < 24) return undefined;
  const version = view.getUint8(mvhd.body);
  let timescale: number;
  let duration: number;
  if (version === 1) {
    if (mvhd.end - mvhd.body < 32) return undefined;
    timescale = view.getUint32(mvhd.body + 20);
    duration = Number(view.getBigUint64(mvhd.body + 24));
  } else {
    timescale = view.getUint32(mvhd.body + 12);
    duration = view.getUint32(mvhd.body + 16);
  }
  if (timescale === 0) return undefined;
  return duration / timescale;
}

function findBox(view: DataView, start: number, end: number, type: string): { body: number; end: number } | undefined {
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return undefined;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) return undefined;
    const name = String.fromCharCode(view.getUint8(at + 4), view.getUint8(at + 5), view.getUint8(at + 6), view.getUint8(at + 7));
    if (name === type) return { body: at + header, end: at + size };
    at += size;
  }
  return undefined;
}
