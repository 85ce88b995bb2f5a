// Console sessions: a random cookie token (the database keeps its hash) and a CSRF token per
// session; and the login rate limit.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "../storage/database.js";

export const SESSION_HOURS = 8;
const HOUR = 60 * 60 * 1000;

function hashToken(token: string): string {
  return createHash("sha256").update(`momedo-admin-session-v1\n${token}`).digest("hex");
}

export interface Session {
  csrf: string;
  expiresAt: number;
}

export class AdminSessions {
  constructor(private readonly db: Db) {}

  create(now = Date.now()): { token: string; session: Session } {
    const token = randomBytes(32).toString("base64url");
    const session = { csrf: randomBytes(32).toString("base64url"), expiresAt: now + SESSION_HOURS * HOUR };
    this.db.prepare("DELETE FROM admin_sessions WHERE expires_at < ?").run(now);
    this.db
      .prepare("INSERT INTO admin_sessions (token_hash, csrf, created_at, expires_at) VALUES (?, ?, ?, ?)")
      .run(hashToken(token), session.csrf, now, session.expiresAt);
    return { token, session };
  }

  find(token: string | undefined, now = Date.now()): Session | undefined {
    if (!token) return undefined;
    const row = this.db
      .prepare("SELECT csrf, expires_at AS expiresAt FROM admin_sessions WHERE token_hash = ?")
      .get(hashToken(token)) as Session | undefined;
    return row && row.expiresAt > now ? row : undefined;
  }

  end(token: string | undefined): void {
    if (token) this.db.prepare("DELETE FROM admin_sessions WHERE token_hash = ?").run(hashToken(token));
  }
}

export function sameToken(expected: string, given: unknown): boolean {
  if (typeof given !== "string") return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Failed logins: at most `perClient` per address in `windowMs`, and `total` per minute overall. */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private recent: number[] = [];

  constructor(
    private readonly perClient = 5,
    private readonly windowMs = 15 * 60 * 1000,
    private readonly total = 20,
  ) {}

  /** Seconds to wait before this client may try again, or 0. */
  waitSeconds(client: string, now = Date.now()): number {
    this.recent = this.recent.filter((t) => t > now - 60_000);
    const mine = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    if (mine.length >= this.perClient) return Math.ceil((mine[0]! + this.windowMs - now) / 1000);
    if (this.recent.length >= this.total) return Math.ceil((this.recent[0]! + 60_000 - now) / 1000);
    return 0;
  }

  failed(client: string, now = Date.now()): void {
    const mine = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    mine.push(now);
    this.failures.set(client, mine);
    this.recent.push(now);
    if (this.failures.size > 10_000) this.failures.clear();
  }

  succeeded(client: string): void {
    this.failures.delete(client);
  }
}
