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
  rechunk,
} from "./fileCipher.js";

/** The input in uneven pieces, as a socket or a file would deliver it. */
async function* pieces(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let at = 0, step = 1; at < bytes.length; at += step, step = (step * 7919) % 100_003) yield bytes.subarray(at, at + step);
}

async function encrypt(key: Uint8Array, plain: Uint8Array) {
  const encryptor = new FileEncryptor(key, plain.length);
  const out: Uint8Array[] = [];
  const reused = new Uint8Array(FILE_CIPHER_CHUNK_BYTES);
  for await (const chunk of rechunk(pieces(plain), FILE_CHUNK_BYTES)) out.push(encryptor.encrypt(chunk, reused).slice());
  if (!encryptor.done) out.push(encryptor.encrypt(new Uint8Array(0)));
  return { chunks: out, sha256: encryptor.sha256() };
}

async function decrypt(key: Uint8Array, cipher: Uint8Array, sha: Uint8Array): Promise<Uint8Array> {
  const decryptor = new FileDecryptor(key, cipher.length, sha);
  const parts: Uint8Array[] = [];
  for await (const chunk of rechunk(pieces(cipher), FILE_CIPHER_CHUNK_BYTES)) parts.push(decryptor.decrypt(chunk).slice());
  decryptor.finish();
  return Buffer.concat(parts);
}

const concat = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));

describe("STREAM file encryption", () => {
  it("round-trips sizes around chunk boundaries, empty included", async () => {
    for (const size of [0, 1, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES]) {
      const key = randomBytes(32);
      const plain = randomBytes(size);
      const { chunks, sha256 } = await encrypt(key, plain);
      const cipher = concat(chunks);
      expect(cipher.length).toBe(ciphertextSize(size));
      expect(plaintextSize(cipher.length)).toBe(size);
      expect(Buffer.from(await decrypt(key, cipher, sha256)).equals(plain)).toBe(true);
    }
  });

  it("detects a flipped byte, a truncated file, swapped chunks and a wrong key", async () => {
    const key = randomBytes(32);
    const plain = randomBytes(3 * FILE_CHUNK_BYTES + 10);
    const { chunks, sha256 } = await encrypt(key, plain);
    const cipher = concat(chunks);

    const flipped = cipher.slice();
    flipped[FILE_CIPHER_CHUNK_BYTES + 5]! ^= 1;
    await expect(decrypt(key, flipped, sha256)).rejects.toThrow(FileIntegrityError);

    // Cut at a chunk boundary: every remaining chunk authenticates, but the last one is not marked last.
    const truncated = concat(chunks.slice(0, 3));
    await expect(decrypt(key, truncated, sha256)).rejects.toThrow(FileIntegrityError);

    const swapped = concat([chunks[1]!, chunks[0]!, chunks[2]!, chunks[3]!]);
    await expect(decrypt(key, swapped, sha256)).rejects.toThrow(FileIntegrityError);

    await expect(decrypt(randomBytes(32), cipher, sha256)).rejects.toThrow(FileIntegrityError);
    await expect(decrypt(key, cipher, randomBytes(32))).rejects.toThrow(/hash/);
  });
});
