// Participants and their devices. A person has a short random ID and no phone number or e-mail.
import { randomBytes } from "node:crypto";
import { crockford, MomedoError } from "@momedo/protocol";
import type { Db } from "../storage/database.js";
import { parseClass, type PersonRole } from "./directory.js";

export interface Person {
  id: string;
  name: string;
  role: PersonRole;
  class: string;
  createdAt: number;
  devices: DeviceInfo[];
}

export interface DeviceInfo {
  id: string;
  createdAt: number;
  lastSeen: number | null;
  revoked: boolean;
}

export const MAX_NAME_LENGTH = 100;

export function newShortId(): string {
  return crockford(randomBytes(5), 8);
}

/** Inserts with a new random ID, drawing again in the rare case it is taken. */
function withFreshId(insert: (id: string) => unknown): string {
  for (;;) {
    const id = newShortId();
    try {
      insert(id);
      return id;
    } catch (error) {
      if (!String(error).includes("UNIQUE")) throw error;
    }
  }
}

/** A display name: 1 to 100 printable characters; throws RangeError. */
export function checkName(name: string): string {
  const clean = name.trim();
  if (!clean) throw new RangeError("Name fehlt / name missing");
  if (clean.length > MAX_NAME_LENGTH || /[\u0000-\u001f]/.test(clean)) {
    throw new RangeError(
      `Name: 1 bis ${MAX_NAME_LENGTH} druckbare Zeichen / name must be 1 to ${MAX_NAME_LENGTH} printable characters`,
    );
  }
  return clean;
}

export class People {
  constructor(private readonly db: Db) {}

  add(name: string, role: PersonRole = "member", klass = "", now = Date.now()): string {
    const clean = checkName(name);
    const insert = this.db.prepare("INSERT INTO users (id, name, role, class, created_at) VALUES (?, ?, ?, ?, ?)");
    return withFreshId((id) => insert.run(id, clean, role, parseClass(klass), now));
  }

  /** Changes a person's display name; returns the name as stored. */
  rename(user: string, name: string): string {
    let clean: string;
    try {
      clean = checkName(name);
    } catch (error) {
      throw new MomedoError("bad_request", (error as Error).message);
    }
    const changed = this.db.prepare("UPDATE users SET name = ? WHERE id = ? AND removed_at IS NULL").run(clean, user).changes;
    if (changed === 0) throw new MomedoError("unknown_user", user);
    return clean;
  }

  exists(user: string): boolean {
    return this.db.prepare("SELECT 1 FROM users WHERE id = ? AND removed_at IS NULL").get(user) !== undefined;
  }

  name(user: string): string | undefined {
    return (this.db.prepare("SELECT name FROM users WHERE id = ?").get(user) as { name: string } | undefined)?.name;
  }

  list(): Person[] {
    const users = this.db
      .prepare("SELECT id, name, role, class, created_at AS createdAt FROM users WHERE removed_at IS NULL ORDER BY name, id")
      .all() as Omit<Person, "devices">[];
    return users.map((u) => ({ ...u, devices: this.devicesOf(u.id) }));
  }


  devicesOf(user: string): DeviceInfo[] {
    return (
      this.db
        .prepare(
          "SELECT id, created_at AS createdAt, last_seen AS lastSeen, revoked_at IS NOT NULL AS revoked FROM devices WHERE user_id = ? ORDER BY created_at",
        )
        .all(user) as (Omit<DeviceInfo, "revoked"> & { revoked: number })[]
    ).map((d) => ({ ...d, revoked: d.revoked === 1 }));
  }

  /** Removes a person: revokes every device, deletes their keys, invites and mailboxes. */
  remove(user: string, now = Date.now()): void {
    if (!this.exists(user)) throw new MomedoError("unknown_user", user);
    this.db.transaction(() => {
      this.db.prepare("UPDATE users SET removed_at = ? WHERE id = ?").run(now, user);
      this.db.prepare("UPDATE devices SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL").run(now, user);
      this.db.prepare("DELETE FROM key_packages WHERE user_id = ?").run(user);
      this.db.prepare("DELETE FROM invites WHERE user_id = ?").run(user);
      this.db.prepare("DELETE FROM mailbox WHERE user_id = ?").run(user);
    })();
  }

  /** Revokes one device and deletes what the server kept for it. */
  revokeDevice(user: string, device: string, now = Date.now()): void {
    this.db.transaction(() => {
      const changed = this.db
        .prepare("UPDATE devices SET revoked_at = ? WHERE user_id = ? AND id = ? AND revoked_at IS NULL")
        .run(now, user, device).changes;
      if (changed === 0) throw new MomedoError("unknown_device", `${user}/${device}`);
      this.db.prepare("DELETE FROM key_packages WHERE user_id = ? AND device_id = ?").run(user, device);
      this.db.prepare("DELETE FROM mailbox WHERE user_id = ? AND device_id = ?").run(user, device);
    })();
  }

  addDevice(user: string, signatureKey: Uint8Array, now = Date.now()): string {
    const insert = this.db.prepare("INSERT INTO devices (user_id, id, signature_key, created_at) VALUES (?, ?, ?, ?)");
    return withFreshId((id) => insert.run(user, id, signatureKey, now));
  }

  /** The signature key of an active device, or undefined if unknown or revoked. */
  deviceKey(user: string, device: string): Uint8Array | undefined {
    const row = this.db
      .prepare("SELECT signature_key AS key FROM devices WHERE user_id = ? AND id = ? AND revoked_at IS NULL")
      .get(user, device) as { key: Buffer } | undefined;
    return row ? new Uint8Array(row.key) : undefined;
  }

  activeDevices(user: string): string[] {
    return (
      this.db.prepare("SELECT id FROM devices WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at").all(user) as {
        id: string;
      }[]
    ).map((r) => r.id);
  }

  revokedSince(since: number): { user: string; device: string }[] {
    return this.db
      .prepare("SELECT user_id AS user, id AS device FROM devices WHERE revoked_at >= ?")
      .all(since) as { user: string; device: string }[];
  }

  touch(user: string, device: string, now = Date.now()): void {
    this.db.prepare("UPDATE devices SET last_seen = ? WHERE user_id = ? AND id = ?").run(now, user, device);
  }
}
