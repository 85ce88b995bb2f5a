// Turns a file on disk into what is sent: metadata stripped from images, large images
// downscaled (unless the original is wanted), a small thumbnail, the media type.
import { open, stat } from "node:fs/promises";
import { basename, extname } from "node:path";
import { ImageFormatError, stripJpeg, stripPng, type StrippedImage } from "./imageMetadata.js";

/** Images larger than this are not decoded (pure-JS decoding needs ~20× the file in memory). */
export const IMAGE_DECODE_LIMIT = 16 * 1024 * 1024;
export const DEFAULT_MAX_SIDE = 2048;
const THUMBNAIL_SIDE = 160;

/**
 * The bytes to send, readable more than once (an interrupted upload starts again). A piece is
 * valid only until the next is asked for, so a reader may reuse one buffer.
 */
export interface FileSource {
  size: number;
  read(): AsyncIterable<Uint8Array>;
}

export interface PreparedFile {
  source: FileSource;
  name: string;
  mediaType: string;
  width?: number;
  height?: number;
  /** base64 JPEG */
  thumbnail?: string;
}

export interface PrepareOptions {
  /** Send the image at full size (metadata is stripped all the same). */
  original?: boolean;
  /** Longer side above which an image is downscaled. */
  maxSide?: number;
}

const BY_EXTENSION: Record<string, string> = {
  ".pdf": "application/pdf",
  ".txt": "text/plain",
  ".csv": "text/csv",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".heic": "image/heic",
  ".heif": "image/heif",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".mp4": "video/mp4",
  ".zip": "application/zip",
  ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ".odt": "application/vnd.oasis.opendocument.text",
};

async function sniff(path: string): Promise<string> {
  const file = await open(path, "r");
  try {
    const head = Buffer.alloc(8);
    await file.read(head, 0, 8, 0);
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
    if (head.toString("latin1", 1, 4) === "PNG") return "image/png";
  } finally {
    await file.close();
  }
  return BY_EXTENSION[extname(path).toLowerCase()] ?? "application/octet-stream";
}

function rangesSource(path: string, ranges: [number, number][]): FileSource {
  return {
    size: ranges.reduce((n, [start, end]) => n + end - start, 0),
    async *read() {
      const buffer = new Uint8Array(256 * 1024);
      const file = await open(path, "r");
      try {
        for (const [start, end] of ranges) {
          for (let at = start; at < end; ) {
            const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, end - at), at);
            if (bytesRead === 0) throw new Error(`${path}: Datei wurde beim Senden kürzer / file shrank while sending`);
            at += bytesRead;
            yield buffer.subarray(0, bytesRead);
          }
        }
      } finally {
        await file.close();
      }
    },
  };
}

function bufferSource(bytes: Uint8Array): FileSource {
  return {
    size: bytes.length,
    async *read() {
      yield bytes;
    },
  };
}

/** Photo formats that usually carry EXIF (with GPS) and that this version cannot strip. */
const UNSTRIPPABLE = new Set(["image/heic", "image/heif", "image/tiff", "image/webp"]);

export async function prepareFile(path: string, options: PrepareOptions = {}): Promise<PreparedFile> {
  const size = (await stat(path)).size;
  const name = basename(path);
  const mediaType = await sniff(path);
  if (UNSTRIPPABLE.has(mediaType)) {
    throw new RangeError(
      `${name}: aus diesem Bildformat können die Metadaten (z. B. GPS) noch nicht entfernt werden; bitte als JPEG oder PNG senden / ` +
        `metadata (such as GPS) cannot be removed from this image format yet; please send it as JPEG or PNG`,
    );
  }
  if (mediaType !== "image/jpeg" && mediaType !== "image/png") {
    return { source: rangesSource(path, [[0, size]]), name, mediaType };
  }
  let stripped: StrippedImage;
  const file = await open(path, "r");
  try {
    stripped = mediaType === "image/jpeg" ? await stripJpeg(file, size) : await stripPng(file, size);
  } catch (error) {
    if (error instanceof ImageFormatError) {
      throw new RangeError(`${name}: Bild nicht lesbar / image not readable (${error.message})`);
    }
    throw error;
  } finally {
    await file.close();
  }
  const prepared: PreparedFile = {
    source: rangesSource(path, stripped.ranges),
    name,
    mediaType,
    width: stripped.width,
    height: stripped.height,
  };
  if (size > IMAGE_DECODE_LIMIT) return prepared;

  // Loaded only for images, so text commands do not pay for the image library.
  const { Jimp } = await import("jimp");
  const image = await Jimp.read(await collect(prepared.source));
  const maxSide = options.maxSide ?? DEFAULT_MAX_SIDE;
  if (!options.original && Math.max(image.width, image.height) > maxSide) {
    // Re-encoding writes no metadata at all.
    image.scaleToFit({ w: maxSide, h: maxSide });
    const bytes = mediaType === "image/jpeg" ? await image.getBuffer("image/jpeg", { quality: 85 }) : await image.getBuffer("image/png");
    Object.assign(prepared, { source: bufferSource(bytes), width: image.width, height: image.height });
  }
  if (Math.max(image.width, image.height) > THUMBNAIL_SIDE) image.scaleToFit({ w: THUMBNAIL_SIDE, h: THUMBNAIL_SIDE });
  prepared.thumbnail = (await image.getBuffer("image/jpeg", { quality: 60 })).toString("base64");
  return prepared;
}

async function collect(source: FileSource): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source.read()) parts.push(part.slice());
  return Buffer.concat(parts);
}
