// Moves encrypted files between a device and its server's blob store: encrypts while uploading
// (resuming after a broken connection), decrypts and checks while downloading. One chunk in memory.
import { open, rename, rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage, type RequestOptions } from "node:http";
import { request as httpsRequest } from "node:https";
import {
  ciphertextSize,
  FILE_CHUNK_BYTES,
  FILE_CIPHER_CHUNK_BYTES,
  FileDecryptor,
  FileEncryptor,
  FileIntegrityError,
  rechunk,
} from "@momedo/core";
import { isErrorCode, MomedoError } from "@momedo/protocol";
import { connectionError, tlsOptions, type ServerAddress } from "../http.js";
import type { FileSource } from "./prepareFile.js";

/** Attempts in a row that moved nothing before an upload gives up; any progress resets the count. */
const ATTEMPTS_WITHOUT_PROGRESS = 4;

/** A fresh upload grant (the first, or a new one to resume). */
export type UploadGrant = () => Promise<{ blob: string; token: string }>;

function blobRequest(server: ServerAddress, method: string, blob: string, token: string, query = "", headers: Record<string, string> = {}) {
  const url = new URL(`/api/v1/blobs/${blob}${query}`, server.url + "/");
  const options: RequestOptions = { method, headers: { Authorization: `Bearer ${token}`, ...headers }, ...tlsOptions(server) };
  return (url.protocol === "https:" ? httpsRequest : httpRequest)(url, options);
}

function response(req: ReturnType<typeof blobRequest>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
}

/** Turns a non-200 answer into the server's MomedoError. */
async function check(res: IncomingMessage): Promise<IncomingMessage> {
  if (res.statusCode === 200) return res;
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  let code: string | undefined;
  let detail: string | undefined;
  try {
    ({ code, detail } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { code?: string; detail?: string });
  } catch {
    // not JSON
  }
  throw code && isErrorCode(code) ? new MomedoError(code, detail) : new Error(`HTTP ${res.statusCode}`);
}

/** Bytes the server holds of an unfinished upload. */
async function held(server: ServerAddress, blob: string, token: string): Promise<number> {
  const req = blobRequest(server, "HEAD", blob, token);
  req.end();
  const res = await check(await response(req));
  res.resume();
  return Number(res.headers["upload-offset"] ?? 0);
}

/**
 * Encrypts `source` with `key` and uploads it; after a broken connection it asks the server how
 * much arrived and continues at the last whole chunk. Returns the SHA-256 of the ciphertext.
 */
export async function uploadBlob(server: ServerAddress, grant: UploadGrant, source: FileSource, key: Uint8Array): Promise<{ blob: string; sha256: Uint8Array }> {
  let { blob, token } = await grant();
  let offset = 0;
  for (let failures = 1; ; failures++) {
    try {
      return { blob, sha256: await put(server, blob, token, source, key, offset) };
    } catch (error) {
      // A broken connection is resumed; so is one the server has not noticed yet (blob_busy).
      const retriable = !(error instanceof MomedoError) || error.code === "blob_busy";
      if (!retriable || failures >= ATTEMPTS_WITHOUT_PROGRESS) throw connectionError(server.url, error as Error);
      await new Promise((r) => setTimeout(r, 200 * failures));
      ({ blob, token } = await grant());
      const resumeAt = Math.floor((await held(server, blob, token)) / FILE_CIPHER_CHUNK_BYTES) * FILE_CIPHER_CHUNK_BYTES;
      if (resumeAt > offset) failures = 0;
      offset = resumeAt;
    }
  }
}

/** Sends ciphertext from `offset` (a chunk boundary); encrypts from the start so the hash covers every chunk. */
async function put(server: ServerAddress, blob: string, token: string, source: FileSource, key: Uint8Array, offset: number): Promise<Uint8Array> {
  const size = ciphertextSize(source.size);
  const req = blobRequest(server, "PUT", blob, token, `?offset=${offset}`, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size - offset),
  });
  const answered = response(req);
  // An early answer is a refusal (quota, token): stop sending, its error is what the caller sees.
  let stopped = false;
  const closed = new Promise<void>((resolve) => req.once("close", resolve));
  answered.then(
    () => (stopped = true),
    () => (stopped = true),
  );
  const encryptor = new FileEncryptor(key, source.size);
  // A few output buffers in turn; one is reused only after the socket took its bytes.
  const slots = Array.from({ length: 4 }, () => ({ buffer: new Uint8Array(FILE_CIPHER_CHUNK_BYTES), written: Promise.resolve() }));
  let turn = 0;
  let position = 0;
  const send = async (plain: Uint8Array) => {
    const slot = slots[turn++ % slots.length]!;
    await Promise.race([slot.written, closed]);
    const sealed = encryptor.encrypt(plain, slot.buffer);
    const start = position;
    position += sealed.length;
    if (position <= offset || stopped) return;
    let flushed!: () => void;
    slot.written = new Promise<void>((resolve) => (flushed = resolve));
    if (!req.write(start < offset ? sealed.subarray(offset - start) : sealed, () => flushed())) {
      await Promise.race([new Promise((resolve) => req.once("drain", resolve)), closed]);
    }
  };
  for await (const chunk of rechunk(source.read(), FILE_CHUNK_BYTES)) {
    await send(chunk);
    if (stopped) break;
  }
  if (!stopped && !encryptor.done) await send(new Uint8Array(0));
  req.end();
  const res = await check(await answered);
  res.resume();
  return encryptor.sha256();
}

/**
 * Downloads a blob, decrypts it into `part` and renames it to `target` once every chunk
 * authenticated and the hash matched. Anything else: the part file is deleted, file_tampered.
 */
export async function downloadBlob(
  server: ServerAddress,
  blob: string,
  token: string,
  file: { key: Uint8Array; sha256: Uint8Array; size: number },
  part: string,
  target: string,
): Promise<void> {
  const req = blobRequest(server, "GET", blob, token);
  req.end();
  const res = await check(await response(req).catch((error: Error) => Promise.reject(connectionError(server.url, error))));
  const decryptor = new FileDecryptor(file.key, ciphertextSize(file.size), file.sha256);
  const plain = new Uint8Array(FILE_CHUNK_BYTES);
  const out = await open(part, "w", 0o600);
  try {
    for await (const chunk of rechunk(res, FILE_CIPHER_CHUNK_BYTES)) await out.write(decryptor.decrypt(chunk, plain));
    decryptor.finish();
    await out.sync();
  } catch (error) {
    await out.close();
    await rm(part, { force: true });
    if (error instanceof FileIntegrityError) throw new MomedoError("file_tampered", error.message);
    throw error;
  }
  await out.close();
  await rename(part, target);
}
