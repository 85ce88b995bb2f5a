// Group commit: writes that arrive in the same event-loop turn share one SQLite transaction,
// so one fsync covers many messages. Nothing is acknowledged or pushed before it is on disk.
import type { Db } from "../storage/database.js";

const MAX_BATCH = 4096;
/** Under load (the last batch was just written), wait this long so more writes share one fsync. */
const BUSY_DELAY_MS = 1;

export class WriteQueue {
  private writes: (() => void)[] = [];
  private afters: (() => void)[] = [];
  private scheduled = false;
  private lastFlush = 0;
  private readonly hooks: (() => (() => void) | void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly onFatal: (error: unknown) => void,
  ) {}

  /** `hook` runs inside every batch's transaction, before its writes; what it returns runs once the batch is durable. */
  beforeCommit(hook: () => (() => void) | void): void {
    this.hooks.push(hook);
  }

  /** `write` runs inside the batch's transaction; `after` runs once the batch is durable. */
  enqueue(write: () => void, after?: () => void): void {
    this.writes.push(write);
    if (after) this.afters.push(after);
    if (this.writes.length >= MAX_BATCH) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      if (performance.now() - this.lastFlush < BUSY_DELAY_MS) setTimeout(() => this.flush(), BUSY_DELAY_MS);
      else setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.scheduled = false;
    if (this.writes.length === 0) return;
    this.lastFlush = performance.now();
    const writes = this.writes;
    const afters = this.afters;
    this.writes = [];
    this.afters = [];
    const hookAfters: (() => void)[] = [];
    try {
      this.db.transaction(() => {
        for (const hook of this.hooks) {
          const after = hook();
          if (after) hookAfters.push(after);
        }
        for (const write of writes) write();
      })();
    } catch (error) {
      // The disk refused a write: stop rather than acknowledge what is not stored.
      this.onFatal(error);
      return;
    }
    for (const after of hookAfters) after();
    for (const after of afters) after();
  }
}
