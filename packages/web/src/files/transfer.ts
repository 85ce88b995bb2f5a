// Files in the browser: encrypt a prepared file chunk by chunk (STREAM, core's FileEncryptor),
// upload it with one fetch PUT, send its key in the chat; fetch a received file, decrypt and
// check it (FileDecryptor), and hand back a Blob. Only the shared Messenger's public API is used.
import {
  ciphertextSize,
  FILE_CHUNK_BYTES,
  FILE_CIPHER_CHUNK_BYTES,
  FILE_KEY_BYTES,
  FileDecryptor,
  FileEncryptor,
  FileIntegrityError,
  fileInfo,
  type ChatMessage,
  type EngineStore,
  type FileInfo,
  type FileLocation,
} from "@momedo/core";
import { fromBase64, isErrorCode, MomedoError, toBase64, type BlobDownloadResult, type BlobUploadResult } from "@momedo/protocol";
import type { MessageIdentity, Messenger } from "@momedo/client/browser";
import type { BrowserPreparedFile } from "./prepare.js";

/** Decrypted images up to this size are kept in the device's store, so they show after a reload. */
const CACHE_LIMIT = 8 * 1024 * 1024;

async function check(response: Response): Promise<Response> {
  if (response.ok) return response;
  const value = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
  throw value.code && isErrorCode(value.code) ? new MomedoError(value.code, value.detail) : new Error(`HTTP ${response.status}`);
}

/** Encrypts `body` into a Blob of ciphertext chunks; returns it with the ciphertext's SHA-256. */
export async function encryptBlob(body: Blob, key: Uint8Array): Promise<{ cipher: Blob; sha256: Uint8Array }> {
  const encryptor = new FileEncryptor(key, body.size);
  const parts: Uint8Array[] = [];
  for (let at = 0; !encryptor.done; at += FILE_CHUNK_BYTES) {
    const plain = new Uint8Array(await body.slice(at, at + FILE_CHUNK_BYTES).arrayBuffer());
    parts.push(encryptor.encrypt(plain).slice());
  }
  return { cipher: new Blob(parts as BlobPart[], { type: "application/octet-stream" }), sha256: encryptor.sha256() };
}

/** Decrypts and checks ciphertext; a FileIntegrityError becomes file_tampered. */
export function decryptBytes(cipher: Uint8Array, file: Pick<FileInfo, "key" | "sha256" | "size" | "mediaType">): Blob {
  try {
    if (cipher.length !== ciphertextSize(file.size)) throw new FileIntegrityError("size differs");
    const decryptor = new FileDecryptor(fromBase64(file.key), cipher.length, fromBase64(file.sha256));
    const parts: Uint8Array[] = [];
    for (let at = 0; at < cipher.length; at += FILE_CIPHER_CHUNK_BYTES) {
      parts.push(decryptor.decrypt(cipher.subarray(at, at + FILE_CIPHER_CHUNK_BYTES)).slice());
    }
    decryptor.finish();
    return new Blob(parts as BlobPart[], { type: file.mediaType });
  } catch (error) {
    if (error instanceof FileIntegrityError) throw new MomedoError("file_tampered", error.message);
    throw error;
  }
}

/** Uploads and sends a prepared file to a chat (a 1:1 chat is made on first use when `extra.to` names the person). */
export async function sendFile(
  messenger: Messenger,
  chat: string,
  file: BrowserPreparedFile,
  extra: {
    location?: FileLocation;
    takenAt?: number;
    /** The person, for a 1:1 chat not made yet. */
    to?: string;
    /** The message's ID and time, fixed by the outbox (a second try is shown once). */
    as?: MessageIdentity;
  } = {},
  store?: EngineStore,
  origin = globalThis.location.origin,
): Promise<ChatMessage> {
  const engine = messenger.engine;
  if (!(await engine.isMember(chat))) {
    // As for a text: a 1:1 chat is made on first use, a group's Welcome is waited for.
    await messenger.joinChat(chat, extra.to ?? chat);
  }
  const key = crypto.getRandomValues(new Uint8Array(FILE_KEY_BYTES));
  const { cipher, sha256 } = await encryptBlob(file.body, key);
  const grant = await messenger.request<BlobUploadResult>({ t: "blob.upload", group: chat, size: cipher.size });
  await check(
    await fetch(`${origin}/api/v1/blobs/${grant.blob}?offset=0`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${grant.token}`, "Content-Type": "application/octet-stream" },
      body: cipher,
    }),
  );
  await messenger.request({ t: "blob.complete", blob: grant.blob, sha256: toBase64(sha256) });
  const info = fileInfo({ blob: grant.blob, key, sha256 }, { ...file, size: file.body.size }, extra);
  const message = await messenger.sendFileInfo(chat, info, extra.as);
  // The sender shows its own image from here, not by fetching it back.
  if (store && file.mediaType.startsWith("image/") && file.body.size <= CACHE_LIMIT) {
    const bytes = new Uint8Array(await file.body.arrayBuffer());
    await store.apply({ settings: new Map([[cacheKey(message), bytes]]) }).catch(() => undefined);
  }
  return message;
}

const cacheKey = (message: ChatMessage) => `web:file:${message.id}`;

/**
 * The decrypted file of a message: from this device's store if kept there, otherwise fetched,
 * decrypted and checked (file_tampered if anything is wrong; nothing is shown then).
 */
export async function loadFile(messenger: Messenger, store: EngineStore, message: ChatMessage, origin = globalThis.location.origin): Promise<Blob> {
  const file = message.file;
  if (!file) throw new RangeError(`${message.id}: not a file`);
  const kept = await store.loadSetting(cacheKey(message)).catch(() => undefined);
  if (kept) return new Blob([kept as BlobPart], { type: file.mediaType });
  const ticket = await messenger.request<BlobDownloadResult>({ t: "blob.download", blob: file.blob });
  const response = await check(await fetch(`${origin}/api/v1/blobs/${file.blob}`, { headers: { Authorization: `Bearer ${ticket.token}` } }));
  const plain = decryptBytes(new Uint8Array(await response.arrayBuffer()), file);
  if (file.mediaType.startsWith("image/") && plain.size <= CACHE_LIMIT) {
    const bytes = new Uint8Array(await plain.arrayBuffer());
    await store.apply({ settings: new Map([[cacheKey(message), bytes]]) }).catch(() => undefined);
  }
  return plain;
}
