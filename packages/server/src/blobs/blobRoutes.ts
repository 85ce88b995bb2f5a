// HTTP for blob bytes: PUT (append at ?offset=N), HEAD (bytes held, to resume), GET (download).
// Each request carries a capability token from the WebSocket in `Authorization: Bearer`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { MomedoError } from "@momedo/protocol";
import type { Blobs } from "./blobs.js";

const BLOB_PATH = /^\/api\/v1\/blobs\/([0-9A-Z]{16})$/;

/** Handles the request if it is for a blob; `fail` answers errors the way every route does. */
export function handleBlobRequest(
  blobs: Blobs,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  fail: (res: ServerResponse, error: unknown) => void,
): boolean {
  const match = BLOB_PATH.exec(url.pathname);
  if (!match) return false;
  const blob = match[1]!;
  const auth = /^Bearer ([A-Za-z0-9_.-]{1,512})$/.exec(req.headers.authorization ?? "");
  const token = auth?.[1] ?? "";
  const answer = (work: () => Promise<void>) =>
    work().catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else {
        // Refused uploads: say so at once and stop reading the body.
        res.setHeader("Connection", "close");
        fail(res, error);
      }
    });

  if (req.method === "PUT") {
    answer(async () => {
      if (!auth) throw new MomedoError("blob_token_invalid");
      const received = await blobs.receive(blob, token, Number(url.searchParams.get("offset") ?? "0"), req);
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" });
      res.end(JSON.stringify({ received }));
    });
    return true;
  }
  if (req.method === "HEAD") {
    answer(async () => {
      const received = await blobs.received(blob, token);
      res.writeHead(200, { "Upload-Offset": String(received), "Cache-Control": "no-store" });
      res.end();
    });
    return true;
  }
  if (req.method === "GET") {
    answer(async () => {
      const download = await blobs.open(blob, token);
      res.writeHead(200, {
        "Content-Type": "application/octet-stream",
        "Content-Length": String(download.size),
        "Cache-Control": "no-store",
      });
      await pipeline(download.stream, res);
      await download.fetched();
    });
    return true;
  }
  return false;
}
