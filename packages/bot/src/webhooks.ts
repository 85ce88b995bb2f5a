// Webhooks: every chat event the bridge bot sees is POSTed, HMAC-signed, to each configured
// receiver that asked for it. Deliveries wait in a queue in the bot's profile (JSON lines,
// flushed before the event counts as handled), are retried with exponential backoff, and end
// in the dead-letter log when the receiver stays unreachable. A restart continues the queue.
import { createHmac, randomUUID } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";

export const WEBHOOK_EVENTS = ["message", "card_action", "join"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookConfig {
  url: string;
  secret: string;
  events: WebhookEvent[];
}

export interface RetryPolicy {
  /** Wait before the second try; it doubles with every further try (1 s, 2 s, 4 s, …). */
  baseMs: number;
  /** Tries in all, the first included; then the delivery goes to the dead-letter log. */
  tries: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 1000, tries: 10 };
const TIMEOUT_MS = 10_000;
const IN_FLIGHT = 8;

/** One event for one receiver; the body and the delivery ID stay the same on every try. */
export interface Delivery {
  id: string;
  url: string;
  event: WebhookEvent;
  /** The chat the event happened in (dead letters are shown only to integrations of that chat). */
  chat: string;
  body: string;
  tries: number;
  nextAt: number;
  lastError?: string;
}

/** A delivery that used up its tries, with why the last one failed and when it gave up. */
export interface DeadLetter extends Omit<Delivery, "nextAt" | "lastError"> {
  lastError: string;
  deadAt: string;
}

type QueueLine = { add: Delivery } | { retry: { id: string; tries: number; nextAt: number; lastError: string } } | { done: string };

export const QUEUE_FILE = "webhook-queue.jsonl";
export const DEAD_LETTER_FILE = "webhook-dead-letters.jsonl";

/** `sha256=HEX(HMAC-SHA256(secret, timestamp + "." + body))`, the X-Momedo-Signature header. */
export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

/** The dead-letter log of a bot profile, oldest first (readable while the bridge runs). */
export function readDeadLetters(dir: string): DeadLetter[] {
  return readLines<DeadLetter>(join(dir, DEAD_LETTER_FILE));
}

export class Webhooks {
  private readonly pending = new Map<string, Delivery>();
  private readonly inFlight = new Map<string, AbortController>();
  private readonly queueFile: string;
  private readonly deadFile: string;
  private queueFd: number | undefined;
  private queueLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private settled: (() => void)[] = [];

  constructor(
    dir: string,
    private readonly hooks: WebhookConfig[],
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
  ) {
    this.queueFile = join(dir, QUEUE_FILE);
    this.deadFile = join(dir, DEAD_LETTER_FILE);
  }

  /** Loads what a previous run left in the queue and starts delivering. */
  start(): void {
    for (const line of readLines<QueueLine>(this.queueFile)) {
      if ("add" in line) this.pending.set(line.add.id, line.add);
      else if ("retry" in line) {
        const d = this.pending.get(line.retry.id);
        if (d) Object.assign(d, { tries: line.retry.tries, nextAt: line.retry.nextAt, lastError: line.retry.lastError });
      } else this.pending.delete(line.done);
    }
    this.compact();
    this.running = true;
    this.pump();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    for (const controller of this.inFlight.values()) controller.abort();
    while (this.inFlight.size > 0) await new Promise<void>((r) => this.settled.push(r));
    if (this.queueFd !== undefined) closeSync(this.queueFd);
    this.queueFd = undefined;
  }

  /** Queues `payload` for every receiver that wants `event`; on disk before this returns. */
  emit(event: WebhookEvent, chat: string, payload: Record<string, unknown>): void {
    const body = JSON.stringify({ event, ...payload });
    for (const hook of this.hooks) {
      if (!hook.events.includes(event)) continue;
      const delivery: Delivery = { id: randomUUID(), url: hook.url, event, chat, body, tries: 0, nextAt: Date.now() };
      this.append({ add: delivery });
      this.pending.set(delivery.id, delivery);
    }
    this.pump();
  }

  /** Deliveries still waiting for a successful try. */
  get queued(): number {
    return this.pending.size;
  }

  private pump(): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    const now = Date.now();
    let next = Infinity;
    for (const delivery of this.pending.values()) {
      if (this.inFlight.has(delivery.id)) continue;
      // A due delivery beyond the in-flight limit waits for a try to finish (which pumps again).
      if (delivery.nextAt <= now) {
        if (this.inFlight.size < IN_FLIGHT) void this.attempt(delivery);
      } else next = Math.min(next, delivery.nextAt);
    }
    if (next !== Infinity) this.timer = setTimeout(() => this.pump(), Math.max(0, next - now));
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const controller = new AbortController();
    this.inFlight.set(delivery.id, controller);
    const hook = this.hooks.find((h) => h.url === delivery.url);
    let error: string | undefined;
    if (!hook) error = "Webhook nicht mehr eingerichtet / webhook no longer configured";
    else {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const timeout = setTimeout(() => controller.abort(new Error("timeout")), TIMEOUT_MS);
      try {
        const response = await fetch(delivery.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "momedo-bot",
            "x-momedo-event": delivery.event,
            "x-momedo-delivery": delivery.id,
            "x-momedo-timestamp": timestamp,
            "x-momedo-signature": signature(hook.secret, timestamp, delivery.body),
          },
          body: delivery.body,
          redirect: "manual",
          signal: controller.signal,
        });
        await response.arrayBuffer().catch(() => undefined);
        if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
      } catch (e) {
        error = describe(e, controller.signal);
      } finally {
        clearTimeout(timeout);
      }
    }
    if (error === undefined) {
      this.pending.delete(delivery.id);
      this.append({ done: delivery.id });
    } else if (this.running) {
      // A try cut off by stop() does not count.
      delivery.tries += 1;
      delivery.lastError = error;
      if (delivery.tries >= this.retry.tries || !hook) this.bury(delivery, error);
      else {
        delivery.nextAt = Date.now() + this.retry.baseMs * 2 ** (delivery.tries - 1);
        this.append({ retry: { id: delivery.id, tries: delivery.tries, nextAt: delivery.nextAt, lastError: error } });
      }
    }
    this.inFlight.delete(delivery.id);
    for (const r of this.settled.splice(0)) r();
    this.pump();
  }

  private bury(delivery: Delivery, lastError: string): void {
    const dead: DeadLetter = {
      id: delivery.id,
      url: delivery.url,
      event: delivery.event,
      chat: delivery.chat,
      body: delivery.body,
      tries: delivery.tries,
      lastError,
      deadAt: new Date().toISOString(),
    };
    appendDurably(this.deadFile, `${JSON.stringify(dead)}\n`);
    this.pending.delete(delivery.id);
    this.append({ done: delivery.id });
  }

  private append(line: QueueLine): void {
    if (this.queueFd === undefined) this.queueFd = openSync(this.queueFile, "a", 0o600);
    writeSync(this.queueFd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.queueFd);
    this.queueLines++;
    // The log only grows; rewritten with just the waiting deliveries once mostly history.
    if (this.queueLines > 1000 && this.queueLines > 4 * this.pending.size) this.compact();
  }

  /** Rewrites the queue file with the waiting deliveries only (temporary file, flush, rename). */
  private compact(): void {
    if (this.queueFd !== undefined) closeSync(this.queueFd);
    this.queueFd = undefined;
    const temporary = `${this.queueFile}.tmp`;
    const lines = [...this.pending.values()].map((d) => `${JSON.stringify({ add: d })}\n`);
    writeFileSync(temporary, lines.join(""), { mode: 0o600 });
    const fd = openSync(temporary, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, this.queueFile);
    this.queueLines = lines.length;
  }
}

function describe(error: unknown, signal: AbortSignal): string {
  if (signal.aborted) return `keine Antwort nach / no answer after ${TIMEOUT_MS / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function appendDurably(file: string, text: string): void {
  const fd = openSync(file, "a", 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The complete lines of a JSON-lines file; a line cut short by a crash is skipped. */
function readLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      continue;
    }
  }
  return out;
}
