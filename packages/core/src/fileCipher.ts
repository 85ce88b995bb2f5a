// Streaming file encryption: the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár,
// CRYPTO 2015) exactly as age's payload format uses it: ChaCha20-Poly1305, 64 KiB plaintext
// chunks, nonce = 11-byte big-endian chunk counter ‖ last-chunk flag. One chunk in memory at a time.
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { sha256 } from "@noble/hashes/sha2.js";

export const FILE_CHUNK_BYTES = 64 * 1024;
const TAG_BYTES = 16;
export const FILE_CIPHER_CHUNK_BYTES = FILE_CHUNK_BYTES + TAG_BYTES;
export const FILE_KEY_BYTES = 32;

/** Thrown when a chunk does not authenticate, is out of place, or the stream ends early or late. */
export class FileIntegrityError extends Error {}

export function chunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / FILE_CHUNK_BYTES));
}

export function ciphertextSize(plainSize: number): number {
  return plainSize + chunkCount(plainSize) * TAG_BYTES;
}

export function plaintextSize(cipherSize: number): number {
  const chunks = Math.max(1, Math.ceil(cipherSize / FILE_CIPHER_CHUNK_BYTES));
  const plain = cipherSize - chunks * TAG_BYTES;
  if (plain < 0 || ciphertextSize(plain) !== cipherSize) throw new FileIntegrityError(`impossible ciphertext size ${cipherSize}`);
  return plain;
}

function nonce(counter: number, last: boolean): Uint8Array {
  const n = new Uint8Array(12);
  // 11-byte big-endian counter; a file never comes near 2^48 chunks, so the top bytes stay 0.
  let c = counter;
  for (let i = 10; i >= 5 && c > 0; i--) {
    n[i] = c % 256;
    c = Math.floor(c / 256);
  }
  n[11] = last ? 1 : 0;
  return n;
}

/**
 * Cuts a stream of arbitrary pieces into pieces of exactly `size` bytes; the last may be shorter
 * and is left out if empty. One buffer is reused: a piece is valid until the next is asked for.
 */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(size);
  let filled = 0;
  for await (const piece of source) {
    let used = 0;
    while (used < piece.length) {
      const n = Math.min(size - filled, piece.length - used);
      buffer.set(piece.subarray(used, used + n), filled);
      filled += n;
      used += n;
      if (filled === size) {
        yield buffer;
        filled = 0;
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled);
}

/** Encrypts a file of known size chunk by chunk; the same key and plaintext give the same ciphertext. */
export class FileEncryptor {
  private counter = 0;
  private readonly chunks: number;
  private readonly hash = sha256.create();

  constructor(
    private readonly key: Uint8Array,
    plainSize: number,
  ) {
    if (key.length !== FILE_KEY_BYTES) throw new RangeError("file key must be 32 bytes");
    this.chunks = chunkCount(plainSize);
  }

  /** Encrypts the next plaintext chunk (FILE_CHUNK_BYTES long except the last), into `output` if given. */
  encrypt(plain: Uint8Array, output?: Uint8Array): Uint8Array {
    if (this.counter >= this.chunks) throw new RangeError("more chunks than the file has");
    const last = this.counter === this.chunks - 1;
    if (!last && plain.length !== FILE_CHUNK_BYTES) throw new RangeError("only the last chunk may be short");
    const sealed = chacha20poly1305(this.key, nonce(this.counter++, last)).encrypt(plain, output?.subarray(0, plain.length + TAG_BYTES));
    this.hash.update(sealed);
    return sealed;
  }

  get done(): boolean {
    return this.counter === this.chunks;
  }

  sha256(): Uint8Array {
    if (!this.done) throw new RangeError("the file is not fully encrypted yet");
    return this.hash.digest();
  }
}

/** Decrypts and checks a file: every chunk authenticates, in order, the last one is marked, the hash matches. */
export class FileDecryptor {
  private counter = 0;
  private readonly chunks: number;
  private readonly hash = sha256.create();

  constructor(
    private readonly key: Uint8Array,
    cipherSize: number,
    private readonly expectedSha256: Uint8Array,
  ) {
    if (key.length !== FILE_KEY_BYTES) throw new FileIntegrityError("file key must be 32 bytes");
    this.chunks = chunkCount(plaintextSize(cipherSize));
  }

  /** Decrypts the next ciphertext chunk (FILE_CIPHER_CHUNK_BYTES long except the last), into `output` if given. */
  decrypt(sealed: Uint8Array, output?: Uint8Array): Uint8Array {
    if (this.counter >= this.chunks) throw new FileIntegrityError("data after the last chunk");
    const last = this.counter === this.chunks - 1;
    if (!last && sealed.length !== FILE_CIPHER_CHUNK_BYTES) throw new FileIntegrityError("short chunk before the end");
    this.hash.update(sealed);
    try {
      return chacha20poly1305(this.key, nonce(this.counter++, last)).decrypt(sealed, output?.subarray(0, Math.max(0, sealed.length - TAG_BYTES)));
    } catch {
      throw new FileIntegrityError(`chunk ${this.counter - 1} does not authenticate`);
    }
  }

  /** Call after the last chunk: throws if the file ended early or its hash differs. */
  finish(): void {
    if (this.counter !== this.chunks) throw new FileIntegrityError("the file ended early");
    const actual = this.hash.digest();
    if (actual.length !== this.expectedSha256.length || actual.some((b, i) => b !== this.expectedSha256[i])) {
      throw new FileIntegrityError("hash does not match");
    }
  }
}
