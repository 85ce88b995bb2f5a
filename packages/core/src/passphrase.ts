// A conversation's extra passphrase becomes an MLS external PSK: scrypt stretches it (salted
// with the group ID, so one passphrase gives different keys in different conversations) and
// the PSK's ID is a hash of the key, so a wrong passphrase names a PSK nobody else has.
import { scryptAsync } from "@noble/hashes/scrypt.js";
import { sha256 } from "@noble/hashes/sha2.js";
import type { ExternalPsk } from "./mls.js";

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, dkLen: 32 };

export async function passphrasePsk(group: string, passphrase: string): Promise<ExternalPsk> {
  const normalized = passphrase.normalize("NFC");
  if (normalized.length < 4) throw new RangeError("Passwort zu kurz (mindestens 4 Zeichen) / passphrase too short (at least 4 characters)");
  const secret = await scryptAsync(new TextEncoder().encode(normalized), new TextEncoder().encode(`momedo-psk-v1\n${group}`), SCRYPT);
  const id = sha256(new Uint8Array([...new TextEncoder().encode("momedo-psk-id-v1\n"), ...secret])).slice(0, 16);
  return { id, secret };
}
