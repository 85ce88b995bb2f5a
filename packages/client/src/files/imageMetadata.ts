// Lossless metadata stripping for JPEG and PNG: the image is the same bytes minus the segments
// (JPEG) or chunks (PNG) that carry EXIF, XMP, IPTC, comments and text. The result is a list of
// byte ranges of the original file, so a file of any size is stripped without loading it.
import type { FileHandle } from "node:fs/promises";

export interface StrippedImage {
  /** [start, end) ranges of the original file, in order. */
  ranges: [number, number][];
  width: number;
  height: number;
}

export class ImageFormatError extends Error {}

async function bytesAt(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  const { bytesRead } = await file.read(buffer, 0, length, position);
  if (bytesRead !== length) throw new ImageFormatError("image ends unexpectedly");
  return buffer;
}

function add(ranges: [number, number][], start: number, end: number): void {
  const last = ranges.at(-1);
  if (last && last[1] === start) last[1] = end;
  else ranges.push([start, end]);
}

const SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** Keeps what decoding needs (JFIF, ICC colour profile, Adobe colour transform, tables, frame, scans). */
export async function stripJpeg(file: FileHandle, size: number): Promise<StrippedImage> {
  const head = await bytesAt(file, 0, 2);
  if (head[0] !== 0xff || head[1] !== 0xd8) throw new ImageFormatError("not a JPEG");
  const ranges: [number, number][] = [[0, 2]];
  let width = 0;
  let height = 0;
  let pos = 2;
  while (pos < size) {
    const header = await bytesAt(file, pos, 4);
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
    const length = header.readUInt16BE(2);
    const end = pos + 2 + length;
    if (length < 2 || end > size) throw new ImageFormatError(`bad JPEG segment at ${pos}`);
    if (marker === 0xda) {
      // Start of scan: entropy-coded data and any later scans up to the end carry no metadata.
      add(ranges, pos, size);
      break;
    }
    if (SOF.has(marker)) {
      const frame = await bytesAt(file, pos + 5, 4);
      height = frame.readUInt16BE(0);
      width = frame.readUInt16BE(2);
    }
    let keep = !(marker >= 0xe0 && marker <= 0xef) && marker !== 0xfe;
    if (marker === 0xe0 || marker === 0xee) keep = true;
    if (marker === 0xe2 && length >= 14) keep = (await bytesAt(file, pos + 4, 12)).toString("latin1") === "ICC_PROFILE\0";
    if (keep) add(ranges, pos, end);
    pos = end;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("JPEG without frame header");
  return { ranges, width, height };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Chunks that draw the picture; text, time and EXIF chunks are dropped. */
const PNG_KEEP = new Set(["IHDR", "PLTE", "IDAT", "IEND", "tRNS", "gAMA", "cHRM", "sRGB", "iCCP", "sBIT", "bKGD", "pHYs", "hIST", "acTL", "fcTL", "fdAT"]);

export async function stripPng(file: FileHandle, size: number): Promise<StrippedImage> {
  if (!(await bytesAt(file, 0, 8)).equals(PNG_SIGNATURE)) throw new ImageFormatError("not a PNG");
  const ranges: [number, number][] = [[0, 8]];
  let width = 0;
  let height = 0;
  let pos = 8;
  while (pos < size) {
    const header = await bytesAt(file, pos, 8);
    const length = header.readUInt32BE(0);
    const type = header.toString("latin1", 4, 8);
    const end = pos + 12 + length;
    if (end > size) throw new ImageFormatError(`bad PNG chunk at ${pos}`);
    if (type === "IHDR") {
      const ihdr = await bytesAt(file, pos + 8, 8);
      width = ihdr.readUInt32BE(0);
      height = ihdr.readUInt32BE(4);
    }
    if (PNG_KEEP.has(type)) add(ranges, pos, end);
    pos = end;
    if (type === "IEND") break;
  }
  if (width === 0 || height === 0) throw new ImageFormatError("PNG without header");
  return { ranges, width, height };
}
