// The few HTTP endpoints: enrollment, linking, health, blob bytes (with a token granted on the
// WebSocket), the admin console and the web app (every path outside /api and /admin). Everything
// else runs over the device's authenticated WebSocket.
import type { IncomingMessage, ServerResponse } from "node:http";
import { handleBlobRequest } from "../blobs/blobRoutes.js";
import type { Blobs } from "../blobs/blobs.js";
import { readJson, sendError, sendJson } from "./json.js";
import { webApp } from "./webApp.js";

const serveWebApp = webApp();

export interface Routes {
  enroll(body: unknown): unknown;
  createLink(body: unknown): unknown;
  linkKey(id: string): unknown;
  linkPackages(id: string, after: number): unknown;
  health(): unknown;
  /** The VAPID public key browsers subscribe to Web Push with. */
  pushKey(): unknown;
  /** The admin console and its API under /admin. */
  admin(req: IncomingMessage, res: ServerResponse, url: URL): void;
  blobs: Blobs;
}

export function handleHttp(routes: Routes, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://local");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  if (req.method === "POST" && url.pathname === "/api/v1/enroll") {
    readJson(req)
      .then((body) => sendJson(res, 200, routes.enroll(body)))
      .catch((error) => sendError(res, error));
    return;
  }
  if (req.method === "POST" && url.pathname === "/api/v1/links") {
    readJson(req)
      .then((body) => sendJson(res, 200, routes.createLink(body)))
      .catch((error) => sendError(res, error));
    return;
  }
  const link = /^\/api\/v1\/links\/([0-9A-HJKMNP-TV-Z]{8})(\/packages)?$/.exec(url.pathname);
  if (req.method === "GET" && link) {
    try {
      const after = Number(url.searchParams.get("after") ?? "0");
      sendJson(res, 200, link[2] ? routes.linkPackages(link[1]!, Number.isInteger(after) ? after : 0) : routes.linkKey(link[1]!));
    } catch (error) {
      sendError(res, error);
    }
    return;
  }
  if (handleBlobRequest(routes.blobs, req, res, url, sendError)) return;
  if (req.method === "GET" && url.pathname === "/api/v1/health") {
    sendJson(res, 200, routes.health());
    return;
  }
  if (req.method === "GET" && url.pathname === "/api/v1/push/key") {
    sendJson(res, 200, routes.pushKey());
    return;
  }
  if (url.pathname === "/admin" || url.pathname.startsWith("/admin/")) {
    routes.admin(req, res, url);
    return;
  }
  if (url.pathname !== "/api" && !url.pathname.startsWith("/api/")) {
    serveWebApp(req, res, url);
    return;
  }
  sendJson(res, 404, { code: "not_found", message: "Nicht gefunden / Not found" });
}

