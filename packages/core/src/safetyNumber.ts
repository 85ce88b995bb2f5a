// Safety numbers: two people compare one number (or scan a QR code) to check that the keys the
// MLS tree holds for each other are the keys the other person's devices really have.
//
// Construction: Signal's "NumericFingerprint" (libsignal, version 0), unchanged except for what
// it hashes. Per person, with SHA-512 from @noble/hashes:
//   h = SHA-512(version(2 bytes, 0) ‖ key ‖ ID);  5199 times: h = SHA-512(h ‖ key)
// where key = the person's device signature public keys (Ed25519, as the leaves of the MLS tree
// carry them), sorted bytewise and concatenated, and ID = the person's 8-character ID (ASCII).
// The first 30 bytes of h give 6 chunks of 5 bytes; each chunk, read big-endian, mod 100000 is a
// 5-digit group: 30 digits per person. The safety number is both people's 30 digits, the
// smaller ID's first, so both see the same 60 digits, shown as 12 groups of 5.
// Why this one: it is published and widely reviewed, the iteration makes finding a colliding
// key set costly (≈ 2^12 hashes per try on top of 100 bits), and people already know the look.
// Any added or removed device changes the person's digits: a new key is shown plainly.
import { sha512 } from "@noble/hashes/sha2.js";
import { decodeCredentialIdentity } from "@momedo/protocol";
import type { EngineStore } from "./store.js";
import { clientConfig, decodeState, vouchedCredential } from "./mls.js";

const VERSION = 0;
const ITERATIONS = 5200;
const encoder = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One person's 30 digits from their device signature keys (order does not matter). */
export function fingerprint(user: string, keys: readonly Uint8Array[]): string {
  if (keys.length === 0) throw new RangeError(`${user}: no keys`);
  const key = concat(...[...keys].sort(compareBytes));
  // 5200 hashes are a few milliseconds; a chat head asks again at every message, so remember.
  const id = `${user}:${Array.from(key, (b) => b.toString(16).padStart(2, "0")).join("")}`;
  const known = computed.get(id);
  if (known) return known;
  const digits = compute(user, key);
  if (computed.size > 1000) computed.clear();
  computed.set(id, digits);
  return digits;
}

const computed = new Map<string, string>();

function compute(user: string, key: Uint8Array): string {
  let hash = sha512(concat(new Uint8Array([VERSION >> 8, VERSION & 0xff]), key, encoder.encode(user)));
  for (let i = 1; i < ITERATIONS; i++) hash = sha512(concat(hash, key));
  let digits = "";
  for (let chunk = 0; chunk < 6; chunk++) {
    let value = 0;
    for (let i = 0; i < 5; i++) value = value * 256 + hash[chunk * 5 + i]!;
    digits += String(value % 100000).padStart(5, "0");
  }
  return digits;
}

/** The 60-digit safety number of two people: the smaller ID's digits first. */
export function safetyNumber(a: { user: string; fingerprint: string }, b: { user: string; fingerprint: string }): string {
  return a.user < b.user ? a.fingerprint + b.fingerprint : b.fingerprint + a.fingerprint;
}

/** 12 groups of 5 digits, as shown. */
export function formatSafetyNumber(digits: string): string {
  return digits.match(/\d{5}/g)?.join(" ") ?? digits;
}

/** What a QR code to scan carries: whose digits and the digits. */
export function verifyCode(user: string, fingerprint: string): string {
  return `momedo-verify:${user}:${fingerprint}`;
}

export function parseVerifyCode(text: string): { user: string; fingerprint: string } | undefined {
  const match = /^momedo-verify:([0-9A-HJKMNP-TV-Z]{8}):(\d{30})$/i.exec(text.trim());
  if (match) return { user: match[1]!.toUpperCase(), fingerprint: match[2]! };
  return undefined;
}

export interface LeafKey {
  user: string;
  device: string;
  bot: boolean;
  signaturePublicKey: Uint8Array;
  /** The organisation key signs this leaf's credential for this signature key. */
  vouched: boolean;
}

/** The leaves of a conversation's MLS tree as this device stored it, with their signature keys. */
export async function leafKeys(store: EngineStore, orgPublicKey: Uint8Array, group: string): Promise<LeafKey[]> {
  const bytes = await store.loadGroup(group);
  if (!bytes) return [];
  const state = decodeState(bytes, clientConfig(orgPublicKey));
  const leaves: LeafKey[] = [];
  for (const node of state.ratchetTree) {
    if (node?.nodeType !== "leaf" || node.leaf.credential.credentialType !== "basic") continue;
    const identity = node.leaf.credential.identity;
    const credential = decodeCredentialIdentity(identity);
    if (!credential) continue;
    const vouched = (await vouchedCredential(orgPublicKey, identity, node.leaf.signaturePublicKey)) !== undefined;
    leaves.push({ user: credential.user, device: credential.device, bot: credential.bot === true, signaturePublicKey: node.leaf.signaturePublicKey, vouched });
  }
  return leaves;
}

/** One person in a conversation: their devices' keys, whether all are org-signed, their digits. */
export interface PersonKeys {
  user: string;
  devices: string[];
  vouched: boolean;
  fingerprint: string;
}

export function personKeys(leaves: readonly LeafKey[], user: string): PersonKeys | undefined {
  const own = leaves.filter((l) => l.user === user);
  if (own.length === 0) return undefined;
  return {
    user,
    devices: own.map((l) => l.device),
    vouched: own.every((l) => l.vouched),
    fingerprint: fingerprint(user, own.map((l) => l.signaturePublicKey)),
  };
}
