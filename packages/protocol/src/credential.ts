// A device credential binds (user, device, signature key) and carries the organisation's
// signature over exactly that binding, so colleagues are trusted without scanning QR codes.
import { ed25519 } from "@noble/curves/ed25519.js";
import { fromBase64, toBase64 } from "./base64.js";
import { isShortId } from "./ids.js";

export interface DeviceCredential {
  user: string;
  device: string;
  /** A bot's device: the organisation's signature covers the mark, so it cannot be hidden or claimed. */
  bot?: boolean;
  /** Organisation's Ed25519 signature over credentialPayload(user, device, signatureKey). */
  orgSignature: Uint8Array;
}

export function credentialPayload(user: string, device: string, signaturePublicKey: Uint8Array, bot = false): Uint8Array {
  const head = new TextEncoder().encode(`momedo-credential-v1${bot ? "-bot" : ""}\n${user}\n${device}\n`);
  const out = new Uint8Array(head.length + signaturePublicKey.length);
  out.set(head);
  out.set(signaturePublicKey, head.length);
  return out;
}

/** The MLS basic-credential identity bytes. */
export function encodeCredentialIdentity(credential: DeviceCredential): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({ u: credential.user, d: credential.device, ...(credential.bot ? { k: "bot" } : {}), s: toBase64(credential.orgSignature) }),
  );
}

export function decodeCredentialIdentity(identity: Uint8Array): DeviceCredential | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(identity)) as { u?: unknown; d?: unknown; k?: unknown; s?: unknown };
    if (typeof value.u !== "string" || typeof value.d !== "string" || typeof value.s !== "string") return undefined;
    if (!isShortId(value.u) || !isShortId(value.d)) return undefined;
    if (value.k !== undefined && value.k !== "bot") return undefined;
    return { user: value.u, device: value.d, ...(value.k === "bot" ? { bot: true } : {}), orgSignature: fromBase64(value.s) };
  } catch {
    return undefined;
  }
}

export function signCredential(
  orgSecretKey: Uint8Array,
  user: string,
  device: string,
  signaturePublicKey: Uint8Array,
  bot = false,
): DeviceCredential {
  const orgSignature = ed25519.sign(credentialPayload(user, device, signaturePublicKey, bot), orgSecretKey);
  return { user, device, ...(bot ? { bot: true } : {}), orgSignature };
}

/** True when the organisation key vouches for this identity holding this signature key. */
export function verifyCredential(
  orgPublicKey: Uint8Array,
  identity: Uint8Array,
  signaturePublicKey: Uint8Array,
): DeviceCredential | undefined {
  const credential = decodeCredentialIdentity(identity);
  if (!credential || credential.orgSignature.length !== 64) return undefined;
  const payload = credentialPayload(credential.user, credential.device, signaturePublicKey, credential.bot);
  try {
    return ed25519.verify(credential.orgSignature, payload, orgPublicKey) ? credential : undefined;
  } catch {
    return undefined;
  }
}
