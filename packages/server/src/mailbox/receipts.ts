// "Delivered" for small chats: a message sent with a receipt waits for one fetch by each other
// person (any of their devices). When the last of them acknowledges it, the sending device gets a
// notice naming the receipt. The server learns nothing new: it sees every fetch anyway.
import type { Db } from "../storage/database.js";

/** Chats with more other people than this get no receipts (each would cost a row per person). */
export const RECEIPT_MAX_PEOPLE = 100;

export interface Delivered {
  receipt: number;
  group: string;
  /** The sending device's address. */
  sender: string;
}

export class Receipts {
  private readonly openStmt;
  private readonly waitStmt;
  private readonly pendingStmt;
  private readonly reachedStmt;
  private readonly remainingStmt;
  private readonly closeStmt;

  constructor(db: Db) {
    this.openStmt = db.prepare("INSERT INTO receipts (group_id, sender, at) VALUES (?, ?, ?)");
    this.waitStmt = db.prepare("INSERT OR IGNORE INTO receipt_waits (receipt_id, user_id) VALUES (?, ?)");
    this.pendingStmt = db.prepare(
      "SELECT DISTINCT receipt_id AS id FROM mailbox WHERE user_id = ? AND device_id = ? AND seq <= ? AND receipt_id IS NOT NULL",
    );
    this.reachedStmt = db.prepare("DELETE FROM receipt_waits WHERE receipt_id = ? AND user_id = ?");
    this.remainingStmt = db.prepare("SELECT 1 FROM receipt_waits WHERE receipt_id = ? LIMIT 1");
    this.closeStmt = db.prepare("DELETE FROM receipts WHERE id = ? RETURNING group_id AS \"group\", sender");
  }

  /** Call inside a transaction: a receipt that waits for `users`; returns its reference. */
  open(group: string, sender: string, users: string[], at: number): number {
    const id = Number(this.openStmt.run(group, sender, at).lastInsertRowid);
    for (const user of users) this.waitStmt.run(id, user);
    return id;
  }

  /**
   * Call inside a transaction, before the device's entries up to `upTo` are deleted: the
   * receipts this fetch completes.
   */
  acknowledged(user: string, device: string, upTo: number): Delivered[] {
    const done: Delivered[] = [];
    for (const { id } of this.pendingStmt.all(user, device, upTo) as { id: number }[]) {
      if (this.reachedStmt.run(id, user).changes === 0) continue;
      if (this.remainingStmt.get(id)) continue;
      const row = this.closeStmt.get(id) as { group: string; sender: string } | undefined;
      if (row) done.push({ receipt: id, group: row.group, sender: row.sender });
    }
    return done;
  }
}
