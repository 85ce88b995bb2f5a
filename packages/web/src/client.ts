// The browser's momedo client: enrollment from an invite link, the device's engine over the
// IndexedDB store, one connection to the server this page came from (reconnecting), an outbox
// for what is written while offline. The UI talks only to this and to the store's reads.
import { DEFAULT_CIPHERSUITE, Engine, systemEnv, type ChatMessage, type EngineEvent, type EngineStore } from "@momedo/core";
import { isErrorCode, MomedoError, parseInvite, toBase64, type DirectoryListResult, type EnrollResponse, type GroupsListResult } from "@momedo/protocol";
import { browserSockets, Messenger } from "@momedo/client/browser";

/** A text written while offline (or not yet acknowledged): sent in order once connected. */
export interface OutboxEntry {
  key: string;
  to: string;
  text: string;
  queuedAt: number;
}

export type ConnectionState = "connecting" | "online" | "offline";

const OUTBOX = "web:outbox";
const RECONNECT_MAX_MS = 30_000;

export class WebClient {
  readonly messenger: Messenger;
  private state: ConnectionState = "offline";
  private readonly listeners = new Set<() => void>();
  private outbox: OutboxEntry[] = [];
  private flushing: Promise<void> = Promise.resolve();
  private retryDelay = 1000;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  private constructor(
    readonly engine: Engine,
    readonly store: EngineStore,
    origin: string,
  ) {
    this.messenger = new Messenger(engine, browserSockets(origin));
    this.messenger.onEvent((event) => this.changed(event));
    this.messenger.onDisconnect(() => {
      this.setState("offline");
      this.scheduleReconnect();
    });
  }

  /** The device enrolled in this browser, if any. */
  static async open(store: EngineStore, origin = globalThis.location.origin): Promise<WebClient | undefined> {
    const engine = await Engine.open(store);
    if (!engine) return undefined;
    const client = new WebClient(engine, store, origin);
    client.outbox = await client.loadOutbox();
    return client;
  }

  /**
   * Enrolls this browser with an invite link of this server: makes the device's keys, registers
   * them, stores everything (sealed) in IndexedDB, and uploads KeyPackages.
   */
  static async enroll(store: EngineStore, invite: string, origin = globalThis.location.origin): Promise<WebClient> {
    const parsed = parseInvite(invite);
    if (new URL(parsed.url).origin !== origin) {
      throw new RangeError(`Diese Einladung gehört zu ${parsed.url} / this invite belongs to ${parsed.url}`);
    }
    const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
    const response = await postJson<EnrollResponse>(`${origin}/api/v1/enroll`, { code: parsed.code, signaturePublicKey: toBase64(keys.publicKey) });
    const engine = await Engine.enroll(store, systemEnv, keys, response);
    const client = new WebClient(engine, store, origin);
    await client.connect();
    await client.messenger.uploadKeyPackages();
    return client;
  }

  get me(): { user: string; device: string; name: string } {
    return { user: this.engine.user, device: this.engine.device, name: this.engine.identity.name };
  }

  get connection(): ConnectionState {
    return this.state;
  }

  get pending(): readonly OutboxEntry[] {
    return this.outbox;
  }

  /** Calls `listener` after anything visible changed (messages, chats, connection, outbox). */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects and catches up; on failure keeps trying in the background (offline). */
  async connect(): Promise<void> {
    this.stopped = false;
    clearTimeout(this.retryTimer);
    this.setState("connecting");
    try {
      await this.messenger.connect();
      await this.messenger.replenishKeyPackages();
      await this.messenger.reconcile();
      this.retryDelay = 1000;
      this.setState("online");
      this.flush();
    } catch (error) {
      this.setState("offline");
      this.scheduleReconnect();
      if (error instanceof MomedoError && error.code === "auth_failed") throw error;
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.flushing;
    await this.messenger.close();
  }

  /** Writes to a person (ID) or a chat; offline, the text waits in the outbox. */
  async send(to: string, text: string): Promise<void> {
    const entry: OutboxEntry = { key: crypto.randomUUID(), to, text, queuedAt: Date.now() };
    this.outbox.push(entry);
    await this.saveOutbox();
    this.notify();
    this.flush();
  }

  react(chat: string, target: string, emoji: string): Promise<ChatMessage> {
    return this.messenger.react(chat, target, emoji);
  }

  createGroup(name: string, members: string[], kind: "group" | "channel"): Promise<string> {
    return this.messenger.createGroup(name, members, kind);
  }

  groups(): Promise<GroupsListResult["groups"]> {
    return this.messenger.listGroups().then((r) => r.groups);
  }

  directory(): Promise<DirectoryListResult> {
    return this.messenger.directory();
  }

  /** The chat with a person (its ID is derived from both IDs). */
  directChat(user: string): string {
    return this.engine.directChat(user);
  }

  private flush(): void {
    this.flushing = this.flushing.then(async () => {
      while (this.outbox.length > 0 && this.state === "online") {
        const entry = this.outbox[0]!;
        try {
          await this.messenger.sendText(entry.to, entry.text);
        } catch (error) {
          if (!this.messenger.connected) return; // back in the outbox's head; sent after reconnect
          // Refused for good (policy, not a member): drop it and say so.
          this.outbox.shift();
          await this.saveOutbox();
          this.failed(entry, error);
          continue;
        }
        this.outbox.shift();
        await this.saveOutbox();
        this.notify();
      }
    });
  }

  /** What the last refused send said, for the UI to show. */
  lastError: { entry: OutboxEntry; message: string } | undefined;

  private failed(entry: OutboxEntry, error: unknown): void {
    const message =
      error instanceof MomedoError && isErrorCode(error.code) ? error.message : error instanceof Error ? error.message : String(error);
    this.lastError = { entry, message };
    this.notify();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, RECONNECT_MAX_MS);
  }

  private changed(_event: EngineEvent): void {
    this.notify();
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }

  private async loadOutbox(): Promise<OutboxEntry[]> {
    const bytes = await this.store.loadSetting(OUTBOX);
    if (!bytes) return [];
    try {
      return JSON.parse(new TextDecoder().decode(bytes)) as OutboxEntry[];
    } catch {
      return [];
    }
  }

  private saveOutbox(): Promise<void> {
    const value = this.outbox.length > 0 ? new TextEncoder().encode(JSON.stringify(this.outbox)) : null;
    return this.store.apply({ settings: new Map([[OUTBOX, value]]) });
  }

  /** Changes the display name colleagues see (the server's directory); returns the name as stored. */
  async rename(name: string): Promise<string> {
    return (await this.messenger.request<{ name: string }>({ t: "profile.rename", name })).name;
  }
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch {
    throw new Error("Server nicht erreichbar / server not reachable");
  }
  const value = (await response.json().catch(() => ({}))) as { code?: string; detail?: string };
  if (response.ok) return value as T;
  throw value.code && isErrorCode(value.code) ? new MomedoError(value.code, value.detail) : new Error(`HTTP ${response.status}`);
}
