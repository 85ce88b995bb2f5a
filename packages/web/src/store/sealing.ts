// Sealing at rest: AES-256-GCM under a WebCrypto key that cannot be exported, so a script that
// reads the database (or a copy of the profile folder) gets ciphertext only. The record's name is
// the additional data: a sealed value cannot be moved to another record.
const IV_BYTES = 12;
const encoder = new TextEncoder();

export function newSealingKey(): Promise<CryptoKey> {
  return crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

export async function seal(key: CryptoKey, name: string, plain: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(name) }, key, plain as BufferSource));
  const out = new Uint8Array(IV_BYTES + sealed.length);
  out.set(iv);
  out.set(sealed, IV_BYTES);
  return out;
}

export async function unseal(key: CryptoKey, name: string, sealed: Uint8Array): Promise<Uint8Array> {
  const iv = sealed.subarray(0, IV_BYTES) as Uint8Array<ArrayBuffer>;
  const body = sealed.subarray(IV_BYTES);
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(name) }, key, body as BufferSource));
}
