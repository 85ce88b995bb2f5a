// Rendezvous for linking a new device: the new device leaves its public key here, the person's
// existing device leaves sealed packages for it. The server cannot open them.
import { randomBytes } from "node:crypto";
import { crockford, MomedoError } from "@momedo/protocol";
import type { Db } from "../storage/database.js";

const LINK_TTL_MS = 15 * 60 * 1000;
const MAX_OPEN_LINKS = 10_000;
const MAX_PACKAGES = 8;

export class Links {
  constructor(private readonly db: Db) {}

  create(publicKey: Uint8Array, now = Date.now()): string {
    if (publicKey.length !== 32) throw new MomedoError("bad_frame", "link key must be 32 bytes (X25519)");
    this.db.prepare("DELETE FROM links WHERE expires_at < ?").run(now);
    const open = (this.db.prepare("SELECT count(*) AS n FROM links").get() as { n: number }).n;
    if (open >= MAX_OPEN_LINKS) throw new MomedoError("rate_limited");
    const id = crockford(randomBytes(5), 8);
    this.db.prepare("INSERT INTO links (id, public_key, created_at, expires_at) VALUES (?, ?, ?, ?)").run(id, publicKey, now, now + LINK_TTL_MS);
    return id;
  }

  publicKey(id: string, now = Date.now()): Uint8Array {
    const row = this.db.prepare("SELECT public_key AS key FROM links WHERE id = ? AND expires_at >= ?").get(id, now) as
      | { key: Buffer }
      | undefined;
    if (!row) throw new MomedoError("link_invalid", id);
    return new Uint8Array(row.key);
  }

  deliver(id: string, data: Uint8Array, now = Date.now()): number {
    this.publicKey(id, now);
    return this.db.transaction(() => {
      const n = (this.db.prepare("SELECT count(*) AS n FROM link_packages WHERE link_id = ?").get(id) as { n: number }).n;
      if (n >= MAX_PACKAGES) throw new MomedoError("rate_limited");
      this.db.prepare("INSERT INTO link_packages (link_id, n, data) VALUES (?, ?, ?)").run(id, n + 1, data);
      return n + 1;
    })();
  }

  packages(id: string, after: number, now = Date.now()): { n: number; data: string }[] {
    this.publicKey(id, now);
    return (
      this.db.prepare("SELECT n, data FROM link_packages WHERE link_id = ? AND n > ? ORDER BY n").all(id, after) as {
        n: number;
        data: Buffer;
      }[]
    ).map((r) => ({ n: r.n, data: r.data.toString("base64") }));
  }
}
