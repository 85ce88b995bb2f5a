// JSON bodies and answers for the HTTP endpoints, with bilingual errors.
import type { IncomingMessage, ServerResponse } from "node:http";
import { bilingualMessage, isErrorCode, MomedoError, type ErrorCode } from "@momedo/protocol";

const MAX_BODY_BYTES = 16 * 1024;

const STATUS: Partial<Record<ErrorCode, number>> = {
  bad_frame: 400,
  bad_request: 400,
  frame_too_large: 413,
  invite_invalid: 404,
  invite_used: 410,
  invite_expired: 410,
  link_invalid: 404,
  rate_limited: 429,
  unknown_user: 404,
  unknown_device: 404,
  not_found: 404,
  admin_auth: 401,
  admin_login_failed: 401,
  totp_required: 401,
  csrf_failed: 403,
  setup_invalid: 403,
  password_too_short: 400,
  not_member: 403,
  blob_not_found: 404,
  blob_token_expired: 401,
  blob_token_invalid: 403,
  blob_incomplete: 409,
  blob_busy: 409,
  blob_hash_mismatch: 422,
  blob_quota_exceeded: 413,
};

export function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
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

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
  res.end(JSON.stringify(body));
}

export function sendError(res: ServerResponse, error: unknown): void {
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
