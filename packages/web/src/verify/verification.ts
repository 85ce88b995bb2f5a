// Personal verification of a contact: the keys the MLS tree of the 1:1 chat holds for each
// person, whether the organisation signed every one of them, the safety number, and what this
// person confirmed earlier. A confirmation is the other person's 30 digits, kept sealed in the
// store's settings under "verify:USER"; different digits now mean a changed key.
import type { EngineStore } from "@momedo/core";
// Imported by path: the core package's index does not re-export this module (yet).
import { formatSafetyNumber, leafKeys, parseVerifyCode, personKeys, safetyNumber, verifyCode, type PersonKeys } from "@momedo/core";
import type { WebClient } from "../client.js";

export type VerifyStatus = "verified" | "unverified" | "changed";

export interface Verification {
  peer: string;
  /** The other person's devices in the chat; undefined when the chat has no tree yet. */
  theirs: PersonKeys | undefined;
  mine: PersonKeys | undefined;
  /** 60 digits in 12 groups of 5. */
  number: string | undefined;
  /** What a QR code shows for this person to scan (this person's own digits). */
  ownCode: string | undefined;
  status: VerifyStatus;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const settingName = (user: string) => `verify:${user}`;

export async function verifiedFingerprint(store: EngineStore, user: string): Promise<string | undefined> {
  const bytes = await store.loadSetting(settingName(user));
  return bytes ? decoder.decode(bytes) : undefined;
}

export async function loadVerification(client: WebClient, peer: string): Promise<Verification> {
  const { engine, store } = client;
  const leaves = await leafKeys(store, engine.identity.orgKey, engine.directChat(peer));
  const theirs = personKeys(leaves, peer);
  const mine = personKeys(leaves, engine.user);
  const number = theirs && mine ? formatSafetyNumber(safetyNumber(theirs, mine)) : undefined;
  const verified = await verifiedFingerprint(store, peer);
  const status: VerifyStatus = !verified ? "unverified" : theirs && verified === theirs.fingerprint ? "verified" : theirs ? "changed" : "verified";
  return { peer, theirs, mine, number, ownCode: mine ? verifyCode(engine.user, mine.fingerprint) : undefined, status };
}

/**
 * Checks a scanned or typed code against the keys the tree holds for `peer`: the QR text
 * "momedo-verify:USER:DIGITS" of the other person, or the 60-digit safety number (spaces allowed).
 */
export function codeMatches(v: Verification, text: string): boolean {
  if (!v.theirs || !v.mine) return false;
  const scanned = parseVerifyCode(text);
  if (scanned) return scanned.user === v.peer && scanned.fingerprint === v.theirs.fingerprint;
  const digits = text.replace(/\s+/g, "");
  return /^\d{60}$/.test(digits) && digits === safetyNumber(v.theirs, v.mine);
}

export async function markVerified(store: EngineStore, v: Verification): Promise<void> {
  if (!v.theirs) throw new Error("no keys to verify");
  await store.apply({ settings: new Map([[settingName(v.peer), encoder.encode(v.theirs.fingerprint)]]) });
}

export async function forgetVerified(store: EngineStore, user: string): Promise<void> {
  await store.apply({ settings: new Map([[settingName(user), null]]) });
}
