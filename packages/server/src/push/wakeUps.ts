// When mail is written for a device that is not connected, its browser gets a wake-up push: at
// most one per device per interval, however many messages arrive (a class chat can be busy).
// Who is connected is the hub's knowledge: it hands over only the addresses it could not reach.
import type { PushSender } from "./pushSender.js";
import type { PushSubscriptions } from "./subscriptions.js";

export const DEFAULT_WAKE_INTERVAL_MS = 30_000;

export class WakeUps {
  private readonly lastWake = new Map<string, number>();

  constructor(
    private readonly subscriptions: Pick<PushSubscriptions, "of" | "removeIfEndpoint">,
    private readonly sender: PushSender,
    private readonly intervalMs = DEFAULT_WAKE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Mail was written (durably) for these device addresses, which are not connected (the hub knows). */
  mail(addresses: readonly string[]): void {
    if (addresses.length === 0) return;
    const now = this.now();
    for (const address of new Set(addresses)) {
      const last = this.lastWake.get(address);
      if (last !== undefined && now - last < this.intervalMs) continue;
      const [user, device] = address.split("/") as [string, string];
      const subscription = this.subscriptions.of(user, device);
      if (!subscription) continue;
      this.lastWake.delete(address);
      this.lastWake.set(address, now);
      void this.sender.wake(subscription).then((outcome) => {
        if (outcome === "gone") this.subscriptions.removeIfEndpoint(user, device, subscription.endpoint);
      });
    }
    // Oldest first: forget devices whose interval has passed.
    for (const [address, last] of this.lastWake) {
      if (now - last < this.intervalMs) break;
      this.lastWake.delete(address);
    }
  }
}
