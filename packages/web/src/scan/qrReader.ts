// Reads a QR code from a camera frame or a photo: with the browser's BarcodeDetector where it
// reads QR codes, else with the pure-JS decoder of `qr` (no WebAssembly, which the CSP forbids),
// loaded only when a scan starts so the first load stays small.
export type QrSource = HTMLVideoElement | ImageBitmap;

export interface QrReader {
  /** The text of a QR code in the picture, or undefined when there is none (yet). */
  read(source: QrSource): Promise<string | undefined>;
}

/** Larger pictures are scaled down first: a QR code stays readable, the decoder stays fast. */
const MAX_SIDE = 1024;

interface BarcodeDetectorLike {
  detect(source: QrSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

async function nativeReader(): Promise<QrReader | undefined> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (!Detector || !(await Detector.getSupportedFormats().catch((): string[] => [])).includes("qr_code")) return undefined;
  const detector = new Detector({ formats: ["qr_code"] });
  return { read: async (source) => (await detector.detect(source))[0]?.rawValue };
}

const sizeOf = (source: QrSource) => (source instanceof HTMLVideoElement ? [source.videoWidth, source.videoHeight] : [source.width, source.height]);

async function scriptReader(): Promise<QrReader> {
  const { decodeQR } = await import("qr/decode.js");
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });
  if (!context) throw new Error("no 2D canvas");
  return {
    read: async (source) => {
      const [width, height] = sizeOf(source);
      if (!width || !height) return undefined;
      const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
      canvas.width = Math.round(width * scale);
      canvas.height = Math.round(height * scale);
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      try {
        return decodeQR({ width: image.width, height: image.height, data: image.data });
      } catch {
        // No QR code in this picture: decodeQR throws rather than returning nothing.
        return undefined;
      }
    },
  };
}

export async function loadQrReader(): Promise<QrReader> {
  return (await nativeReader()) ?? scriptReader();
}
