// The Node shell's messenger: the shared Messenger plus files on disk (upload from a path,
// download into a folder) and sockets with the server's pinned certificate.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { fromBase64, toBase64, type BlobDownloadResult, type BlobUploadResult } from "@momedo/protocol";
import { ciphertextSize, FILE_KEY_BYTES, fileInfo, type ChatMessage, type Engine, type FileLocation } from "@momedo/core";
import { downloadBlob, uploadBlob } from "./files/blobTransfer.js";
import type { PreparedFile } from "./files/prepareFile.js";
import type { ServerAddress } from "./http.js";
import { Messenger } from "./messenger.js";
import { nodeSockets } from "./nodeSockets.js";

export class NodeMessenger extends Messenger {
  constructor(
    engine: Engine,
    private readonly server: ServerAddress,
  ) {
    super(engine, nodeSockets(server));
  }

  /**
   * Encrypts and uploads a prepared file, then sends its key and description in the chat.
   * Location and capture time travel only when given.
   */
  async sendFile(to: string, file: PreparedFile, extra: { location?: FileLocation; takenAt?: number } = {}): Promise<ChatMessage> {
    const group = this.resolveChat(to);
    await this.joinChat(group, to);
    const key = new Uint8Array(randomBytes(FILE_KEY_BYTES));
    const size = ciphertextSize(file.source.size);
    let blob: string | undefined;
    const grant = async () => {
      const result = await this.conn().request<BlobUploadResult>({ t: "blob.upload", group, size, ...(blob ? { blob } : {}) });
      blob = result.blob;
      return result;
    };
    const uploaded = await uploadBlob(this.server, grant, file.source, key);
    await this.conn().request({ t: "blob.complete", blob: uploaded.blob, sha256: toBase64(uploaded.sha256) });
    return this.sendFileInfo(to, fileInfo({ blob: uploaded.blob, key, sha256: uploaded.sha256 }, { ...file, size: file.source.size }, extra));
  }

  /**
   * Fetches a received file, checks and decrypts it into `dir`; returns the path. A tampered
   * file is reported (file_tampered) and nothing is saved.
   */
  async saveFile(message: ChatMessage, dir: string): Promise<string> {
    const file = message.file;
    if (!file) throw new RangeError(`${message.id}: keine Datei / not a file`);
    const ticket = await this.conn().request<BlobDownloadResult>({ t: "blob.download", blob: file.blob });
    const target = freeName(dir, safeFileName(file.name, message.id));
    await downloadBlob(
      this.server,
      file.blob,
      ticket.token,
      { key: fromBase64(file.key), sha256: fromBase64(file.sha256), size: file.size },
      join(dir, `.${message.id}.part`),
      target,
    );
    return target;
  }
}

/** The sender's name without any path, hidden-file dot or control characters. */
function safeFileName(name: string, fallback: string): string {
  const base = (name.split(/[\\/]/).pop() ?? "").replace(/[\u0000-\u001f\u007f]/g, "").replace(/^\.+/, "").trim();
  return base.length > 0 ? base.slice(0, 200) : fallback;
}

/** `name`, or `name (2)` and so on if a file of that name exists. */
function freeName(dir: string, name: string): string {
  const dot = name.lastIndexOf(".");
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ""];
  for (let n = 1; ; n++) {
    const candidate = join(dir, n === 1 ? name : `${stem} (${n})${ext}`);
    if (!existsSync(candidate)) return candidate;
  }
}
