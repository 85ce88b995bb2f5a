// The browser's momedo client: enrollment from an invite link, the device's engine over the
// IndexedDB store, one connection to the server this page came from (reconnecting), an outbox
// for what is written while offline. The UI talks only to this and to the store's reads.
import { DEFAULT_CIPHERSUITE, Engine, systemEnv, type ChatMessage, type EngineEvent, type EngineStore } from "@momedo/core";
import type { FileLocation } from "@momedo/core";
import {
  crockford,
  isErrorCode,
  MomedoError,
  parseInvite,
  toBase64,
  type DirectoryListResult,
  type EnrollResponse,
  type GroupsListResult,
} from "@momedo/protocol";
import { browserSockets, Messenger, type MessageIdentity } from "@momedo/client/browser";
import type { BrowserPreparedFile } from "./files/prepare.js";
import { sendFile } from "./files/transfer.js";

/**
 * Something written while offline (or not yet acknowledged): sent in order once connected. Its
 * message ID is chosen when it is written, so a second try after a lost connection is shown once.
 */
export type OutboxEntry = {
  key: string;
  to: string;
  queuedAt: number;
  /** The message's ID (absent in entries written by older versions: chosen when sent). */
  id?: string;
  /** What the chat shows while it waits: the text, the emoji, or the file's name. */
  text: string;
} & (
  | { kind?: "text"; replyTo?: string }
  | { kind: "edit"; target: string }
  | { kind: "delete"; target: string }
  | { kind: "reaction"; target: string }
  | { kind: "file"; file: QueuedFile }
);

/** A prepared file waiting in the outbox; its bytes wait sealed in the store beside it. */
export interface QueuedFile {
  name: string;
  mediaType: string;
  width?: number;
  height?: number;
  thumbnail?: string;
  location?: FileLocation;
  takenAt?: number;
  /** The person of a 1:1 chat, which is made on first use. */
  peer?: string;
}

/** Files larger than this are sent only while connected (the outbox keeps its files in the store). */
export const OUTBOX_FILE_LIMIT = 25 * 1024 * 1024;

export type ConnectionState = "connecting" | "online" | "offline";

const OUTBOX = "web:outbox";
const outboxFile = (key: string) => `web:outbox-file:${key}`;
const RECONNECT_MAX_MS = 30_000;

export class WebClient {
  readonly messenger: Messenger;
  private state: ConnectionState = "offline";
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(event: EngineEvent) => void>();
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
  send(to: string, text: string): Promise<void> {
    return this.queue({ to, text });
  }

  /** Answers a message; offline, the reply waits in the outbox like a text. */
  reply(chat: string, replyTo: string, text: string): Promise<void> {
    return this.queue({ to: chat, text, replyTo });
  }

  edit(chat: string, target: string, text: string): Promise<void> {
    return this.queue({ to: chat, kind: "edit", target, text });
  }

  deleteMessage(chat: string, target: string): Promise<void> {
    return this.queue({ to: chat, kind: "delete", target, text: "" });
  }

  react(chat: string, target: string, emoji: string): Promise<void> {
    return this.queue({ to: chat, kind: "reaction", target, text: emoji });
  }

  /**
   * Sends a prepared file to a chat (a 1:1 chat is made on first use with `extra.peer`); offline,
   * it waits in the outbox with its bytes sealed in the store. Larger files need the connection.
   */
  async sendFile(chat: string, file: BrowserPreparedFile, extra: { location?: FileLocation; takenAt?: number; peer?: string } = {}): Promise<void> {
    if (file.body.size > OUTBOX_FILE_LIMIT && this.state !== "online") {
      throw new RangeError(
        `Große Dateien (über ${OUTBOX_FILE_LIMIT / 1024 / 1024} MB) nur mit Verbindung / large files (over ${OUTBOX_FILE_LIMIT / 1024 / 1024} MB) need a connection`,
      );
    }
    const key = crypto.randomUUID();
    const { body, ...described } = file;
    const queued: QueuedFile = { ...described, ...extra };
    await this.store.apply({ settings: new Map([[outboxFile(key), new Uint8Array(await body.arrayBuffer())]]) });
    await this.queue({ to: chat, kind: "file", file: queued, text: file.name }, key);
  }

  private async queue(what: DistributiveOmit<OutboxEntry, "key" | "queuedAt" | "id">, key: string = crypto.randomUUID()): Promise<void> {
    const entry = { ...what, key, queuedAt: Date.now(), id: crockford(crypto.getRandomValues(new Uint8Array(10)), 16) } as OutboxEntry;
    this.outbox.push(entry);
    await this.saveOutbox();
    this.notify();
    this.flush();
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
          await this.deliver(entry);
        } catch (error) {
          if (!this.messenger.connected) return; // back in the outbox's head; sent after reconnect
          // Refused for good (policy, not a member): drop it and say so.
          await this.done(entry);
          this.failed(entry, error);
          continue;
        }
        await this.done(entry);
        this.notify();
      }
    });
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const as: MessageIdentity | undefined = entry.id ? { id: entry.id, sentAt: entry.queuedAt } : undefined;
    switch (entry.kind) {
      case undefined:
      case "text":
        if (entry.replyTo) await this.messenger.reply(entry.to, entry.replyTo, entry.text, as);
        else await this.messenger.sendText(entry.to, entry.text, as);
        return;
      case "edit":
        await this.messenger.edit(entry.to, entry.target, entry.text, as);
        return;
      case "delete":
        await this.messenger.deleteMessage(entry.to, entry.target, as);
        return;
      case "reaction":
        await this.messenger.react(entry.to, entry.target, entry.text, as);
        return;
      case "file": {
        const bytes = await this.store.loadSetting(outboxFile(entry.key));
        if (!bytes) throw new Error("Datei nicht mehr da / file gone");
        const { location, takenAt, peer, ...described } = entry.file;
        await sendFile(
          this.messenger,
          entry.to,
          { ...described, body: new Blob([bytes as BlobPart], { type: entry.file.mediaType }) },
          { ...(location ? { location } : {}), ...(takenAt !== undefined ? { takenAt } : {}), ...(peer ? { to: peer } : {}), ...(as ? { as } : {}) },
          this.store,
        );
        return;
      }
    }
  }

  /** Takes a sent (or refused) entry out of the outbox, with its file's bytes. */
  private async done(entry: OutboxEntry): Promise<void> {
    this.outbox.shift();
    await this.saveOutbox();
    if (entry.kind === "file") await this.store.apply({ settings: new Map([[outboxFile(entry.key), null]]) });
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

  /** Calls `listener` with each event of the engine (a role changed, someone left, a commit). */
  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private changed(event: EngineEvent): void {
    for (const listener of this.eventListeners) listener(event);
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

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
