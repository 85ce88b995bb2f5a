// Per-device mailboxes: every message for a device waits here until that device acknowledges it.
import type { MailboxKind } from "@momedo/protocol";
import type { Db } from "../storage/database.js";

export interface MailboxEntry {
  seq: number;
  group: string;
  kind: MailboxKind;
  sender: string;
  data: Buffer;
  at: number;
}

export const DEFAULT_MAILBOX_TTL_DAYS = 30;
/** Payloads at least this large, going to more than one device, are stored once. */
export const SHARED_PAYLOAD_BYTES = 1024;
const EMPTY = Buffer.alloc(0);

export class Mailbox {
  private readonly insertStmt;
  private readonly pageStmt;
  private readonly ackStmt;
  private readonly payloadStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      "INSERT INTO mailbox (user_id, device_id, group_id, kind, sender, data, at, payload_id, receipt_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.pageStmt = db.prepare(
      `SELECT m.seq, m.group_id AS "group", m.kind, m.sender, COALESCE(p.data, m.data) AS data, m.at
       FROM mailbox m LEFT JOIN payloads p ON p.id = m.payload_id
       WHERE m.user_id = ? AND m.device_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?`,
    );
    this.payloadStmt = db.prepare("INSERT INTO payloads (data) VALUES (?)");
    this.ackStmt = db.prepare("DELETE FROM mailbox WHERE user_id = ? AND device_id = ? AND seq <= ?");
  }

  /** Call inside a transaction; returns the entry's sequence number. */
  insert(user: string, device: string, entry: Omit<MailboxEntry, "seq">, payload?: number, receipt?: number): number {
    const data = payload === undefined ? entry.data : EMPTY;
    const info = this.insertStmt.run(user, device, entry.group, entry.kind, entry.sender, data, entry.at, payload ?? null, receipt ?? null);
    return Number(info.lastInsertRowid);
  }

  /** Stores a payload that many entries share (a Welcome to a whole class), once. */
  storePayload(data: Buffer): number {
    return Number(this.payloadStmt.run(data).lastInsertRowid);
  }

  /** Deletes shared payloads no entry refers to any more. */
  dropUnusedPayloads(): number {
    return this.db
      .prepare("DELETE FROM payloads WHERE id NOT IN (SELECT payload_id FROM mailbox WHERE payload_id IS NOT NULL)")
      .run().changes;
  }

  page(user: string, device: string, afterSeq: number, limit: number): MailboxEntry[] {
    return this.pageStmt.all(user, device, afterSeq, limit) as MailboxEntry[];
  }

  ack(user: string, device: string, upTo: number): number {
    return this.ackStmt.run(user, device, upTo).changes;
  }

  expire(olderThan: number): number {
    // Receipts whose messages expired unfetched will never complete.
    this.db.prepare("DELETE FROM receipts WHERE at < ?").run(olderThan);
    return this.db.prepare("DELETE FROM mailbox WHERE at < ?").run(olderThan).changes;
  }

  backlog(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM mailbox").get() as { n: number }).n;
  }
}
