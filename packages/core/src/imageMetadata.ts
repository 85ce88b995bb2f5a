// Lossless metadata stripping for JPEG and PNG: the image is the same bytes minus the segments
// (JPEG) or chunks (PNG) that carry EXIF, XMP, IPTC, comments and text. The result is a list of
// byte ranges of the original, read through `read`, so a file of any size is stripped without
// loading it (Node reads a file handle; the browser reads bytes in memory).

/** Reads `length` bytes at `position` (fewer only at the end of the file). */
export type ByteReader = (position: number, length: number) => Promise<Uint8Array>;

export interface ImageRanges {
  /** [start, end) ranges of the original, in order. */
  ranges: [number, number][];
  width: number;
  height: number;
}

export class ImageFormatError extends Error {}

async function bytesAt(read: ByteReader, position: number, length: number): Promise<Uint8Array> {
  const bytes = await read(position, length);
  if (bytes.length !== length) throw new ImageFormatError("image ends unexpectedly");
  return bytes;
}

const u16 = (b: Uint8Array, at = 0) => (b[at]! << 8) | b[at + 1]!;
const u32 = (b: Uint8Array, at = 0) => ((b[at]! << 24) >>> 0) + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
const latin1 = (b: Uint8Array) => String.fromCharCode(...b);

function add(ranges: [number, number][], start: number, end: number): void {
  const last = ranges.at(-1);
  if (last && last[1] === start) last[1] = end;
  else ranges.push([start, end]);
}

export function isJpeg(head: Uint8Array): boolean {
  return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
}

export function isPng(head: Uint8Array): boolean {
  return head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47;
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Keeps what decoding needs (JFIF, ICC colour profile, Adobe colour transform, tables, frame, scans). */
export async function jpegRanges(read: ByteReader, size: number): Promise<ImageRanges> {
  const head = await bytesAt(read, 0, 2);
  if (head[0] !== 0xff || head[1] !== 0xd8) throw new ImageFormatError("not a JPEG");
  const ranges: [number, number][] = [[0, 2]];
  let width = 0;
  let height = 0;
  let pos = 2;
  while (pos < size) {
    const header = await bytesAt(read, pos, 4);
    if (header[0] !== 0xff) throw new ImageFormatError(`no JPEG marker at ${pos}`);
    const marker = header[1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd9) {
      add(ranges, pos, pos + 2);
      break;
    }
    const length = u16(header, 2);
    const end = pos + 2 + length;
    if (length < 2 || end > size) throw new ImageFormatError(`bad JPEG segment at ${pos}`);
    if (marker === 0xda) {
      // Start of scan: entropy-coded data and any later scans up to the end carry no metadata.
      add(ranges, pos, size);
      break;
    }
    if (SOF.has(marker)) {
      const frame = await bytesAt(read, pos + 5, 4);
      height = u16(frame, 0);
      width = u16(frame, 2);
    }
    let keep = !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe;
    if (marker === 0xe0 || marker === 0xee) keep = true;
    if (marker === 0xe2 && length >= 14) keep = latin1(await bytesAt(read, pos + 4, 12)) === "ICC_PROFILE\0";
    if (keep) add(ranges, pos, end);
    pos = end;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("JPEG without frame header");
  return { ranges, width, height };
}

/** Chunks that draw the picture; text, time and EXIF chunks are dropped. */
const PNG_KEEP = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "hIST", "acTL", "fcTL", "fdAT"]);

export async function pngRanges(read: ByteReader, size: number): Promise<ImageRanges> {
  if (!isPng(await bytesAt(read, 0, 8))) throw new ImageFormatError("not a PNG");
  const ranges: [number, number][] = [[0, 8]];
  let width = 0;
  let height = 0;
  let pos = 8;
  while (pos < size) {
    const header = await bytesAt(read, pos, 8);
    const length = u32(header, 0);
    const type = latin1(header.subarray(4, 8));
    const end = pos + 12 + length;
    if (end > size) throw new ImageFormatError(`bad PNG chunk at ${pos}`);
    if (type === "IHDR") {
      const ihdr = await bytesAt(read, pos + 8, 8);
      width = u32(ihdr, 0);
      height = u32(ihdr, 4);
    }
    if (PNG_KEEP.has(type)) add(ranges, pos, end);
    pos = end;
    if (type === "IEND") break;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("PNG without header");
  return { ranges, width, height };
}

/** The kept ranges of bytes in memory, joined. */
export function joinRanges(source: Uint8Array, ranges: [number, number][]): Uint8Array {
  const out = new Uint8Array(ranges.reduce((n, [s, e]) => n + e - s, 0));
  let at = 0;
  for (const [s, e] of ranges) {
    out.set(source.subarray(s, e), at);
    at += e - s;
  }
  return out;
}
