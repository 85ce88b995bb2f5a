// The few HTTP endpoints: enrollment, health, a landing page, and blob bytes (with a token
// granted on the WebSocket). Everything else runs over the device's authenticated WebSocket.
import type { IncomingMessage, ServerResponse } from "node:http";
import { bilingualMessage, isErrorCode, MomedoError, type ErrorCode } from "@momedo/protocol";
import { handleBlobRequest } from "../blobs/blobRoutes.js";
import type { Blobs } from "../blobs/blobs.js";

const MAX_BODY_BYTES = 16 * 1024;

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_frame: 400,
  frame_too_large: 413,
  invite_invalid: 404,
  invite_used: 410,
  invite_expired: 410,
  link_invalid: 404,
  rate_limited: 429,
  not_member: 403,
  blob_not_found: 404,
  blob_token_expired: 401,
  blob_token_invalid: 403,
  blob_incomplete: 409,
  blob_busy: 409,
  blob_hash_mismatch: 422,
  blob_quota_exceeded: 413,
};

export interface Routes {
  enroll(body: unknown): unknown;
  createLink(body: unknown): unknown;
  linkKey(id: string): unknown;
  linkPackages(id: string, after: number): unknown;
  health(): unknown;
  landing(): string;
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
  if (req.method === "GET" && (url.pathname === "/" || url.pathname === "/join")) {
    res.writeHead(200, {
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": "default-src 'none'; style-src 'self'",
    });
    res.end(routes.landing());
    return;
  }
  sendJson(res, 404, { code: "not_found", message: "Nicht gefunden / Not found" });
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Keep reading (and discarding) so the 413 answer reaches the client.
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (tooLarge) {
        reject(new MomedoError("frame_too_large"));
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        reject(new MomedoError("bad_frame", "body is not JSON"));
      }
    });
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, error: unknown): void {
  if (error instanceof MomedoError && isErrorCode(error.code)) {
    sendJson(res, STATUS[error.code] ?? 400, {
      code: error.code,
      message: bilingualMessage(error.code),
      ...(error.detail ? { detail: error.detail } : {}),
    });
    return;
  }
  console.error("http request failed", error);
  sendJson(res, 500, { code: "internal", message: bilingualMessage("internal") });
}
