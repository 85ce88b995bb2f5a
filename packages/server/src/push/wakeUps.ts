// When mail is written for a device that is not connected, its browser gets a wake-up push: at
// most one per device per interval, however many messages arrive (a class chat can be busy).
import type { PushSender } from "./pushSender.js";
import type { PushSubscriptions } from "./subscriptions.js";

export const DEFAULT_WAKE_INTERVAL_MS = 30_000;

export class WakeUps {
  /** Open connections per device address; a replaced connection signs out after its successor signs in. */
  private readonly connections = new Map<string, number>();
  private readonly lastWake = new Map<string, number>();

  constructor(
    private readonly subscriptions: Pick<PushSubscriptions, "of" | "removeIfEndpoint">,
    private readonly sender: PushSender,
    private readonly intervalMs = DEFAULT_WAKE_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  signedIn(address: string): void {
    this.connections.set(address, (this.connections.get(address) ?? 0) + 1);
  }

  signedOut(address: string): void {
    const left = (this.connections.get(address) ?? 1) - 1;
    if (left > 0) this.connections.set(address, left);
    else this.connections.delete(address);
  }

  /** Mail was written (durably) for these device addresses. */
  mail(addresses: Iterable<string>): void {
    const now = this.now();
    for (const address of new Set(addresses)) {
      if (this.connections.has(address)) continue;
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
