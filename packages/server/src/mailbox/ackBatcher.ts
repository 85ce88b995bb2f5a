// Acknowledgements only delete what a device already has, so they need not force a disk flush
// of their own: they are merged per device and ride along with the next write batch, or go out
// after a short delay. A crash can only make a device see an entry again, which it ignores.
import type { Mailbox } from "./mailbox.js";
import type { WriteQueue } from "./writeQueue.js";

const DELAY_MS = 50;

export class AckBatcher {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly queue: WriteQueue,
    private readonly mailbox: Mailbox,
  ) {
    queue.beforeCommit(() => this.drainInto());
  }

  ack(user: string, device: string, upTo: number): void {
    const key = `${user}/${device}`;
    if ((this.pending.get(key) ?? 0) < upTo) this.pending.set(key, upTo);
    this.timer ??= setTimeout(() => this.flush(), DELAY_MS);
  }

  /** Writes pending acknowledgements in a batch of their own. */
  flush(): void {
    if (this.pending.size === 0) return;
    this.queue.enqueue(() => undefined);
    this.queue.flush();
  }

  /** Before a device's mailbox is read again: write its pending acknowledgement, if any. */
  flushFor(user: string, device: string): void {
    if (this.pending.has(`${user}/${device}`)) this.flush();
  }

  private drainInto(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, upTo] of this.pending) {
      const [user, device] = key.split("/") as [string, string];
      this.mailbox.ack(user, device, upTo);
    }
    this.pending.clear();
  }
}
