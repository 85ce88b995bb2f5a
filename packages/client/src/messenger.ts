// A device's messenger in Node: the engine, its store and its connection, wired together.
// It keeps the mailbox flowing in order, acknowledges only what is stored, and retries a send
// when the server says the conversation moved on.
import {
  isDirectChatId,
  isShortId,
  MomedoError,
  normalizeShortId,
  type DeliverFrame,
  type GroupCommitResult,
  type GroupSendResult,
  type KeysClaimResult,
} from "@momedo/protocol";
import type { ChatMessage, Engine, EngineEvent } from "@momedo/core";
import { ServerConnection } from "./connection.js";
import type { ServerAddress } from "./http.js";

const MAX_ATTEMPTS = 5;
const KEY_PACKAGE_LOW_WATER = 10;
const KEY_PACKAGE_BATCH = 20;

export class Messenger {
  private connection: ServerConnection | undefined;
  private processing: Promise<void> = Promise.resolve();
  private lastProcessed = 0;
  private ackScheduled = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly listeners: ((event: EngineEvent) => void)[] = [];
  private failure: Error | undefined;

  constructor(
    readonly engine: Engine,
    private readonly server: ServerAddress,
  ) {}

  onEvent(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Signs in and processes everything the mailbox held. */
  async connect(): Promise<void> {
    this.synced = false;
    this.connection = await ServerConnection.open(this.server, {
      user: this.engine.user,
      device: this.engine.device,
      sign: (nonce) => this.engine.authSignature(nonce),
      onDeliver: (frame) => this.enqueue(frame),
      onSynced: () => {
        this.processing = this.processing.then(() => {
          this.synced = true;
          for (const w of this.syncWaiters.splice(0)) w();
        });
      },
      onClose: () => undefined,
    });
    await new Promise<void>((resolve) => (this.synced ? resolve() : this.syncWaiters.push(resolve)));
    await this.processing;
    this.throwIfFailed();
  }

  /** Waits until everything the server had for this device at this moment is processed. */
  async sync(): Promise<void> {
    await this.conn().request({ t: "ping" });
    await this.processing;
    this.throwIfFailed();
  }

  async uploadKeyPackages(count = KEY_PACKAGE_BATCH): Promise<number> {
    const upload = await this.engine.createKeyPackages(count);
    const { held } = await this.conn().request<{ held: number }>({ t: "keys.upload", ...upload });
    return held;
  }

  /** Tops the key server up when others have claimed most of this device's KeyPackages. */
  async replenishKeyPackages(): Promise<void> {
    const { held } = await this.conn().request<{ held: number }>({ t: "keys.upload", keyPackages: [] });
    if (held < KEY_PACKAGE_LOW_WATER) await this.uploadKeyPackages(KEY_PACKAGE_BATCH - held);
  }

  /** Sends a text to a person (ID or ID@host) or to a chat; creates the 1:1 chat on first use. */
  async sendText(to: string, text: string): Promise<ChatMessage> {
    const group = this.resolveChat(to);
    let retryOf: { id: string; sentAt: number } | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (!(await this.engine.hasGroup(group))) await this.createDirectChat(to);
        const out = await this.engine.encryptText(group, text, retryOf);
        retryOf = { id: out.message.id, sentAt: out.message.sentAt };
        await this.conn().request<GroupSendResult>({ t: "group.send", group, epoch: out.epoch, data: out.data });
        return out.message;
      } catch (error) {
        const retriable = error instanceof MomedoError && (error.code === "epoch_conflict" || error.code === "stale_epoch");
        if (!retriable || attempt >= MAX_ATTEMPTS) throw error;
        await this.sync();
      }
    }
  }

  async close(): Promise<void> {
    await this.processing;
    this.flushAck();
    await this.connection?.close();
    this.connection = undefined;
  }

  private async createDirectChat(to: string): Promise<void> {
    const peer = this.peerOf(to);
    const group = this.engine.directChat(peer);
    const theirs = await this.conn().request<KeysClaimResult>({ t: "keys.claim", user: peer });
    const mine = await this.conn().request<KeysClaimResult>({ t: "keys.claim", user: this.engine.user });
    const pending = await this.engine.createDirectChat(peer, theirs.devices, mine.devices);
    try {
      await this.conn().request<GroupCommitResult>({ t: "group.commit", ...pending });
    } catch (error) {
      this.engine.commitRejected(group);
      throw error;
    }
    await this.engine.commitAccepted(group);
  }

  private resolveChat(to: string): string {
    if (isDirectChatId(to)) return to;
    return this.engine.directChat(this.peerOf(to));
  }

  private peerOf(to: string): string {
    const [id, host] = to.split("@");
    if (host && host !== new URL(this.server.url).host && host !== new URL(this.server.url).hostname) {
      throw new RangeError(
        `${to}: Nachrichten an andere Server (Nachbarn) kommen in einer späteren Version / messages to other servers (neighbours) come in a later version`,
      );
    }
    const peer = normalizeShortId(id ?? "");
    if (!isShortId(peer)) throw new RangeError(`${to}: keine gültige ID wie M8N22HT6 / not a valid ID like M8N22HT6`);
    if (peer === this.engine.user) throw new RangeError("Nachrichten an sich selbst sind nicht möglich / cannot message yourself");
    return peer;
  }

  private enqueue(frame: DeliverFrame): void {
    this.processing = this.processing.then(async () => {
      if (this.failure) return;
      try {
        const events = await this.engine.receive(frame);
        this.lastProcessed = Math.max(this.lastProcessed, frame.seq);
        this.scheduleAck();
        for (const event of events) for (const listener of this.listeners) listener(event);
      } catch (error) {
        // Storage failed: stop acknowledging, so the server keeps the entry for the next run.
        this.failure = error as Error;
      }
    });
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => this.flushAck());
  }

  private flushAck(): void {
    this.ackScheduled = false;
    if (this.lastProcessed > 0) this.connection?.ack(this.lastProcessed);
  }

  private conn(): ServerConnection {
    if (!this.connection) throw new Error("nicht verbunden / not connected");
    return this.connection;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
