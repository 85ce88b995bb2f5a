// "Delivered" for small chats: a message sent with a receipt waits for one fetch by each other
// person (any of their devices). When the last of them acknowledges it, the sending device gets a
// notice naming the message (by the random ID the sender gave with it). The server learns nothing
// new: it sees every fetch anyway.
import type { Db } from "../storage/database.js";

/** Chats with more other people than this get no receipts (each would cost a row per person). */
export const RECEIPT_MAX_PEOPLE = 100;

export interface Delivered {
  group: string;
  /** The sender's message ID. */
  message: string;
  /** The sending device's address. */
  sender: string;
}

/** The receipts of a device's entries up to a sequence number. */
const ACKED = "SELECT receipt_id FROM mailbox WHERE user_id = @user AND device_id = @device AND seq <= @upTo AND receipt_id IS NOT NULL";

export class Receipts {
  private readonly openStmt;
  private readonly waitStmt;
  private readonly singleStmt;
  private readonly reachedStmt;
  private readonly remainingStmt;
  private readonly closeStmt;

  constructor(db: Db) {
    this.openStmt = db.prepare("INSERT INTO receipts (group_id, sender, message, at, only_user) VALUES (?, ?, ?, ?, ?)");
    this.waitStmt = db.prepare("INSERT OR IGNORE INTO receipt_waits (receipt_id, user_id) VALUES (?, ?)");
    // The common case, a 1:1 chat: one statement per acknowledgement completes all of them.
    this.singleStmt = db.prepare(
      `DELETE FROM receipts WHERE only_user = @user AND id IN (${ACKED}) RETURNING group_id AS "group", message, sender`,
    );
    this.reachedStmt = db.prepare(`DELETE FROM receipt_waits WHERE user_id = @user AND receipt_id IN (${ACKED}) RETURNING receipt_id AS id`);
    this.remainingStmt = db.prepare("SELECT 1 FROM receipt_waits WHERE receipt_id = ? LIMIT 1");
    this.closeStmt = db.prepare('DELETE FROM receipts WHERE id = ? RETURNING group_id AS "group", message, sender');
  }

  /** Call inside a transaction: a receipt for `message` that waits for `users`; returns its row. */
  open(group: string, sender: string, message: string, users: string[], at: number): number {
    const single = users.length === 1 ? users[0]! : null;
    const id = Number(this.openStmt.run(group, sender, message, at, single).lastInsertRowid);
    if (single === null) for (const user of users) this.waitStmt.run(id, user);
    return id;
  }

  /**
   * Call inside a transaction, before the device's entries up to `upTo` are deleted: the
   * receipts this fetch completes.
   */
  acknowledged(user: string, device: string, upTo: number): Delivered[] {
    const acked = { user, device, upTo };
    const done = this.singleStmt.all(acked) as Delivered[];
    for (const { id } of this.reachedStmt.all(acked) as { id: number }[]) {
      if (this.remainingStmt.get(id)) continue;
      const row = this.closeStmt.get(id) as Delivered | undefined;
      if (row) done.push(row);
    }
    return done;
  }
}
