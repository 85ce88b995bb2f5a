// One-time invites. Only a hash of the code is stored, so a copy of the database enrolls nobody.
import { createHash, randomBytes } from "node:crypto";
import { crockford, MomedoError } from "@momedo/protocol";
import type { Db } from "../storage/database.js";

export const DEFAULT_INVITE_DAYS = 14;
const DAY = 24 * 60 * 60 * 1000;

function hashCode(code: string): string {
  return createHash("sha256").update(`momedo-invite-v1\n${code}`).digest("hex");
}

export class Invites {
  constructor(private readonly db: Db) {}

  create(user: string, validDays = DEFAULT_INVITE_DAYS, now = Date.now()): string {
    const code = crockford(randomBytes(10), 16);
    this.db
      .prepare("INSERT INTO invites (code_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .run(hashCode(code), user, now, now + validDays * DAY);
    return code;
  }

  /** Voids a person's invites that were never used. */
  revokeUnused(user: string): void {
    this.db.prepare("DELETE FROM invites WHERE user_id = ? AND used_at IS NULL").run(user);
  }

  /**
   * Marks the invite used and returns its person; runs inside the caller's transaction so the
   * device is registered in the same step. Throws invite_invalid / invite_used / invite_expired.
   */
  redeem(code: string, now = Date.now()): string {
    const row = this.db
      .prepare(
        "SELECT i.user_id AS user, i.expires_at AS expiresAt, i.used_at AS usedAt, u.removed_at AS removedAt FROM invites i JOIN users u ON u.id = i.user_id WHERE i.code_hash = ?",
      )
      .get(hashCode(code.toUpperCase())) as
      | { user: string; expiresAt: number; usedAt: number | null; removedAt: number | null }
      | undefined;
    if (!row || row.removedAt !== null) throw new MomedoError("invite_invalid");
    if (row.usedAt !== null) throw new MomedoError("invite_used");
    if (row.expiresAt < now) throw new MomedoError("invite_expired");
    this.db.prepare("UPDATE invites SET used_at = ? WHERE code_hash = ?").run(now, hashCode(code.toUpperCase()));
    return row.user;
  }
}
