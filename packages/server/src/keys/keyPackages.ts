// The key server: each device keeps one-time KeyPackages and one last-resort KeyPackage here;
// others claim one per device to add that device to a conversation.
import { MomedoError } from "@momedo/protocol";
import type { Db } from "../storage/database.js";

export const MAX_ONE_TIME_KEY_PACKAGES = 200;
export const MAX_KEY_PACKAGE_BYTES = 64 * 1024;

export class KeyPackages {
  constructor(private readonly db: Db) {}

  upload(user: string, device: string, suite: string, oneTime: Uint8Array[], lastResort?: Uint8Array): number {
    for (const kp of [...oneTime, ...(lastResort ? [lastResort] : [])]) {
      if (kp.length < 64 || kp.length > MAX_KEY_PACKAGE_BYTES) throw new MomedoError("key_package_invalid", `${kp.length} bytes`);
    }
    return this.db.transaction(() => {
      const held = (
        this.db
          .prepare("SELECT count(*) AS n FROM key_packages WHERE user_id = ? AND device_id = ? AND suite = ? AND last_resort = 0")
          .get(user, device, suite) as { n: number }
      ).n;
      if (held + oneTime.length > MAX_ONE_TIME_KEY_PACKAGES) throw new MomedoError("quota_exceeded");
      const insert = this.db.prepare(
        "INSERT INTO key_packages (user_id, device_id, suite, data, last_resort) VALUES (?, ?, ?, ?, ?)",
      );
      for (const kp of oneTime) insert.run(user, device, suite, kp, 0);
      if (lastResort) {
        this.db
          .prepare("DELETE FROM key_packages WHERE user_id = ? AND device_id = ? AND suite = ? AND last_resort = 1")
          .run(user, device, suite);
        insert.run(user, device, suite, lastResort, 1);
      }
      return held + oneTime.length;
    })();
  }

  /** One KeyPackage per active device of `user` (one-time first, else last resort), except `exceptDevice`. */
  claim(user: string, devices: string[], suite: string, exceptDevice?: string): { device: string; keyPackage: Uint8Array }[] {
    return this.db.transaction(() => {
      const out: { device: string; keyPackage: Uint8Array }[] = [];
      const pick = this.db.prepare(
        "SELECT id, data, last_resort AS lastResort FROM key_packages WHERE user_id = ? AND device_id = ? AND suite = ? ORDER BY last_resort, id LIMIT 1",
      );
      const remove = this.db.prepare("DELETE FROM key_packages WHERE id = ?");
      for (const device of devices) {
        if (device === exceptDevice) continue;
        const row = pick.get(user, device, suite) as { id: number; data: Buffer; lastResort: number } | undefined;
        if (!row) continue;
        if (row.lastResort === 0) remove.run(row.id);
        out.push({ device, keyPackage: new Uint8Array(row.data) });
      }
      return out;
    })();
  }

  count(user: string, device: string, suite: string): number {
    return (
      this.db
        .prepare("SELECT count(*) AS n FROM key_packages WHERE user_id = ? AND device_id = ? AND suite = ? AND last_resort = 0")
        .get(user, device, suite) as { n: number }
    ).n;
  }
}
