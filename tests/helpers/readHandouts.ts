// Reads a handout PDF the way a viewer and a phone would: pdf.js parses each page, extracts its
// text and renders it to pixels, and jsQR reads the code from those pixels. Nothing here knows
// how the server writes the file.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import jsQRModule from "jsqr";
import * as pdfjs from "pdfjs-dist/legacy/build/pdf.mjs";
import type { PDFPageProxy } from "pdfjs-dist/legacy/build/pdf.mjs";

export interface HandoutPage {
  text: string;
  qr: string | null;
}

// 144 dpi first (a 1.3 mm module is 7 pixels); jsQR misses a code at some odd module sizes, so a
// second look at 216 dpi, as a phone would simply try again from another distance.
const RENDER_SCALES = [2, 3];

/** What pdf.js's document.canvasFactory offers (its typings only say `Object`). */
interface CanvasFactory {
  create(width: number, height: number): { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D };
  destroy(entry: { canvas: HTMLCanvasElement; context: CanvasRenderingContext2D }): void;
}

// jsqr is CommonJS that sets `exports.default`; that is the decoder both in Node and in bundlers.
const jsQR = jsQRModule.default;

const pdfjsRoot = dirname(createRequire(import.meta.url).resolve("pdfjs-dist/package.json"));

// pdf.js in Node runs its worker on the main thread; handing it the worker module directly
// spares the relative dynamic import that test runners and bundlers tend to rewrite.
async function loadWorker(): Promise<void> {
  const scope = globalThis as { pdfjsWorker?: unknown };
  scope.pdfjsWorker ??= await import(pathToFileURL(join(pdfjsRoot, "legacy/build/pdf.worker.mjs")).href);
}

/** The page's pixels, drawn by pdf.js on a canvas from its factory: @napi-rs/canvas in Node. */
async function render(factory: CanvasFactory, page: PDFPageProxy, scale: number): Promise<ImageData> {
  const viewport = page.getViewport({ scale });
  const width = Math.ceil(viewport.width);
  const height = Math.ceil(viewport.height);
  const { canvas, context } = factory.create(width, height);
  try {
    await page.render({ canvas, canvasContext: context, viewport, background: "#ffffff" }).promise;
    return context.getImageData(0, 0, width, height);
  } finally {
    factory.destroy({ canvas, context });
  }
}

export async function readHandoutPdf(bytes: Uint8Array): Promise<{ pages: HandoutPage[] }> {
  await loadWorker();
  const document = await pdfjs.getDocument({
    // A copy: pdf.js refuses a Node Buffer and may take ownership of what it is given.
    data: new Uint8Array(bytes),
    // The 14 standard fonts are not in the file; pdf.js draws them from its own font data.
    standardFontDataUrl: join(pdfjsRoot, "standard_fonts") + "/",
    stopAtErrors: true,
    isEvalSupported: false,
  }).promise;
  try {
    const pages: HandoutPage[] = [];
    for (let number = 1; number <= document.numPages; number++) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      const text = content.items.map((item) => ("str" in item ? item.str + (item.hasEOL ? "\n" : "") : "")).join("");

      let qr: string | null = null;
      for (const scale of RENDER_SCALES) {
        const image = await render(document.canvasFactory as CanvasFactory, page, scale);
        qr = jsQR(image.data, image.width, image.height)?.data ?? null;
        if (qr !== null) break;
      }
      page.cleanup();
      pages.push({ text, qr });
    }
    return { pages };
  } finally {
    await document.destroy();
  }
}
