// Metadata stripping for the Node shell: core's JPEG/PNG parser reading through a file handle,
// so a file of any size is stripped without loading it.
import type { FileHandle } from "node:fs/promises";
import { jpegRanges, pngRanges, type ByteReader, type ImageRanges } from "@momedo/core";

export { ImageFormatError } from "@momedo/core";
export type StrippedImage = ImageRanges;

function fileReader(file: FileHandle): ByteReader {
  return async (position, length) => {
    const buffer = new Uint8Array(length);
    const { bytesRead } = await file.read(buffer, 0, length, position);
    return buffer.subarray(0, bytesRead);
  };
}

export function stripJpeg(file: FileHandle, size: number): Promise<StrippedImage> {
  return jpegRanges(fileReader(file), size);
}

export function stripPng(file: FileHandle, size: number): Promise<StrippedImage> {
  return pngRanges(fileReader(file), size);
}
