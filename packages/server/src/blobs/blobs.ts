// Encrypted files in transit: reservations with quotas, resumable uploads, the completion check
// (size and hash), download tickets for members only, and deletion once every recipient device
// has fetched a blob or it expired. The server only ever sees ciphertext.
import { randomBytes } from "node:crypto";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { sha256 } from "@noble/hashes/sha2.js";
import { crockford, MomedoError, type BlobDownloadResult, type BlobUploadResult } from "@momedo/protocol";
import { getMeta, setMeta, type Db } from "../storage/database.js";
import type { BlobStore } from "./blobStore.js";
import { BLOB_TOKEN_TTL_MS, signBlobToken, verifyBlobToken, type BlobPurpose } from "./blobTokens.js";

export interface BlobLimits {
  userQuotaBytes: number;
  serverQuotaBytes: number;
  /** A finished blob is deleted this long after its upload began, fetched or not. */
  ttlMs: number;
  /** An unfinished upload without progress for this long is deleted. */
  resumeMs: number;
}

interface BlobRow {
  id: string;
  group_id: string;
  user_id: string;
  device_id: string;
  size: number;
  complete: number;
  expires_at: number;
}

/** What blobs need to know of conversations (the delivery service). */
export interface Conversations {
  /** Device addresses (USER/DEVICE) that receive a group's messages now; undefined for an unknown group. */
  activeMembers(group: string): string[] | undefined;
  /** Throws not_member or policy_denied unless the device may post in the group. */
  checkPost(sender: string, group: string): void;
}

export class Blobs {
  private readonly key: Uint8Array;
  /** Blobs with an upload or a completion check running: one at a time per blob. */
  private readonly busy = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly store: BlobStore,
    private readonly conversations: Conversations,
    private readonly limits: BlobLimits,
    private readonly now: () => number = Date.now,
  ) {
    // Kept in the database so tokens survive a restart and an upload can resume after one.
    let key = getMeta(db, "blob_token_key");
    if (!key) {
      key = randomBytes(32).toString("base64");
      setMeta(db, "blob_token_key", key);
    }
    this.key = Buffer.from(key, "base64");
  }

  /** Reserves room for `size` ciphertext bytes in `group` (or resumes `resume`) and grants the upload. */
  async reserve(address: string, group: string, size: number, resume?: string): Promise<BlobUploadResult> {
    this.conversations.checkPost(address, group);
    const [user, device] = address.split("/") as [string, string];
    const now = this.now();
    if (resume) {
      const row = this.row(resume);
      if (!row || row.complete || `${row.user_id}/${row.device_id}` !== address || row.group_id !== group || row.size !== size) {
        throw new MomedoError("blob_not_found", resume);
      }
      this.db.prepare("UPDATE blobs SET touched_at = ? WHERE id = ?").run(now, resume);
      return { blob: resume, token: this.token("put", resume, address), received: await this.store.partialSize(resume) };
    }
    const mine = this.db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM blobs WHERE user_id = ?").get(user) as { n: number };
    if (mine.n + size > this.limits.userQuotaBytes) {
      throw new MomedoError("blob_quota_exceeded", `${mine.n + size} > ${this.limits.userQuotaBytes} bytes (person)`);
    }
    const all = this.db.prepare("SELECT COALESCE(SUM(size), 0) AS n FROM blobs").get() as { n: number };
    if (all.n + size > this.limits.serverQuotaBytes) {
      throw new MomedoError("blob_quota_exceeded", `${all.n + size} > ${this.limits.serverQuotaBytes} bytes (server)`);
    }
    const id = crockford(randomBytes(10), 16);
    this.db
      .prepare(
        "INSERT INTO blobs (id, group_id, user_id, device_id, size, complete, created_at, touched_at, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
      )
      .run(id, group, user, device, size, now, now, now + this.limits.ttlMs);
    return { blob: id, token: this.token("put", id, address), received: 0 };
  }

  /** Bytes received so far, for a client resuming an upload. */
  async received(blob: string, token: string): Promise<number> {
    this.upload(blob, token);
    return this.store.partialSize(blob);
  }

  /** Appends an HTTP body to an unfinished upload at `offset`; resolves with the bytes now held. */
  async receive(blob: string, token: string, offset: number, body: Readable): Promise<number> {
    const row = this.upload(blob, token);
    const held = await this.store.partialSize(blob);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > held) throw new MomedoError("blob_incomplete", `resume at ${held} or before`);
    if (this.busy.has(blob)) throw new MomedoError("blob_busy");
    this.busy.add(blob);
    try {
      let total = offset;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          total += chunk.length;
          done(total > row.size ? new MomedoError("frame_too_large", `more than the ${row.size} bytes announced`) : null, chunk);
        },
      });
      try {
        await pipeline(body, limit, await this.store.writePartial(blob, offset));
      } finally {
        // Whatever arrived stays, so the client can resume after a broken connection.
        this.db.prepare("UPDATE blobs SET touched_at = ? WHERE id = ?").run(this.now(), blob);
      }
      return await this.store.partialSize(blob);
    } finally {
      this.busy.delete(blob);
    }
  }

  /** Checks size and hash of a finished upload; then it can be fetched by the group's other devices. */
  async complete(address: string, blob: string, expected: Uint8Array): Promise<{ blob: string; size: number }> {
    const row = this.row(blob);
    if (!row || `${row.user_id}/${row.device_id}` !== address) throw new MomedoError("blob_not_found", blob);
    if (row.complete) return { blob, size: row.size };
    const members = this.conversations.activeMembers(row.group_id);
    if (!members?.includes(address)) throw new MomedoError("not_member", row.group_id);
    if (this.busy.has(blob)) throw new MomedoError("blob_busy");
    this.busy.add(blob);
    try {
      const held = await this.store.partialSize(blob);
      if (held !== row.size) throw new MomedoError("blob_incomplete", `${held} of ${row.size} bytes`);
      const hash = sha256.create();
      for await (const piece of this.store.readPartial(blob)) hash.update(piece);
      if (!Buffer.from(hash.digest()).equals(Buffer.from(expected))) {
        await this.remove(blob);
        throw new MomedoError("blob_hash_mismatch");
      }
      const recipients = members.filter((m) => m !== address);
      await this.store.commit(blob);
      this.db.transaction(() => {
        this.db.prepare("UPDATE blobs SET complete = 1 WHERE id = ?").run(blob);
        const insert = this.db.prepare("INSERT INTO blob_recipients (blob_id, address) VALUES (?, ?)");
        for (const r of recipients) insert.run(blob, r);
      })();
      return { blob, size: row.size };
    } finally {
      this.busy.delete(blob);
    }
  }

  /** A download token for a device that is a member of the blob's conversation now. */
  ticket(address: string, blob: string): BlobDownloadResult {
    const row = this.fetchable(blob);
    if (!this.conversations.activeMembers(row.group_id)?.includes(address)) throw new MomedoError("not_member", row.group_id);
    return { blob, token: this.token("get", blob, address), size: row.size };
  }

  /** The ciphertext for a download; call `fetched` once it was sent completely. */
  async open(blob: string, token: string): Promise<{ size: number; stream: Readable; fetched: () => Promise<void> }> {
    const grant = verifyBlobToken(this.key, token, "get", blob, this.now());
    const row = this.fetchable(blob);
    const stream = await this.store.read(blob);
    // A database restored from a backup names blobs whose bytes were never backed up.
    if (!stream) throw new MomedoError("blob_not_found", blob);
    return { size: row.size, stream, fetched: () => this.fetched(blob, grant.address) };
  }

  /** Deletes expired blobs and abandoned uploads. */
  async sweep(): Promise<number> {
    const now = this.now();
    const stale = this.db
      .prepare("SELECT id FROM blobs WHERE expires_at < ? OR (complete = 0 AND touched_at < ?)")
      .all(now, now - this.limits.resumeMs) as { id: string }[];
    for (const { id } of stale) if (!this.busy.has(id)) await this.remove(id);
    return stale.length;
  }

  private async fetched(blob: string, address: string): Promise<void> {
    this.db.prepare("UPDATE blob_recipients SET fetched_at = ? WHERE blob_id = ? AND address = ? AND fetched_at IS NULL").run(this.now(), blob, address);
    const waiting = this.db.prepare("SELECT COUNT(*) AS n FROM blob_recipients WHERE blob_id = ? AND fetched_at IS NULL").get(blob) as { n: number };
    if (waiting.n === 0) await this.remove(blob);
  }

  private async remove(blob: string): Promise<void> {
    // The row goes first: a blob without a row is never served, a row without bytes would be.
    this.db.prepare("DELETE FROM blobs WHERE id = ?").run(blob);
    await this.store.remove(blob);
  }

  private upload(blob: string, token: string): BlobRow {
    verifyBlobToken(this.key, token, "put", blob, this.now());
    const row = this.row(blob);
    if (!row || row.complete) throw new MomedoError("blob_not_found", blob);
    return row;
  }

  private fetchable(blob: string): BlobRow {
    const row = this.row(blob);
    if (!row || row.expires_at < this.now()) throw new MomedoError("blob_not_found", blob);
    if (!row.complete) throw new MomedoError("blob_incomplete");
    return row;
  }

  private row(blob: string): BlobRow | undefined {
    return this.db.prepare("SELECT * FROM blobs WHERE id = ?").get(blob) as BlobRow | undefined;
  }

  private token(purpose: BlobPurpose, blob: string, address: string): string {
    return signBlobToken(this.key, { purpose, blob, address, expires: this.now() + BLOB_TOKEN_TTL_MS });
  }
}
