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

export class Mailbox {
  private readonly insertStmt;
  private readonly pageStmt;
  private readonly ackStmt;

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare(
      "INSERT INTO mailbox (user_id, device_id, group_id, kind, sender, data, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    );
    this.pageStmt = db.prepare(
      "SELECT seq, group_id AS \"group\", kind, sender, data, at FROM mailbox WHERE user_id = ? AND device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
    );
    this.ackStmt = db.prepare("DELETE FROM mailbox WHERE user_id = ? AND device_id = ? AND seq <= ?");
  }

  /** Call inside a transaction; returns the entry's sequence number. */
  insert(user: string, device: string, entry: Omit<MailboxEntry, "seq">): number {
    const info = this.insertStmt.run(user, device, entry.group, entry.kind, entry.sender, entry.data, entry.at);
    return Number(info.lastInsertRowid);
  }

  page(user: string, device: string, afterSeq: number, limit: number): MailboxEntry[] {
    return this.pageStmt.all(user, device, afterSeq, limit) as MailboxEntry[];
  }

  ack(user: string, device: string, upTo: number): number {
    return this.ackStmt.run(user, device, upTo).changes;
  }

  expire(olderThan: number): number {
    return this.db.prepare("DELETE FROM mailbox WHERE at < ?").run(olderThan).changes;
  }

  backlog(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM mailbox").get() as { n: number }).n;
  }
}
