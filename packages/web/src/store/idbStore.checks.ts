// Checks of IdbStore that need a real browser (IndexedDB, WebCrypto). tests/browser/web-store.test.ts
// bundles this module, loads it in Chromium under the app's CSP and calls each check; a check
// returns what it saw and the test compares. Not part of the app's bundle.
import { ed25519 } from "@noble/curves/ed25519.js";
import { DEFAULT_CIPHERSUITE, Engine, systemEnv, type CardPayload, type ChatMessage, type FileInfo, type StoredIdentity, type StoredKeyPackage } from "@momedo/core";
import { encodeCredentialIdentity, signCredential, toBase64 } from "@momedo/protocol";
import { request } from "./idb.js";
import { IdbStore } from "./idbStore.js";

/** Written into every sealed kind of value; must never appear in the raw database. */
export const MARKER = "Geheimnis-Pausenbrot-7319";
const bytes = (text: string) => new TextEncoder().encode(text);
const list = (b: Uint8Array | undefined) => (b ? [...b] : undefined);
let databases = 0;
const freshName = () => `momedo-check-${Date.now()}-${databases++}`;

const identity: StoredIdentity = {
  user: "USERAAAA",
  device: "DEVICEAA",
  name: `Frau Albers ${MARKER}`,
  organization: "Grundschule am Deich",
  ciphersuite: "MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519",
  signaturePublicKey: new Uint8Array([1, 2, 3]),
  signKey: bytes(MARKER),
  credentialIdentity: new Uint8Array([7, 8]),
  orgKey: new Uint8Array([9, 9, 9]),
};

const keyPackage = (ref: string, suite: string, lastResort: boolean): StoredKeyPackage => ({
  ref,
  suite,
  publicPackage: new Uint8Array([4, 5]),
  initPrivateKey: bytes(`${MARKER}-init`),
  hpkePrivateKey: bytes(`${MARKER}-hpke`),
  signaturePrivateKey: bytes(`${MARKER}-sig`),
  lastResort,
});

let clock = 1_700_000_000_000;
function message(chat: string, id: string, text: string, extra: Partial<ChatMessage> = {}): ChatMessage {
  clock += 1000;
  return { id, chat, from: "USERBBBB", fromDevice: "DEVICEBB", type: "text", text, sentAt: clock, receivedAt: clock + 5, outgoing: false, ...extra };
}

const file: FileInfo = { blob: "BLOB0001", key: "a2V5", sha256: "c2hh", size: 1234, mediaType: "image/jpeg", name: `Klassenfoto ${MARKER}.jpg` };
const card = { kind: "card", card: { title: `Ausflug ${MARKER}`, actions: [] } } as unknown as CardPayload;

export const checks = {
  /** Everything the engine writes comes back as written, also after closing and reopening. */
  async roundTrips() {
    const name = freshName();
    const store = await IdbStore.open(name);
    await store.apply({
      identity,
      groups: new Map([
        ["GROUP-B", bytes(`${MARKER}-group`)],
        ["GROUP-A", new Uint8Array([1])],
      ]),
      keyPackagesAdded: [keyPackage("KP1", "suite-1", false), keyPackage("KP2", "suite-1", true)],
      messages: [message("CHAT1", "M1", `Hallo ${MARKER}`, { file }), message("CHAT1", "M2", "card", { type: "card", card })],
      settings: new Map([["passphrase", bytes(`${MARKER}-setting`)]]),
      cursor: 7,
    });
    store.close();
    const again = await IdbStore.open(name);
    const loaded = await again.loadIdentity();
    const kp = await again.loadKeyPackage("KP2");
    const before = {
      identity: loaded && { ...loaded, signaturePublicKey: list(loaded.signaturePublicKey), signKey: list(loaded.signKey), credentialIdentity: list(loaded.credentialIdentity), orgKey: list(loaded.orgKey) },
      groups: await again.listGroups(),
      groupB: list(await again.loadGroup("GROUP-B")),
      missingGroup: await again.loadGroup("GROUP-X"),
      kp: kp && { ...kp, publicPackage: list(kp.publicPackage), initPrivateKey: list(kp.initPrivateKey), hpkePrivateKey: list(kp.hpkePrivateKey), signaturePrivateKey: list(kp.signaturePrivateKey) },
      lastResort: await again.hasLastResortKeyPackage("suite-1"),
      lastResortOtherSuite: await again.hasLastResortKeyPackage("suite-2"),
      messages: await again.allMessages(),
      setting: list(await again.loadSetting("passphrase")),
      cursor: await again.cursor(),
    };
    await again.apply({ groups: new Map([["GROUP-B", null]]), keyPackagesDeleted: ["KP2"] });
    const after = {
      groups: await again.listGroups(),
      kp: await again.loadKeyPackage("KP2"),
      lastResort: await again.hasLastResortKeyPackage("suite-1"),
    };
    again.close();
    return {
      before,
      after,
      expected: {
        identity: { ...identity, signaturePublicKey: list(identity.signaturePublicKey), signKey: list(identity.signKey), credentialIdentity: list(identity.credentialIdentity), orgKey: list(identity.orgKey) },
        groupB: list(bytes(`${MARKER}-group`)),
        initPrivateKey: list(bytes(`${MARKER}-init`)),
        setting: list(bytes(`${MARKER}-setting`)),
        file,
        card,
      },
    };
  },

  /** The cursor only moves forward. */
  async cursorMax() {
    const store = await IdbStore.open(freshName());
    const seen = [await store.cursor()];
    for (const cursor of [5, 3, 9, 9]) {
      await store.apply({ cursor });
      seen.push(await store.cursor());
    }
    store.close();
    return seen;
  },

  /** INSERT OR IGNORE: a message stored once keeps its first version; IDs are per chat. */
  async dedupe() {
    const store = await IdbStore.open(freshName());
    await store.apply({ messages: [message("CHAT1", "M1", "eins")] });
    await store.apply({ messages: [message("CHAT1", "M1", "zwei"), message("CHAT2", "M1", "drei")], cursor: 2 });
    const twice = await store.allMessages();
    const has = [await store.hasMessage("CHAT1", "M1"), await store.hasMessage("CHAT2", "M1"), await store.hasMessage("CHAT3", "M1")];
    // A step that brings a message and its deletion leaves nothing.
    await store.apply({ messages: [message("CHAT1", "M9", "weg")], messagesDeleted: [{ chat: "CHAT1", id: "M9" }, { chat: "CHAT2", id: "M1" }] });
    const afterDelete = await store.allMessages();
    const cursor = await store.cursor();
    store.close();
    return { texts: twice.map((m) => `${m.chat}/${m.id}:${m.text}`), has, afterDelete: afterDelete.map((m) => `${m.chat}/${m.id}:${m.text}`), cursor };
  },

  async settingsDelete() {
    const store = await IdbStore.open(freshName());
    await store.apply({ settings: new Map([["a", new Uint8Array([1])], ["b", new Uint8Array([2])]]) });
    await store.apply({ settings: new Map([["a", null]]) });
    const result = { a: list(await store.loadSetting("a")), b: list(await store.loadSetting("b")) };
    store.close();
    return result;
  },

  /** Who sent a card, and whether that sender already decided it. */
  async cardInfo() {
    const store = await IdbStore.open(freshName());
    const outcome = { kind: "outcome", outcome: {} } as unknown as CardPayload;
    await store.apply({
      messages: [
        message("CHAT1", "CARD1", "Ausflug?", { type: "card", card, from: "USERCCCC" }),
        message("CHAT1", "CARD2", "Elternabend?", { type: "card", card, from: "USERCCCC" }),
        message("CHAT1", "OUT1", "", { type: "card_outcome", card: outcome, target: "CARD1", from: "USERCCCC" }),
        message("CHAT1", "OUT2", "", { type: "card_outcome", card: outcome, target: "CARD2", from: "USERDDDD" }),
      ],
    });
    const result = {
      card1: await store.cardInfo("CHAT1", "CARD1"),
      card2: await store.cardInfo("CHAT1", "CARD2"),
      notACard: await store.cardInfo("CHAT1", "OUT1"),
      missing: await store.cardInfo("CHAT1", "NOPE"),
    };
    store.close();
    return result;
  },

  /** What the UI reads: the chats list, pages of a timeline, unread counts, search. */
  async uiReads() {
    const store = await IdbStore.open(freshName());
    await store.apply({ identity });
    await store.apply({
      messages: [
        message("CHAT-A", "A1", "Guten Morgen"),
        message("CHAT-B", "B1", "Elternabend am Dienstag"),
        message("CHAT-A", "A2", "Bis später", { fromDevice: identity.device, from: identity.user, outgoing: true }),
        message("CHAT-B", "B2", "👍", { type: "reaction", target: "B1" }),
        message("CHAT-A", "A3", "Der Ausflug fällt aus"),
      ],
    });
    const chats = (await store.chats()).map((c) => ({ chat: c.chat, last: c.last.id, unread: c.unread }));
    const count = await store.countMessages("CHAT-A");
    const firstPage = (await store.messages("CHAT-A", 0, 2)).map((m) => m.id);
    const secondPage = (await store.messages("CHAT-A", 2, 2)).map((m) => m.id);
    const pastEnd = await store.messages("CHAT-A", 5, 2);
    const unshown = (await store.unshown()).map((m) => m.id);
    await store.markShown("CHAT-B", "B1");
    const unshownAfter = (await store.unshown()).map((m) => m.id);
    const marked = await store.markRead("CHAT-A");
    const chatsAfter = (await store.chats()).map((c) => ({ chat: c.chat, unread: c.unread }));
    const found = (await store.findMessage("B2"))?.text;
    const replies = (await store.replies("CHAT-B", "B1")).map((m) => m.id);
    const search = (await store.search("AUSFLUG")).map((m) => m.id);
    const searchNone = await store.search("Zeugnis");
    store.close();
    return { chats, count, firstPage, secondPage, pastEnd, unshown, unshownAfter, marked, chatsAfter, found, replies, search, searchNone };
  },

  /** 10,000 messages in one chat: counting and reading a page stay fast (a virtualised timeline). */
  async longChat() {
    const store = await IdbStore.open(freshName());
    const total = 10_000;
    const started = performance.now();
    for (let batch = 0; batch < total / 1000; batch++) {
      await store.apply({ messages: Array.from({ length: 1000 }, (_, i) => message("BIG", `M${String(batch * 1000 + i).padStart(5, "0")}`, `Nachricht ${batch * 1000 + i}`)) });
    }
    const written = performance.now() - started;
    const readStart = performance.now();
    const count = await store.countMessages("BIG");
    const last = await store.messages("BIG", count - 50, 50);
    const middle = await store.messages("BIG", 5000, 50);
    const readMs = performance.now() - readStart;
    const chats = await store.chats();
    store.close();
    return {
      count,
      last: [last[0]?.text, last.at(-1)?.text, last.length],
      middle: [middle[0]?.text, middle.length],
      chats: chats.map((c) => ({ chat: c.chat, last: c.last.text, unread: c.unread })),
      writeMs: Math.round(written),
      readMs: Math.round(readMs),
    };
  },

  /** The raw database, read around the store: no marker in any record, and the key cannot leave. */
  async rawContents() {
    const name = freshName();
    const store = await IdbStore.open(name);
    await store.apply({
      identity,
      groups: new Map([["GROUP-1", bytes(`${MARKER}-group`)]]),
      keyPackagesAdded: [keyPackage("KP1", "suite-1", true)],
      messages: [message("CHAT1", "M1", `Text ${MARKER}`, { file }), message("CHAT1", "M2", "Karte", { type: "card", card })],
      settings: new Map([["passphrase", bytes(`${MARKER}-setting`)]]),
    });
    store.close();
    const db = await request(indexedDB.open(name));
    const found: string[] = [];
    let records = 0;
    let sealingKey: CryptoKey | undefined;
    const needle = bytes(MARKER);
    const containsBytes = (hay: Uint8Array) => {
      outer: for (let i = 0; i + needle.length <= hay.length; i++) {
        for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
        return true;
      }
      return false;
    };
    const visit = (value: unknown, path: string): void => {
      if (typeof value === "string") {
        if (value.includes(MARKER)) found.push(path);
      } else if (value instanceof Uint8Array || value instanceof ArrayBuffer) {
        if (containsBytes(new Uint8Array(value))) found.push(path);
      } else if (value instanceof CryptoKey) {
        sealingKey = value;
      } else if (Array.isArray(value)) value.forEach((v, i) => visit(v, `${path}[${i}]`));
      else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`);
    };
    for (const storeName of [...db.objectStoreNames]) {
      const tx = db.transaction(storeName);
      const keys = await request(tx.objectStore(storeName).getAllKeys());
      const values = await request(tx.objectStore(storeName).getAll());
      records += values.length;
      values.forEach((v, i) => visit(v, `${storeName}/${JSON.stringify(keys[i])}`));
    }
    db.close();
    let exportError = "";
    try {
      await crypto.subtle.exportKey("raw", sealingKey!);
    } catch (error) {
      exportError = error instanceof Error ? error.name : String(error);
    }
    return {
      records,
      found,
      key: sealingKey && { extractable: sealingKey.extractable, algorithm: (sealingKey.algorithm as AesKeyAlgorithm).name, length: (sealingKey.algorithm as AesKeyAlgorithm).length, usages: sealingKey.usages },
      exportError,
      markerWorks: containsBytes(bytes(`x${MARKER}y`)),
    };
  },

  /** The core engine in the browser over IdbStore: Alice writes to Bob, Bob reads it after reopening. */
  async engineChat() {
    const org = ed25519.keygen();
    const enroll = async (user: string, device: string) => {
      const name = freshName();
      const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
      const credential = toBase64(encodeCredentialIdentity(signCredential(org.secretKey, user, device, keys.publicKey)));
      const engine = await Engine.enroll(await IdbStore.open(name), systemEnv, keys, {
        user,
        device,
        name: user,
        organization: "Test",
        credential,
        orgKey: toBase64(org.publicKey),
        ciphersuite: DEFAULT_CIPHERSUITE,
      });
      return { name, engine };
    };
    const alice = await enroll("AAAAAAAA", "A1A1A1A1");
    const bob = await enroll("BBBBBBBB", "B1B1B1B1");
    const [keyPackage] = (await bob.engine.createKeyPackages(1)).keyPackages;
    const pending = await alice.engine.createDirectChat("BBBBBBBB", [{ device: "B1B1B1B1", keyPackage: keyPackage! }], []);
    await alice.engine.commitAccepted(pending.group);
    const out = await alice.engine.encryptText(pending.group, `Stunde 1 fällt aus ${MARKER}`);
    const at = Date.now();
    const events = [
      ...(await bob.engine.receive({ t: "msg", seq: 1, group: pending.group, kind: "welcome", from: alice.engine.address, data: pending.welcome!, at })),
      ...(await bob.engine.receive({ t: "msg", seq: 2, group: pending.group, kind: "app", from: alice.engine.address, data: out.data, at })),
    ];
    const reopened = await IdbStore.open(bob.name);
    const engine = await Engine.open(reopened);
    const result = {
      received: events.flatMap((e) => (e.type === "message" ? [`${e.message.from}:${e.message.text}`] : [])),
      reopenedAs: engine?.user,
      stored: (await reopened.allMessages()).map((m) => `${m.from}:${m.text}`),
      groups: (await reopened.listGroups()).length,
      cursor: await reopened.cursor(),
    };
    reopened.close();
    return result;
  },

  /** A sealed value moved to another record does not open: the record's name is bound to it. */
  async movedValueRefused() {
    const name = freshName();
    const store = await IdbStore.open(name);
    await store.apply({ groups: new Map([["G1", bytes("eins")], ["G2", bytes("zwei")]]) });
    store.close();
    const db = await request(indexedDB.open(name));
    const g1 = await request(db.transaction("groups").objectStore("groups").get("G1"));
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction("groups", "readwrite");
      tx.objectStore("groups").put(g1, "G2");
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    db.close();
    const again = await IdbStore.open(name);
    let error = "";
    try {
      await again.loadGroup("G2");
    } catch (e) {
      error = e instanceof Error ? e.name : String(e);
    }
    const g1Text = new TextDecoder().decode(await again.loadGroup("G1"));
    again.close();
    return { error, g1Text };
  },
};

declare global {
  interface Window {
    momedoStoreChecks: typeof checks;
  }
}
window.momedoStoreChecks = checks;
