// Turns a picked file into what is sent: JPEG and PNG without their metadata (byte ranges, as
// the Node client does), photos larger than 2048 px downscaled with a canvas unless the original
// is wanted (re-encoding writes no metadata at all), a small JPEG thumbnail. Other files go as they are.
import { ImageFormatError, isJpeg, isPng, stripJpeg, stripPng } from "./imageStrip.js";

export const DEFAULT_MAX_SIDE = 2048;
/** Larger images are not decoded (a 50 MB JPEG can hold 100 megapixels: 400 MB of pixels on a phone). */
export const IMAGE_DECODE_LIMIT = 16 * 1024 * 1024;
const THUMBNAIL_SIDE = 160;
/** Formats that carry EXIF (with GPS) this version cannot strip; a canvas re-encodes them as JPEG. */
const REENCODE = new Set(["image/heic", "image/heif", "image/tiff", "image/webp"]);

export interface BrowserPreparedFile {
  body: Blob;
  name: string;
  mediaType: string;
  width?: number;
  height?: number;
  /** base64 JPEG */
  thumbnail?: string;
}

export interface BrowserPrepareOptions {
  original?: boolean;
  maxSide?: number;
}

export async function prepareBrowserFile(file: File, options: BrowserPrepareOptions = {}): Promise<BrowserPreparedFile> {
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  const jpeg = isJpeg(head);
  const png = !jpeg && isPng(head);
  const name = file.name || "datei";
  if (!jpeg && !png && !REENCODE.has(file.type)) {
    return { body: file, name, mediaType: file.type || "application/octet-stream" };
  }
  let mediaType = jpeg ? "image/jpeg" : png ? "image/png" : file.type;
  let body: Blob;
  let width = 0;
  let height = 0;
  if (jpeg || png) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      const stripped = jpeg ? await stripJpeg(bytes) : await stripPng(bytes);
      body = new Blob([stripped.bytes as BlobPart], { type: mediaType });
      ({ width, height } = stripped);
    } catch (error) {
      if (error instanceof ImageFormatError) throw new RangeError(`${name}: Bild nicht lesbar / image not readable (${error.message})`);
      throw error;
    }
  } else body = file;
  if (file.size > IMAGE_DECODE_LIMIT) {
    // Sent stripped but at full size, without thumbnail, as the CLI does.
    if (!jpeg && !png) throw new RangeError(`${name}: Bild zu groß zum Umwandeln; bitte als JPEG oder PNG senden / image too large to convert; please send it as JPEG or PNG`);
    return { body, name, mediaType, width, height };
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(body);
  } catch {
    if (!jpeg && !png) throw new RangeError(`${name}: Bildformat nicht lesbar / image format not readable`);
    return { body, name, mediaType, width, height };
  }
  try {
    const maxSide = options.maxSide ?? DEFAULT_MAX_SIDE;
    const longer = Math.max(bitmap.width, bitmap.height);
    // Re-encoded: too large (unless the original is wanted), or a format we cannot strip.
    if ((!options.original && longer > maxSide) || (!jpeg && !png)) {
      const scale = options.original ? 1 : Math.min(1, maxSide / longer);
      const w = Math.max(1, Math.round(bitmap.width * scale));
      const h = Math.max(1, Math.round(bitmap.height * scale));
      if (!jpeg && !png) mediaType = "image/jpeg";
      body = await draw(bitmap, w, h, mediaType, 0.85);
      width = w;
      height = h;
    } else if (width === 0) {
      width = bitmap.width;
      height = bitmap.height;
    }
    const scale = Math.min(1, THUMBNAIL_SIDE / longer);
    const thumb = await draw(bitmap, Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)), "image/jpeg", 0.6);
    const finalName = !jpeg && !png ? name.replace(/\.[^.]*$/, "") + ".jpg" : name;
    return { body, name: finalName, mediaType, width, height, thumbnail: toBase64(new Uint8Array(await thumb.arrayBuffer())) };
  } finally {
    bitmap.close();
  }
}

async function draw(bitmap: ImageBitmap, w: number, h: number, type: string, quality: number): Promise<Blob> {
  if (typeof OffscreenCanvas !== "undefined") {
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("no canvas");
    ctx.drawImage(bitmap, 0, 0, w, h);
    return canvas.convertToBlob({ type, quality });
  }
  const canvas = document.createElement("canvas");
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("no canvas");
  ctx.drawImage(bitmap, 0, 0, w, h);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("encode failed"))), type, quality));
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}
