// The push subscriptions of devices: one per device, replaced when the browser subscribes again.
import type { Db } from "../storage/database.js";
import type { PushSubscription } from "./pushSender.js";

export class PushSubscriptions {
  /** Devices with a subscription, so mail for the many without one costs no query. */
  private readonly subscribed: Set<string>;

  constructor(private readonly db: Db) {
    const rows = db.prepare("SELECT user_id AS user, device_id AS device FROM push_subscriptions").all() as { user: string; device: string }[];
    this.subscribed = new Set(rows.map((r) => `${r.user}/${r.device}`));
  }

  save(user: string, device: string, subscription: PushSubscription): void {
    this.db
      .prepare(
        `INSERT INTO push_subscriptions (user_id, device_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, device_id) DO UPDATE SET endpoint = excluded.endpoint, p256dh = excluded.p256dh,
           auth = excluded.auth, created_at = excluded.created_at`,
      )
      .run(user, device, subscription.endpoint, subscription.p256dh, subscription.auth, Date.now());
    this.subscribed.add(`${user}/${device}`);
  }

  of(user: string, device: string): PushSubscription | undefined {
    if (!this.subscribed.has(`${user}/${device}`)) return undefined;
    return this.db
      .prepare("SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE user_id = ? AND device_id = ?")
      .get(user, device) as PushSubscription | undefined;
  }

  remove(user: string, device: string): void {
    this.db.prepare("DELETE FROM push_subscriptions WHERE user_id = ? AND device_id = ?").run(user, device);
    this.subscribed.delete(`${user}/${device}`);
  }

  /** Drops the subscription only if it is still this one (the browser may have subscribed anew). */
  removeIfEndpoint(user: string, device: string, endpoint: string): void {
    const { changes } = this.db
      .prepare("DELETE FROM push_subscriptions WHERE user_id = ? AND device_id = ? AND endpoint = ?")
      .run(user, device, endpoint);
    if (changes > 0) this.subscribed.delete(`${user}/${device}`);
  }
}
