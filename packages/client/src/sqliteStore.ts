// The engine's store in a SQLite file of the profile directory. Secrets and message texts are
// encrypted at rest with the profile key (XChaCha20-Poly1305); the row's name is the AAD, so
// an encrypted value cannot be moved to another row.
import Database from "better-sqlite3";
import { xchacha20poly1305 } from "@noble/ciphers/chacha.js";
import { randomBytes } from "node:crypto";
import { decodeIdentity, decodeKeyPackageSecrets, encodeIdentity, encodeKeyPackageSecrets, type CardPayload, type ChatMessage, type EngineChanges, type EngineStore, type FileInfo, type StoredIdentity, type StoredKeyPackage } from "@momedo/core";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS groups (id TEXT PRIMARY KEY, state BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS key_packages (ref TEXT PRIMARY KEY, suite TEXT NOT NULL, last_resort INTEGER NOT NULL, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  chat TEXT NOT NULL, id TEXT NOT NULL, sender TEXT NOT NULL, sender_device TEXT NOT NULL,
  type TEXT NOT NULL, body BLOB NOT NULL, sent_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
  outgoing INTEGER NOT NULL, shown INTEGER NOT NULL DEFAULT 0, target TEXT,
  PRIMARY KEY (chat, id)
);
CREATE INDEX IF NOT EXISTS messages_unshown ON messages(shown, received_at);
`;

const MESSAGE_TYPES = new Set(["text", "reaction", "file", "card", "card_action", "card_outcome", "edit", "delete"]);

export class SqliteStore implements EngineStore {
  private readonly db: Database.Database;
  private device: string | undefined;

  constructor(file: string, private readonly key: Uint8Array) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
    const columns = this.db.prepare("PRAGMA table_info(messages)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "target")) this.db.exec("ALTER TABLE messages ADD COLUMN target TEXT");
    // A file's key and description, sealed like the text.
    if (!columns.some((c) => c.name === "file")) this.db.exec("ALTER TABLE messages ADD COLUMN file BLOB");
    // A card, an action on one, or its outcome, sealed like the text.
    if (!columns.some((c) => c.name === "card")) this.db.exec("ALTER TABLE messages ADD COLUMN card BLOB");
    // Replies, edits and deletions for everyone.
    if (!columns.some((c) => c.name === "reply_to")) this.db.exec("ALTER TABLE messages ADD COLUMN reply_to TEXT");
    if (!columns.some((c) => c.name === "edited")) this.db.exec("ALTER TABLE messages ADD COLUMN edited INTEGER NOT NULL DEFAULT 0");
    if (!columns.some((c) => c.name === "deleted")) this.db.exec("ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0");
    // Every other person of the chat fetched this device's message.
    if (!columns.some((c) => c.name === "delivered")) this.db.exec("ALTER TABLE messages ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0");
  }

  /** This device's ID, to tell its own messages (already shown) from others'. */
  private ownDevice(): string | undefined {
    this.device ??= (this.db.prepare("SELECT value FROM kv WHERE key = 'device'").get() as { value: Buffer } | undefined)?.value.toString();
    return this.device;
  }

  close(): void {
    this.db.close();
  }

  async loadIdentity(): Promise<StoredIdentity | undefined> {
    const row = this.db.prepare("SELECT value FROM kv WHERE key = 'identity'").get() as { value: Buffer } | undefined;
    if (!row) return undefined;
    return decodeIdentity(this.open("identity", row.value));
  }

  async loadGroup(group: string): Promise<Uint8Array | undefined> {
    const row = this.db.prepare("SELECT state FROM groups WHERE id = ?").get(group) as { state: Buffer } | undefined;
    return row ? this.open(`group:${group}`, row.state) : undefined;
  }

  async loadKeyPackage(ref: string): Promise<StoredKeyPackage | undefined> {
    const row = this.db.prepare("SELECT suite, last_resort, data FROM key_packages WHERE ref = ?").get(ref) as
      | { suite: string; last_resort: number; data: Buffer }
      | undefined;
    return row ? decodeKeyPackageSecrets(ref, row.suite, row.last_resort === 1, this.open(`kp:${ref}`, row.data)) : undefined;
  }

  async hasLastResortKeyPackage(suite: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM key_packages WHERE last_resort = 1 AND suite = ?").get(suite) !== undefined;
  }

  async listGroups(): Promise<string[]> {
    return (this.db.prepare("SELECT id FROM groups ORDER BY id").all() as { id: string }[]).map((r) => r.id);
  }

  async cardInfo(chat: string, id: string): Promise<{ from: string; decided: boolean } | undefined> {
    const card = this.db.prepare("SELECT sender FROM messages WHERE chat = ? AND id = ? AND type = 'card'").get(chat, id) as
      | { sender: string }
      | undefined;
    if (!card) return undefined;
    const decided = this.db
      .prepare("SELECT 1 FROM messages WHERE chat = ? AND target = ? AND type = 'card_outcome' AND sender = ? LIMIT 1")
      .get(chat, id, card.sender);
    return { from: card.sender, decided: decided !== undefined };
  }

  async allMessages(): Promise<ChatMessage[]> {
    return (this.db.prepare("SELECT * FROM messages ORDER BY sent_at, rowid").all() as Record<string, unknown>[]).map((r) =>
      this.toMessage(r),
    );
  }

  async loadMessage(chat: string, id: string): Promise<ChatMessage | undefined> {
    const row = this.db.prepare("SELECT * FROM messages WHERE chat = ? AND id = ?").get(chat, id) as Record<string, unknown> | undefined;
    return row ? this.toMessage(row) : undefined;
  }

  async hasMessage(chat: string, id: string): Promise<boolean> {
    return this.db.prepare("SELECT 1 FROM messages WHERE chat = ? AND id = ?").get(chat, id) !== undefined;
  }

  async loadSetting(name: string): Promise<Uint8Array | undefined> {
    const row = this.db.prepare("SELECT value FROM kv WHERE key = ?").get(`setting:${name}`) as { value: Buffer } | undefined;
    return row ? this.open(`setting:${name}`, row.value) : undefined;
  }

  async cursor(): Promise<number> {
    const row = this.db.prepare("SELECT value FROM kv WHERE key = 'cursor'").get() as { value: number } | undefined;
    return row ? Number(row.value) : 0;
  }

  async apply(changes: EngineChanges): Promise<void> {
    this.db.transaction(() => {
      if (changes.identity) {
        const i = changes.identity;
        this.put("identity", this.seal("identity", encodeIdentity(i)));
        this.put("device", Buffer.from(i.device));
        this.device = i.device;
      }
      for (const [group, state] of changes.groups ?? []) {
        if (state) {
          this.db
            .prepare("INSERT INTO groups (id, state) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state")
            .run(group, this.seal(`group:${group}`, state));
        } else this.db.prepare("DELETE FROM groups WHERE id = ?").run(group);
      }
      for (const kp of changes.keyPackagesAdded ?? []) {
        this.db
          .prepare("INSERT INTO key_packages (ref, suite, last_resort, data) VALUES (?, ?, ?, ?)")
          .run(kp.ref, kp.suite, kp.lastResort ? 1 : 0, this.seal(`kp:${kp.ref}`, encodeKeyPackageSecrets(kp)));
      }
      for (const ref of changes.keyPackagesDeleted ?? []) this.db.prepare("DELETE FROM key_packages WHERE ref = ?").run(ref);
      const ownDevice = this.ownDevice();
      for (const m of changes.messages ?? []) {
        this.db
          .prepare(
            "INSERT OR IGNORE INTO messages (chat, id, sender, sender_device, type, body, sent_at, received_at, outgoing, shown, target, file, card, reply_to, edited, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
          )
          .run(
            m.chat,
            m.id,
            m.from,
            m.fromDevice,
            m.type,
            this.seal(`msg:${m.chat}:${m.id}`, new TextEncoder().encode(m.text)),
            m.sentAt,
            m.receivedAt,
            m.outgoing ? 1 : 0,
            // What this device sent itself is already on screen; everything else waits to be shown.
            m.fromDevice === ownDevice ? 1 : 0,
            m.target ?? null,
            this.sealJson("file", m, m.file),
            this.sealJson("card", m, m.card),
            m.replyTo ?? null,
            m.edited ? 1 : 0,
            m.deleted ? 1 : 0,
          );
      }
      for (const m of changes.messagesUpdated ?? []) {
        this.db
          .prepare("UPDATE messages SET type = ?, body = ?, target = ?, file = ?, card = ?, reply_to = ?, edited = ?, deleted = ? WHERE chat = ? AND id = ?")
          .run(
            m.type,
            this.seal(`msg:${m.chat}:${m.id}`, new TextEncoder().encode(m.text)),
            m.target ?? null,
            this.sealJson("file", m, m.file),
            this.sealJson("card", m, m.card),
            m.replyTo ?? null,
            m.edited ? 1 : 0,
            m.deleted ? 1 : 0,
            m.chat,
            m.id,
          );
      }
      for (const d of changes.delivered ?? []) this.db.prepare("UPDATE messages SET delivered = 1 WHERE chat = ? AND id = ?").run(d.chat, d.id);
      for (const [name, value] of changes.settings ?? []) {
        if (value) this.put(`setting:${name}`, this.seal(`setting:${name}`, value));
        else this.db.prepare("DELETE FROM kv WHERE key = ?").run(`setting:${name}`);
      }
      for (const d of changes.messagesDeleted ?? []) this.db.prepare("DELETE FROM messages WHERE chat = ? AND id = ?").run(d.chat, d.id);
      if (changes.cursor !== undefined) {
        this.db
          .prepare("INSERT INTO kv (key, value) VALUES ('cursor', ?) ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)")
          .run(changes.cursor);
      }
    })();
  }

  /** Messages not yet handled, oldest first, without marking them (a bot marks after handling). */
  unshown(limit = 100): ChatMessage[] {
    const rows = this.db
      .prepare("SELECT rowid, * FROM messages WHERE shown = 0 ORDER BY received_at, rowid LIMIT ?")
      .all(limit) as Record<string, unknown>[];
    return rows.map((r) => this.toMessage(r));
  }

  markShown(chat: string, id: string): void {
    this.db.prepare("UPDATE messages SET shown = 1 WHERE chat = ? AND id = ?").run(chat, id);
  }

  /** One message by its ID (IDs are random, 80 bits: unique across chats in practice). */
  findMessage(id: string): ChatMessage | undefined {
    const row = this.db.prepare("SELECT rowid, * FROM messages WHERE id = ? ORDER BY rowid LIMIT 1").get(id) as Record<string, unknown> | undefined;
    return row ? this.toMessage(row) : undefined;
  }

  /** Messages of a chat that refer to `target` (card actions and outcomes), oldest first. */
  replies(chat: string, target: string): ChatMessage[] {
    const rows = this.db.prepare("SELECT rowid, * FROM messages WHERE chat = ? AND target = ? ORDER BY rowid").all(chat, target) as Record<string, unknown>[];
    return rows.map((r) => this.toMessage(r));
  }

  /** Messages received but not yet shown to the person, oldest first; marks them shown. */
  takeUnshown(): ChatMessage[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT rowid, * FROM messages WHERE shown = 0 ORDER BY received_at, rowid")
        .all() as Record<string, unknown>[];
      this.db.prepare("UPDATE messages SET shown = 1 WHERE shown = 0").run();
      return rows.map((r) => this.toMessage(r));
    })();
  }

  private toMessage(r: Record<string, unknown>): ChatMessage {
    return {
      id: r.id as string,
      chat: r.chat as string,
      from: r.sender as string,
      fromDevice: r.sender_device as string,
      type: MESSAGE_TYPES.has(r.type as string) ? (r.type as ChatMessage["type"]) : "text",
      ...(typeof r.target === "string" ? { target: r.target } : {}),
      ...(r.file ? { file: JSON.parse(new TextDecoder().decode(this.open(`file:${r.chat}:${r.id}`, r.file as Buffer))) as FileInfo } : {}),
      ...(r.card ? { card: JSON.parse(new TextDecoder().decode(this.open(`card:${r.chat}:${r.id}`, r.card as Buffer))) as CardPayload } : {}),
      text: new TextDecoder().decode(this.open(`msg:${r.chat}:${r.id}`, r.body as Buffer)),
      sentAt: r.sent_at as number,
      receivedAt: r.received_at as number,
      outgoing: r.outgoing === 1,
      ...(typeof r.reply_to === "string" ? { replyTo: r.reply_to } : {}),
      ...(r.edited === 1 ? { edited: true } : {}),
      ...(r.deleted === 1 ? { deleted: true } : {}),
      ...(r.delivered === 1 ? { delivered: true } : {}),
    };
  }

  /** A message's file or card, sealed like its text; null when it has none. */
  private sealJson(name: "file" | "card", m: ChatMessage, value: unknown): Buffer | null {
    return value ? this.seal(`${name}:${m.chat}:${m.id}`, new TextEncoder().encode(JSON.stringify(value))) : null;
  }

  private put(key: string, value: Uint8Array): void {
    this.db.prepare("INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  private seal(name: string, plain: Uint8Array): Buffer {
    const nonce = randomBytes(24);
    const sealed = xchacha20poly1305(this.key, nonce, new TextEncoder().encode(name)).encrypt(plain);
    return Buffer.concat([nonce, sealed]);
  }

  private open(name: string, sealed: Buffer): Uint8Array {
    const bytes = new Uint8Array(sealed);
    return xchacha20poly1305(this.key, bytes.subarray(0, 24), new TextEncoder().encode(name)).decrypt(bytes.subarray(24));
  }
}
