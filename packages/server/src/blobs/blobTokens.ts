// Capability tokens for the blob endpoints: HMAC-SHA-256 over (purpose, blob, device, expiry).
// Devices sign in only on the WebSocket; a token carries that authorisation to one HTTP request.
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { timingSafeEqual } from "node:crypto";
import { MomedoError } from "@momedo/protocol";

export const BLOB_TOKEN_TTL_MS = 10 * 60 * 1000;

export type BlobPurpose = "put" | "get";

export interface BlobGrant {
  purpose: BlobPurpose;
  blob: string;
  /** USER/DEVICE */
  address: string;
  expires: number;
}

function mac(key: Uint8Array, payload: string): Buffer {
  return Buffer.from(hmac(sha256, key, new TextEncoder().encode(`momedo-blob-token-v1\n${payload}`)));
}

export function signBlobToken(key: Uint8Array, grant: BlobGrant): string {
  const payload = Buffer.from(JSON.stringify([grant.purpose, grant.blob, grant.address, grant.expires])).toString("base64url");
  return `${payload}.${mac(key, payload).toString("base64url")}`;
}

/** Checks a token for one purpose and blob; throws blob_token_invalid or blob_token_expired. */
export function verifyBlobToken(key: Uint8Array, token: string, purpose: BlobPurpose, blob: string, now: number): BlobGrant {
  const [payload, signature, extra] = token.split(".");
  if (!payload || !signature || extra !== undefined) throw new MomedoError("blob_token_invalid");
  const given = Buffer.from(signature, "base64url");
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new MomedoError("blob_token_invalid");
  const [p, b, address, expires] = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as [string, string, string, number];
  if (p !== purpose || b !== blob) throw new MomedoError("blob_token_invalid", "another file or purpose");
  if (expires < now) throw new MomedoError("blob_token_expired");
  return { purpose, blob, address, expires };
}
