// Linking a new device: the new device shows a code that names its link and binds its public
// key; the person's existing device seals packages to that key with HPKE (RFC 9180, base mode,
// X25519/HKDF-SHA256/AES-128-GCM via @hpke/core). The server only relays sealed bytes.
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { sha256 } from "@noble/hashes/sha2.js";
import { crockford } from "@momedo/protocol";
import type { ChatMessage } from "./store.js";

const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() });
const INFO = new TextEncoder().encode("momedo-link-v1");

export type LinkPackage =
  | { type: "invite"; code: string; name: string }
  | { type: "history"; messages: ChatMessage[] };

export interface LinkKeys {
  publicKey: Uint8Array;
  open(sealed: Uint8Array): Promise<LinkPackage>;
}

export async function newLinkKeys(): Promise<LinkKeys> {
  const pair = await suite.kem.generateKeyPair();
  const publicKey = new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey));
  return {
    publicKey,
    async open(sealed) {
      const encLength = (sealed[0]! << 8) | sealed[1]!;
      const enc = sealed.slice(2, 2 + encLength);
      const ct = sealed.slice(2 + encLength);
      const plain = await suite.open({ recipientKey: pair, enc, info: INFO }, ct);
      return JSON.parse(new TextDecoder().decode(plain)) as LinkPackage;
    },
  };
}

export async function sealLinkPackage(publicKey: Uint8Array, pkg: LinkPackage): Promise<Uint8Array> {
  const recipientPublicKey = await suite.kem.deserializePublicKey(publicKey);
  const plain = new TextEncoder().encode(JSON.stringify(pkg));
  const { enc, ct } = await suite.seal({ recipientPublicKey, info: INFO }, plain);
  const encBytes = new Uint8Array(enc);
  const out = new Uint8Array(2 + encBytes.length + ct.byteLength);
  out[0] = encBytes.length >> 8;
  out[1] = encBytes.length & 0xff;
  out.set(encBytes, 2);
  out.set(new Uint8Array(ct), 2 + encBytes.length);
  return out;
}

function keyHash(publicKey: Uint8Array): string {
  return crockford(sha256(publicKey), 16);
}

/** The code shown on the new device: link ID and 80 bits of its key's hash. */
export function linkCode(link: string, publicKey: Uint8Array): string {
  return `${link}-${keyHash(publicKey)}`;
}

export function parseLinkCode(code: string): { link: string; hash: string } {
  const match = /^([0-9A-HJKMNP-TV-Z]{8})-([0-9A-HJKMNP-TV-Z]{16})$/.exec(code.trim().toUpperCase());
  if (!match) throw new RangeError(`${code}: kein Verknüpfungscode / not a link code`);
  return { link: match[1]!, hash: match[2]! };
}

/** True when the key the server hands out is the one the code on the new device names. */
export function linkKeyMatches(code: string, publicKey: Uint8Array): boolean {
  return parseLinkCode(code).hash === keyHash(publicKey);
}
