// The engine's store in the browser's IndexedDB. What the SQLite store seals is sealed here too
// (identity secrets, group states, KeyPackage private parts, message texts, files and cards,
// settings), with AES-256-GCM under a non-extractable key kept in the same database; IDs, senders
// and times stay readable so chats can be listed and paged without decrypting everything.
import { decodeIdentity, decodeKeyPackageSecrets, encodeIdentity, encodeKeyPackageSecrets, type CardPayload, type ChatMessage, type EngineChanges, type EngineStore, type FileInfo, type StoredIdentity, type StoredKeyPackage } from "@momedo/core";
import { openDatabase, request, transaction } from "./idb.js";
import { newSealingKey, seal, unseal } from "./sealing.js";

const VERSION = 1;
const KV = "kv";
const GROUPS = "groups";
const KEY_PACKAGES = "keyPackages";
const MESSAGES = "messages";
const SEALING_KEY = "sealingKey";
/** Insertion order of messages, the tie-breaker of equal send times (SQLite's rowid). */
const SEQ = "messageSeq";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface MessageRecord {
  chat: string;
  id: string;
  seq: number;
  from: string;
  fromDevice: string;
  type: ChatMessage["type"];
  body: Uint8Array;
  file?: Uint8Array;
  card?: Uint8Array;
  target?: string;
  sentAt: number;
  receivedAt: number;
  outgoing: 0 | 1;
  replyTo?: string;
  edited?: 1;
  deleted?: 1;
  delivered?: 1;
  /** 1 once the person saw it (or this device sent it); IndexedDB cannot index booleans. */
  shown: 0 | 1;
}

interface KeyPackageRecord {
  ref: string;
  suite: string;
  lastResort: 0 | 1;
  data: Uint8Array;
}

/** One row of the chats list. */
export interface ChatSummary {
  chat: string;
  last: ChatMessage;
  unread: number;
}

function upgrade(db: IDBDatabase, from: number): void {
  if (from < 1) {
    db.createObjectStore(KV);
    db.createObjectStore(GROUPS);
    db.createObjectStore(KEY_PACKAGES, { keyPath: "ref" }).createIndex("lastResort", ["suite", "lastResort"]);
    const messages = db.createObjectStore(MESSAGES, { keyPath: ["chat", "id"] });
    messages.createIndex("timeline", ["chat", "sentAt", "seq"]);
    messages.createIndex("time", ["sentAt", "seq"]);
    messages.createIndex("id", "id");
    messages.createIndex("target", ["chat", "target"]);
    messages.createIndex("unshown", ["shown", "receivedAt", "seq"]);
    messages.createIndex("unread", ["chat", "shown"]);
  }
}

/** All keys of a chat in an index that begins with the chat (an array sorts after any number or string). */
const chatRange = (chat: string) => IDBKeyRange.bound([chat], [chat, []]);

export class IdbStore implements EngineStore {
  private device: string | undefined;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly key: CryptoKey,
  ) {}

  /** Opens (or creates) the database `name`; the sealing key is made on first use and never leaves it. */
  static async open(name = "momedo"): Promise<IdbStore> {
    const db = await openDatabase(name, VERSION, upgrade);
    // Another tab upgrading the schema must not wait on this one forever.
    db.onversionchange = () => db.close();
    const existing = (await request(db.transaction(KV).objectStore(KV).get(SEALING_KEY))) as CryptoKey | undefined;
    if (existing) return new IdbStore(db, existing);
    const fresh = await newSealingKey();
    const chosen = await transaction(db, [KV], "readwrite", (tx) => {
      const kept = { key: fresh };
      const kv = tx.objectStore(KV);
      const current = kv.get(SEALING_KEY);
      // A second tab may have made one meanwhile: the first key written wins.
      current.onsuccess = () => {
        if (current.result) kept.key = current.result as CryptoKey;
        else kv.add(fresh, SEALING_KEY);
      };
      return kept;
    });
    return new IdbStore(db, chosen.key);
  }

  close(): void {
    this.db.close();
  }

  async loadIdentity(): Promise<StoredIdentity | undefined> {
    const sealed = await this.get<Uint8Array>(KV, "identity");
    if (!sealed) return undefined;
    return decodeIdentity(await unseal(this.key, "identity", sealed));
  }

  async loadGroup(group: string): Promise<Uint8Array | undefined> {
    const sealed = await this.get<Uint8Array>(GROUPS, group);
    return sealed ? unseal(this.key, `group:${group}`, sealed) : undefined;
  }

  async loadKeyPackage(ref: string): Promise<StoredKeyPackage | undefined> {
    const record = await this.get<KeyPackageRecord>(KEY_PACKAGES, ref);
    if (!record) return undefined;
    return decodeKeyPackageSecrets(ref, record.suite, record.lastResort === 1, await unseal(this.key, `kp:${ref}`, record.data));
  }

  async hasLastResortKeyPackage(suite: string): Promise<boolean> {
    const index = this.db.transaction(KEY_PACKAGES).objectStore(KEY_PACKAGES).index("lastResort");
    return (await request(index.count(IDBKeyRange.only([suite, 1])))) > 0;
  }

  async listGroups(): Promise<string[]> {
    return (await request(this.db.transaction(GROUPS).objectStore(GROUPS).getAllKeys())) as string[];
  }

  async allMessages(): Promise<ChatMessage[]> {
    const records = (await request(this.messageIndex("time").getAll())) as MessageRecord[];
    return Promise.all(records.map((r) => this.toMessage(r)));
  }

  async loadMessage(chat: string, id: string): Promise<ChatMessage | undefined> {
    const record = await this.get<MessageRecord>(MESSAGES, [chat, id]);
    return record ? this.toMessage(record) : undefined;
  }

  async hasMessage(chat: string, id: string): Promise<boolean> {
    return (await request(this.db.transaction(MESSAGES).objectStore(MESSAGES).count([chat, id]))) > 0;
  }

  async cardInfo(chat: string, id: string): Promise<{ from: string; decided: boolean } | undefined> {
    const card = await this.get<MessageRecord>(MESSAGES, [chat, id]);
    if (!card || card.type !== "card") return undefined;
    const refs = (await request(this.messageIndex("target").getAll([chat, id]))) as MessageRecord[];
    return { from: card.from, decided: refs.some((r) => r.type === "card_outcome" && r.from === card.from) };
  }

  async loadSetting(name: string): Promise<Uint8Array | undefined> {
    const sealed = await this.get<Uint8Array>(KV, `setting:${name}`);
    return sealed ? unseal(this.key, `setting:${name}`, sealed) : undefined;
  }

  async cursor(): Promise<number> {
    return (await this.get<number>(KV, "cursor")) ?? 0;
  }

  async apply(changes: EngineChanges): Promise<void> {
    // Sealing is asynchronous, so everything is sealed first: a transaction left waiting on
    // WebCrypto would commit early.
    const ownDevice = changes.identity?.device ?? (await this.ownDevice());
    const identity = changes.identity ? await this.sealIdentity(changes.identity) : undefined;
    const groups = await Promise.all(
      [...(changes.groups ?? [])].map(async ([group, state]) => [group, state ? await seal(this.key, `group:${group}`, state) : null] as const),
    );
    const keyPackages = await Promise.all((changes.keyPackagesAdded ?? []).map((kp) => this.sealKeyPackage(kp)));
    const messages = await Promise.all((changes.messages ?? []).map((m) => this.sealMessage(m, ownDevice)));
    const updated = await Promise.all((changes.messagesUpdated ?? []).map((m) => this.sealMessage(m, ownDevice)));
    const settings = await Promise.all(
      [...(changes.settings ?? [])].map(async ([name, value]) => [name, value ? await seal(this.key, `setting:${name}`, value) : null] as const),
    );
    await transaction(this.db, [KV, GROUPS, KEY_PACKAGES, MESSAGES], "readwrite", (tx) => {
      const kv = tx.objectStore(KV);
      if (changes.identity && identity) {
        kv.put(identity, "identity");
        kv.put(changes.identity.device, "device");
      }
      const groupStore = tx.objectStore(GROUPS);
      for (const [group, state] of groups) {
        if (state) groupStore.put(state, group);
        else groupStore.delete(group);
      }
      const kpStore = tx.objectStore(KEY_PACKAGES);
      for (const kp of keyPackages) kpStore.put(kp);
      for (const ref of changes.keyPackagesDeleted ?? []) kpStore.delete(ref);
      for (const [name, value] of settings) {
        if (value) kv.put(value, `setting:${name}`);
        else kv.delete(`setting:${name}`);
      }
      const messageStore = tx.objectStore(MESSAGES);
      const seq = kv.get(SEQ);
      seq.onsuccess = () => {
        let next = ((seq.result as number | undefined) ?? 0) + 1;
        for (const m of messages) {
          // INSERT OR IGNORE: a message already stored stays as it is.
          const added = messageStore.add({ ...m, seq: next++ });
          added.onerror = (event) => {
            if (added.error?.name !== "ConstraintError") return;
            event.preventDefault();
            event.stopPropagation();
          };
        }
        if (messages.length > 0) kv.put(next, SEQ);
        // Edits and deletions replace a stored message; its place and whether it was seen stay.
        for (const m of updated) {
          const old = messageStore.get([m.chat, m.id]);
          old.onsuccess = () => {
            const record = old.result as MessageRecord | undefined;
            if (record) messageStore.put({ ...m, seq: record.seq, shown: record.shown });
          };
        }
        for (const d of changes.delivered ?? []) {
          const old = messageStore.get([d.chat, d.id]);
          old.onsuccess = () => {
            const record = old.result as MessageRecord | undefined;
            if (record && !record.delivered) messageStore.put({ ...record, delivered: 1 });
          };
        }
        // After the inserts, as in SQLite: a step may carry a message and its deletion.
        for (const d of changes.messagesDeleted ?? []) messageStore.delete([d.chat, d.id]);
      };
      if (changes.cursor !== undefined) {
        const cursor = changes.cursor;
        const current = kv.get("cursor");
        current.onsuccess = () => kv.put(Math.max((current.result as number | undefined) ?? 0, cursor), "cursor");
      }
    });
    if (changes.identity) this.device = changes.identity.device;
  }

  /** The chats list: each chat with its latest message and how many messages are unread, latest first. */
  async chats(): Promise<ChatSummary[]> {
    const found = await transaction(this.db, [MESSAGES], "readonly", (tx) => {
      const rows: { record: MessageRecord; unread: number }[] = [];
      const index = tx.objectStore(MESSAGES).index("timeline");
      const unread = tx.objectStore(MESSAGES).index("unread");
      // Walks backwards and jumps from each chat's latest message to the previous chat.
      const walk = index.openCursor(null, "prev");
      walk.onsuccess = () => {
        const cursor = walk.result;
        if (!cursor) return;
        const row = { record: cursor.value as MessageRecord, unread: 0 };
        rows.push(row);
        const count = unread.count(IDBKeyRange.only([row.record.chat, 0]));
        count.onsuccess = () => (row.unread = count.result);
        cursor.continue([row.record.chat]);
      };
      return rows;
    });
    const summaries = await Promise.all(
      found.map(async ({ record, unread }) => {
        const last = await this.toMessage(record);
        // An edit or a deletion shows as the message it changed; the chat stays where the change put it.
        const changed = (last.type === "edit" || last.type === "delete") && last.target ? await this.loadMessage(last.chat, last.target) : undefined;
        return { chat: record.chat, last: changed ?? last, unread, at: last.sentAt };
      }),
    );
    return summaries.sort((a, b) => b.at - a.at).map(({ at: _at, ...summary }) => summary);
  }

  /** How many messages a chat holds (for a virtualised timeline). */
  async countMessages(chat: string): Promise<number> {
    return request(this.messageIndex("timeline").count(chatRange(chat)));
  }

  /** Messages `offset` to `offset + limit` of a chat in timeline order (by send time, then arrival). */
  async messages(chat: string, offset: number, limit: number): Promise<ChatMessage[]> {
    const records = await transaction(this.db, [MESSAGES], "readonly", (tx) => {
      const page: MessageRecord[] = [];
      const walk = tx.objectStore(MESSAGES).index("timeline").openCursor(chatRange(chat));
      let skipped = offset === 0;
      walk.onsuccess = () => {
        const cursor = walk.result;
        if (!cursor || limit <= 0) return;
        if (!skipped) {
          skipped = true;
          cursor.advance(offset);
          return;
        }
        page.push(cursor.value as MessageRecord);
        if (page.length < limit) cursor.continue();
      };
      return page;
    });
    return Promise.all(records.map((r) => this.toMessage(r)));
  }

  /** Marks every message of a chat as seen; returns how many were unread. */
  async markRead(chat: string): Promise<number> {
    return transaction(this.db, [MESSAGES], "readwrite", (tx) => {
      const marked = { count: 0 };
      // One read of all unread records, then the writes queued at once: a cursor would cost a
      // round trip per record (seconds for thousands).
      const store = tx.objectStore(MESSAGES);
      const unread = store.index("unread").getAll(IDBKeyRange.only([chat, 0]));
      unread.onsuccess = () => {
        const records = unread.result as MessageRecord[];
        for (const record of records) store.put({ ...record, shown: 1 });
        marked.count = records.length;
      };
      return marked;
    }).then((marked) => marked.count);
  }

  /** Messages not yet shown, oldest arrival first, without marking them. */
  async unshown(limit = 100): Promise<ChatMessage[]> {
    const records = (await request(this.messageIndex("unshown").getAll(IDBKeyRange.bound([0], [0, []]), limit))) as MessageRecord[];
    return Promise.all(records.map((r) => this.toMessage(r)));
  }

  async markShown(chat: string, id: string): Promise<void> {
    await transaction(this.db, [MESSAGES], "readwrite", (tx) => {
      const store = tx.objectStore(MESSAGES);
      const current = store.get([chat, id]);
      current.onsuccess = () => {
        const record = current.result as MessageRecord | undefined;
        if (record && record.shown === 0) store.put({ ...record, shown: 1 });
      };
    });
  }

  /** One message by its ID (IDs are random, 80 bits: unique across chats in practice). */
  async findMessage(id: string): Promise<ChatMessage | undefined> {
    const records = (await request(this.messageIndex("id").getAll(id))) as MessageRecord[];
    const first = records.sort((a, b) => a.seq - b.seq)[0];
    return first ? this.toMessage(first) : undefined;
  }

  /** Messages of a chat that refer to `target` (reactions, card actions and outcomes), oldest first. */
  async replies(chat: string, target: string): Promise<ChatMessage[]> {
    const records = (await request(this.messageIndex("target").getAll([chat, target]))) as MessageRecord[];
    return Promise.all(records.sort((a, b) => a.seq - b.seq).map((r) => this.toMessage(r)));
  }

  /** Messages whose text (or file name) contains `query`, ignoring case; newest first. */
  async search(query: string, limit = 50): Promise<ChatMessage[]> {
    const needle = query.trim().toLocaleLowerCase();
    if (!needle) return [];
    const records = (await request(this.messageIndex("time").getAll())) as MessageRecord[];
    const found: ChatMessage[] = [];
    for (let i = records.length - 1; i >= 0 && found.length < limit; i--) {
      const r = records[i]!;
      const text = decoder.decode(await unseal(this.key, `msg:${r.chat}:${r.id}`, r.body));
      if (text.toLocaleLowerCase().includes(needle)) found.push(await this.toMessage(r));
    }
    return found;
  }

  private messageIndex(name: string): IDBIndex {
    return this.db.transaction(MESSAGES).objectStore(MESSAGES).index(name);
  }

  private async get<T>(store: string, key: IDBValidKey): Promise<T | undefined> {
    return (await request(this.db.transaction(store).objectStore(store).get(key))) as T | undefined;
  }

  /** This device's ID, to tell its own messages (already shown) from others'. */
  private async ownDevice(): Promise<string | undefined> {
    this.device ??= await this.get<string>(KV, "device");
    return this.device;
  }

  private sealIdentity(i: StoredIdentity): Promise<Uint8Array> {
    return seal(this.key, "identity", encodeIdentity(i));
  }

  private async sealKeyPackage(kp: StoredKeyPackage): Promise<KeyPackageRecord> {
    return { ref: kp.ref, suite: kp.suite, lastResort: kp.lastResort ? 1 : 0, data: await seal(this.key, `kp:${kp.ref}`, encodeKeyPackageSecrets(kp)) };
  }

  private async sealMessage(m: ChatMessage, ownDevice: string | undefined): Promise<Omit<MessageRecord, "seq">> {
    const where = `${m.chat}:${m.id}`;
    return {
      chat: m.chat,
      id: m.id,
      from: m.from,
      fromDevice: m.fromDevice,
      type: m.type,
      body: await seal(this.key, `msg:${where}`, encoder.encode(m.text)),
      ...(m.file ? { file: await seal(this.key, `file:${where}`, encoder.encode(JSON.stringify(m.file))) } : {}),
      ...(m.card ? { card: await seal(this.key, `card:${where}`, encoder.encode(JSON.stringify(m.card))) } : {}),
      ...(m.target !== undefined ? { target: m.target } : {}),
      sentAt: m.sentAt,
      receivedAt: m.receivedAt,
      outgoing: m.outgoing ? 1 : 0,
      // What this device sent itself is already on screen; everything else waits to be shown.
      // An edit or a deletion changes a message already there: nothing new to read.
      shown: m.fromDevice === ownDevice || m.type === "edit" || m.type === "delete" ? 1 : 0,
      ...(m.replyTo !== undefined ? { replyTo: m.replyTo } : {}),
      ...(m.edited ? { edited: 1 as const } : {}),
      ...(m.deleted ? { deleted: 1 as const } : {}),
      ...(m.delivered ? { delivered: 1 as const } : {}),
    };
  }

  private async toMessage(r: MessageRecord): Promise<ChatMessage> {
    const where = `${r.chat}:${r.id}`;
    const open = async (name: string, sealed: Uint8Array) => decoder.decode(await unseal(this.key, `${name}:${where}`, sealed));
    return {
      id: r.id,
      chat: r.chat,
      from: r.from,
      fromDevice: r.fromDevice,
      type: r.type,
      ...(r.target !== undefined ? { target: r.target } : {}),
      ...(r.file ? { file: JSON.parse(await open("file", r.file)) as FileInfo } : {}),
      ...(r.card ? { card: JSON.parse(await open("card", r.card)) as CardPayload } : {}),
      text: await open("msg", r.body),
      sentAt: r.sentAt,
      receivedAt: r.receivedAt,
      outgoing: r.outgoing === 1,
      ...(r.replyTo !== undefined ? { replyTo: r.replyTo } : {}),
      ...(r.edited ? { edited: true } : {}),
      ...(r.deleted ? { deleted: true } : {}),
      ...(r.delivered ? { delivered: true } : {}),
    };
  }
}
