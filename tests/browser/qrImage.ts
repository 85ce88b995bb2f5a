// QR codes as pictures for browser tests, drawn with the same encoder the app uses to show them:
// a Y4M video for Chromium's fake camera (--use-file-for-fake-video-capture) and a PNG photo.
import { writeFileSync } from "node:fs";
import { crc32, deflateSync } from "node:zlib";
import qrcode from "qrcode-generator";

export const CAMERA = { width: 640, height: 480 };

/** Grey levels (0 black, 255 white) of a QR code of `text` centred on white, about 3/4 of the height. */
export function qrLuma(text: string, width = CAMERA.width, height = CAMERA.height): Uint8Array {
  const qr = qrcode(0, "M");
  qr.addData(text, "Byte");
  qr.make();
  const modules = qr.getModuleCount();
  const scale = Math.floor((Math.min(width, height) * 0.75) / modules);
  const left = Math.floor((width - modules * scale) / 2);
  const top = Math.floor((height - modules * scale) / 2);
  const luma = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < modules * scale; y++) {
    for (let x = 0; x < modules * scale; x++) {
      if (qr.isDark(Math.floor(y / scale), Math.floor(x / scale))) luma[(top + y) * width + left + x] = 0;
    }
  }
  return luma;
}

/** Writes a one-frame YUV4MPEG2 video (grey: U and V planes at 128) of the QR code, or of a blank wall; Chromium loops it. */
export function writeQrY4m(path: string, text: string | undefined): void {
  const { width, height } = CAMERA;
  const header = Buffer.from(`YUV4MPEG2 W${width} H${height} F30:1 Ip A1:1 C420jpeg\nFRAME\n`, "ascii");
  const luma = text === undefined ? new Uint8Array(width * height).fill(200) : qrLuma(text);
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  writeFileSync(path, Buffer.concat([header, luma, chroma]));
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** The QR code (or a blank wall) as an 8-bit greyscale PNG: a photo a person picks instead of using the camera. */
export function qrPng(text: string | undefined, width = 480, height = 480): Buffer {
  const luma = text === undefined ? new Uint8Array(width * height).fill(200) : qrLuma(text, width, height);
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) rows.set(luma.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}
