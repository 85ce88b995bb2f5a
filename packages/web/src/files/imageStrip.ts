// Metadata stripping in the browser: core's JPEG/PNG parser (the same as the Node client's) over
// bytes in memory; EXIF, XMP, IPTC, comments and text chunks go, what decoding needs stays.
import { joinRanges, jpegRanges, pngRanges, type ByteReader } from "@momedo/core";

export { ImageFormatError, isJpeg, isPng } from "@momedo/core";

export interface StrippedImage {
  bytes: Uint8Array;
  width: number;
  height: number;
}

const memoryReader =
  (bytes: Uint8Array): ByteReader =>
  async (position, length) =>
    bytes.subarray(position, position + length);

export async function stripJpeg(bytes: Uint8Array): Promise<StrippedImage> {
  const { ranges, width, height } = await jpegRanges(memoryReader(bytes), bytes.length);
  return { bytes: joinRanges(bytes, ranges), width, height };
}

export async function stripPng(bytes: Uint8Array): Promise<StrippedImage> {
  const { ranges, width, height } = await pngRanges(memoryReader(bytes), bytes.length);
  return { bytes: joinRanges(bytes, ranges), width, height };
}
