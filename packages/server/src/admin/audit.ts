// The audit log: one row per administrative change, from the console or the CLI.
import type { Db } from "../storage/database.js";

export type Actor = "console" | "cli";

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  detail: string;
}

export function audit(db: Db, actor: Actor, action: string, detail = "", now = Date.now()): void {
  db.prepare("INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)").run(now, actor, action, detail);
}

export function auditEntries(db: Db, limit = 200): AuditEntry[] {
  return db
    .prepare("SELECT at, actor, action, detail FROM audit_log ORDER BY id DESC LIMIT ?")
    .all(Math.max(1, Math.min(limit, 10_000))) as AuditEntry[];
}
