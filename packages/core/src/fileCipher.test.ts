import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  ciphertextSize,
  FILE_CHUNK_BYTES,
  FILE_CIPHER_CHUNK_BYTES,
  FileDecryptor,
  FileEncryptor,
  FileIntegrityError,
  plaintextSize,
  Rechunker,
} from "./fileCipher.js";

function encrypt(key: Uint8Array, plain: Uint8Array) {
  const encryptor = new FileEncryptor(key, plain.length);
  const rechunk = new Rechunker(FILE_CHUNK_BYTES);
  const out: Uint8Array[] = rechunk.push(plain).map((c) => encryptor.encrypt(c));
  if (!encryptor.done) out.push(encryptor.encrypt(rechunk.end()));
  return { chunks: out, sha256: encryptor.sha256() };
}

function decrypt(key: Uint8Array, cipher: Uint8Array, sha: Uint8Array): Uint8Array {
  const decryptor = new FileDecryptor(key, cipher.length, sha);
  const rechunk = new Rechunker(FILE_CIPHER_CHUNK_BYTES);
  const parts = rechunk.push(cipher).map((c) => decryptor.decrypt(c));
  const rest = rechunk.end();
  if (rest.length > 0) parts.push(decryptor.decrypt(rest));
  decryptor.finish();
  return Buffer.concat(parts);
}

const concat = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));

describe("STREAM file encryption", () => {
  it("round-trips sizes around chunk boundaries, empty included", () => {
    for (const size of [0, 1, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES]) {
      const key = randomBytes(32);
      const plain = randomBytes(size);
      const { chunks, sha256 } = encrypt(key, plain);
      const cipher = concat(chunks);
      expect(cipher.length).toBe(ciphertextSize(size));
      expect(plaintextSize(cipher.length)).toBe(size);
      expect(Buffer.from(decrypt(key, cipher, sha256)).equals(plain)).toBe(true);
    }
  });

  it("detects a flipped byte, a truncated file, swapped chunks and a wrong key", () => {
    const key = randomBytes(32);
    const plain = randomBytes(3 * FILE_CHUNK_BYTES + 10);
    const { chunks, sha256 } = encrypt(key, plain);
    const cipher = concat(chunks);

    const flipped = cipher.slice();
    flipped[FILE_CIPHER_CHUNK_BYTES + 5]! ^= 1;
    expect(() => decrypt(key, flipped, sha256)).toThrow(FileIntegrityError);

    // Cut at a chunk boundary: every remaining chunk authenticates, but the last one is not marked last.
    const truncated = concat(chunks.slice(0, 3));
    expect(() => decrypt(key, truncated, sha256)).toThrow(FileIntegrityError);

    const swapped = concat([chunks[1]!, chunks[0]!, chunks[2]!, chunks[3]!]);
    expect(() => decrypt(key, swapped, sha256)).toThrow(FileIntegrityError);

    expect(() => decrypt(randomBytes(32), cipher, sha256)).toThrow(FileIntegrityError);
    expect(() => decrypt(key, cipher, randomBytes(32))).toThrow(/hash/);
  });
});
