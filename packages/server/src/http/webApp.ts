// The web app (packages/web/dist) at /, under a strict Content-Security-Policy: scripts, styles
// and everything else come from this origin only, and nothing runs inline. Hashed assets are
// cached for good; index.html is checked on every visit, so an update reaches everyone at once.
// Paths without a file of their own (/join, the app's routes) get index.html: the app routes.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { MomedoError } from "@momedo/protocol";
import { sendError, sendJson } from "./json.js";

/** packages/web/dist; MOMEDO_WEB_APP_DIR points a development server (or a test) at another build. */
export const WEB_APP_DIR = process.env.MOMEDO_WEB_APP_DIR || fileURLToPath(new URL("../../../web/dist/", import.meta.url));

export const WEB_APP_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
  "manifest-src 'self'; worker-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};
const IMMUTABLE = "public, max-age=31536000, immutable";
/** A path of plain names: no dot at the start of a segment (so no `..`), no encoded characters. */
const SAFE_PATH = /^(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/;

const NOT_BUILT = `<!doctype html>
<html lang="de"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>momedo</title></head>
<body><main>
<h1>momedo</h1>
<p>Die Web-App ist noch nicht gebaut. Im Ordner von momedo <code>npm run build</code> ausführen und die Seite neu laden.</p>
<p lang="en">The web app has not been built yet. Run <code>npm run build</code> in the momedo folder and reload this page.</p>
</main></body></html>
`;

export type WebAppHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/** Serves the built app in `dir` (packages/web/dist unless a test says otherwise). */
export function webApp(dir: string = WEB_APP_DIR): WebAppHandler {
  const root = dir.endsWith(sep) ? dir : dir + sep;
  return (req, res, url) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(res, 405, { code: "method", message: "Nicht erlaubt / Method not allowed" });
      return;
    }
    serve(root, req, res, url.pathname).catch((error) => sendError(res, error));
  };
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const head = req.method === "HEAD";
  const file = path === "/" ? undefined : SAFE_PATH.test(path) ? join(root, path) : null;
  if (file === null || (file !== undefined && !file.startsWith(root))) throw new MomedoError("not_found", path);
  if (file !== undefined && CONTENT_TYPES[extname(file)]) {
    const content = await readOptional(file);
    if (content) {
      send(res, head, 200, CONTENT_TYPES[extname(file)]!, path.startsWith("/assets/") ? IMMUTABLE : "no-cache", content);
      return;
    }
  }
  // A missing file with an extension is a broken link, not a page of the app.
  if (file !== undefined && extname(file) !== "") throw new MomedoError("not_found", path);
  const index = await readOptional(join(root, "index.html"));
  if (index) send(res, head, 200, CONTENT_TYPES[".html"]!, "no-cache", index);
  else send(res, head, 503, CONTENT_TYPES[".html"]!, "no-store", Buffer.from(NOT_BUILT));
}

function send(res: ServerResponse, head: boolean, status: number, type: string, cache: string, content: Buffer): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": content.length,
    "Content-Security-Policy": WEB_APP_CSP,
    "Cache-Control": cache,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
  });
  res.end(head ? undefined : content);
}

async function readOptional(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "EISDIR") return undefined;
    throw error;
  }
}
