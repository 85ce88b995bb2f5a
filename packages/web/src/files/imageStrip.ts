// Lossless metadata stripping for JPEG and PNG in the browser: the same byte-range approach as
// the Node client's files/imageMetadata.ts (which reads through a FileHandle), over bytes in memory.
// EXIF, XMP, IPTC, comments and text chunks go; what decoding needs stays.

export interface StrippedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

export class ImageFormatError extends Error {}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function join(source: Uint8Array, ranges: [number, number][]): Uint8Array {
  const out = new Uint8Array(ranges.reduce((n, [s, e]) => n + e - s, 0));
  let at = 0;
  for (const [s, e] of ranges) {
    out.set(source.subarray(s, e), at);
    at += e - s;
  }
  return out;
}

function add(ranges: [number, number][], start: number, end: number): void {
  const last = ranges.at(-1);
  if (last && last[1] === start) last[1] = end;
  else ranges.push([start, end]);
}

export function isJpeg(b: Uint8Array): boolean {
  return b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

export function isPng(b: Uint8Array): boolean {
  return b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

export function stripJpeg(b: Uint8Array): StrippedImage {
  if (!isJpeg(b)) throw new ImageFormatError("not a JPEG");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = b.length;
  const ranges: [number, number][] = [[0, 2]];
  let width = 0;
  let height = 0;
  let pos = 2;
  while (pos < size) {
    if (pos + 4 > size) throw new ImageFormatError("image ends unexpectedly");
    if (b[pos] !== 0xff) throw new ImageFormatError(`no JPEG marker at ${pos}`);
    const marker = b[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xd9) {
      add(ranges, pos, pos + 2);
      break;
    }
    const length = view.getUint16(pos + 2);
    const end = pos + 2 + length;
    if (length < 2 || end > size) throw new ImageFormatError(`bad JPEG segment at ${pos}`);
    if (marker === 0xda) {
      add(ranges, pos, size);
      break;
    }
    if (SOF.has(marker)) {
      height = view.getUint16(pos + 5);
      width = view.getUint16(pos + 7);
    }
    let keep = !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe;
    if (marker === 0xe0 || marker === 0xee) keep = true;
    if (marker === 0xe2 && length >= 14) keep = String.fromCharCode(...b.subarray(pos + 4, pos + 16)) === "ICC_PROFILE\0";
    if (keep) add(ranges, pos, end);
    pos = end;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("JPEG without frame header");
  return { bytes: join(b, ranges), width, height };
}

const PNG_KEEP = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "hIST", "acTL", "fcTL", "fdAT"]);

export function stripPng(b: Uint8Array): StrippedImage {
  if (!isPng(b)) throw new ImageFormatError("not a PNG");
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const size = b.length;
  const ranges: [number, number][] = [[0, 8]];
  let width = 0;
  let height = 0;
  let pos = 8;
  while (pos < size) {
    if (pos + 8 > size) throw new ImageFormatError("image ends unexpectedly");
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...b.subarray(pos + 4, pos + 8));
    const end = pos + 12 + length;
    if (end > size) throw new ImageFormatError(`bad PNG chunk at ${pos}`);
    if (type === "IHDR") {
      width = view.getUint32(pos + 8);
      height = view.getUint32(pos + 12);
    }
    if (PNG_KEEP.has(type)) add(ranges, pos, end);
    pos = end;
    if (type === "IEND") break;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("PNG without header");
  return { bytes: join(b, ranges), width, height };
}
