// Acknowledgements only delete what a device already has, so they need not force a disk flush
// of their own: they are merged per device and ride along with the next write batch, or go out
// after a short delay. A crash can only make a device see an entry again, which it ignores.
import type { Mailbox } from "./mailbox.js";
import type { WriteQueue } from "./writeQueue.js";

const DELAY_MS = 50;

export class AckBatcher {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  /**
   * `acknowledged` runs inside the batch before a device's entries are deleted; what it returns
   * runs once the batch is durable (the "delivered" notices it wrote go out then).
   */
  constructor(
    private readonly queue: WriteQueue,
    private readonly mailbox: Mailbox,
    private readonly acknowledged?: (user: string, device: string, upTo: number) => (() => void) | void,
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

  private drainInto(): (() => void) | void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const afters: (() => void)[] = [];
    for (const [key, upTo] of this.pending) {
      const [user, device] = key.split("/") as [string, string];
      const after = this.acknowledged?.(user, device, upTo);
      if (after) afters.push(after);
      this.mailbox.ack(user, device, upTo);
    }
    this.pending.clear();
    if (afters.length > 0) return () => afters.forEach((after) => after());
  }
}
