import { fromBase64, toBase64 } from "@momedo/protocol";
import type { CardPayload } from "./cards.js";
import type { FileInfo } from "./content.js";
// What the engine keeps between runs. Shells provide it (SQLite in Node, IndexedDB in browsers);
// the engine hands over every change of one step as one batch, so a crash never half-applies.
export interface StoredIdentity {
  user: string;
  device: string;
  name: string;
  organization: string;
  ciphersuite: string;
  signaturePublicKey: Uint8Array;
  signKey: Uint8Array;
  credentialIdentity: Uint8Array;
  orgKey: Uint8Array;
}

export interface StoredKeyPackage {
  ref: string;
  suite: string;
  publicPackage: Uint8Array;
  initPrivateKey: Uint8Array;
  hpkePrivateKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
  lastResort: boolean;
}

export interface ChatMessage {
  id: string;
  chat: string;
  from: string;
  fromDevice: string;
  type: "text" | "reaction" | "file" | "card" | "card_action" | "card_outcome" | "edit" | "delete";
  /** The text, for a reaction its emoji, for a file its name. */
  text: string;
  /** For a file: how to fetch, check and decrypt it, and what it is. */
  file?: FileInfo;
  /** For a card, an action on a card, or a card's outcome: what it says. */
  card?: CardPayload;
  /** For a reaction, a card action or a card outcome: the message it refers to. */
  target?: string;
  sentAt: number;
  receivedAt: number;
  outgoing: boolean;
  /** For a text: the message it answers. */
  replyTo?: string;
  /** Its sender changed the text after sending it. */
  edited?: boolean;
  /** Its sender deleted it for everyone: the text (and file, card) is gone, the row stays. */
  deleted?: boolean;
  /** Sent by this device, and every other person of the chat has fetched it (small chats). */
  delivered?: boolean;
}

export interface EngineChanges {
  identity?: StoredIdentity;
  /** Encoded MLS group state per group; null removes the group. */
  groups?: Map<string, Uint8Array | null>;
  keyPackagesAdded?: StoredKeyPackage[];
  keyPackagesDeleted?: string[];
  messages?: ChatMessage[];
  messagesDeleted?: { chat: string; id: string }[];
  /** Stored messages replaced as a whole (an edit's new text, a deletion's marker); applied after `messages`. */
  messagesUpdated?: ChatMessage[];
  /** Stored messages of this device that every other person fetched ("delivered"). */
  delivered?: { chat: string; id: string }[];
  /** Small secret values by name (passphrase keys, parked entries); null removes one. */
  settings?: Map<string, Uint8Array | null>;
  /** Highest mailbox sequence number fully processed. */
  cursor?: number;
}

export interface EngineStore {
  loadIdentity(): Promise<StoredIdentity | undefined>;
  loadGroup(group: string): Promise<Uint8Array | undefined>;
  loadKeyPackage(ref: string): Promise<StoredKeyPackage | undefined>;
  hasLastResortKeyPackage(suite: string): Promise<boolean>;
  listGroups(): Promise<string[]>;
  allMessages(): Promise<ChatMessage[]>;
  hasMessage(chat: string, id: string): Promise<boolean>;
  /** One stored message, or undefined. */
  loadMessage(chat: string, id: string): Promise<ChatMessage | undefined>;
  /** Who sent the card `id` in `chat`, and whether they already decided it; undefined if no such card. */
  cardInfo(chat: string, id: string): Promise<{ from: string; decided: boolean } | undefined>;
  loadSetting(name: string): Promise<Uint8Array | undefined>;
  cursor(): Promise<number>;
  apply(changes: EngineChanges): Promise<void>;
}

/** The identity as a store keeps it (then sealed): JSON, byte fields in base64. */
export function encodeIdentity(i: StoredIdentity): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      ...i,
      signaturePublicKey: toBase64(i.signaturePublicKey),
      signKey: toBase64(i.signKey),
      credentialIdentity: toBase64(i.credentialIdentity),
      orgKey: toBase64(i.orgKey),
    }),
  );
}

export function decodeIdentity(bytes: Uint8Array): StoredIdentity {
  const v = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string>;
  return {
    user: v.user!,
    device: v.device!,
    name: v.name!,
    organization: v.organization!,
    ciphersuite: v.ciphersuite!,
    signaturePublicKey: fromBase64(v.signaturePublicKey!),
    signKey: fromBase64(v.signKey!),
    credentialIdentity: fromBase64(v.credentialIdentity!),
    orgKey: fromBase64(v.orgKey!),
  };
}

/** A KeyPackage's key material as a store keeps it (then sealed); ref, suite and the last-resort flag stay beside it. */
export function encodeKeyPackageSecrets(kp: StoredKeyPackage): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      publicPackage: toBase64(kp.publicPackage),
      initPrivateKey: toBase64(kp.initPrivateKey),
      hpkePrivateKey: toBase64(kp.hpkePrivateKey),
      signaturePrivateKey: toBase64(kp.signaturePrivateKey),
    }),
  );
}

export function decodeKeyPackageSecrets(ref: string, suite: string, lastResort: boolean, bytes: Uint8Array): StoredKeyPackage {
  const v = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string>;
  return {
    ref,
    suite,
    publicPackage: fromBase64(v.publicPackage!),
    initPrivateKey: fromBase64(v.initPrivateKey!),
    hpkePrivateKey: fromBase64(v.hpkePrivateKey!),
    signaturePrivateKey: fromBase64(v.signaturePrivateKey!),
    lastResort,
  };
}

/** An in-memory store for tests and for bots that keep nothing. */
export class MemoryStore implements EngineStore {
  identity: StoredIdentity | undefined;
  readonly groups = new Map<string, Uint8Array>();
  readonly keyPackages = new Map<string, StoredKeyPackage>();
  readonly messages: ChatMessage[] = [];
  readonly settings = new Map<string, Uint8Array>();
  private seq = 0;

  async loadIdentity() {
    return this.identity;
  }
  async loadGroup(group: string) {
    return this.groups.get(group);
  }
  async loadKeyPackage(ref: string) {
    return this.keyPackages.get(ref);
  }
  async hasLastResortKeyPackage(suite: string) {
    return [...this.keyPackages.values()].some((k) => k.lastResort && k.suite === suite);
  }
  async listGroups() {
    return [...this.groups.keys()];
  }
  async allMessages() {
    return [...this.messages];
  }
  async hasMessage(chat: string, id: string) {
    return this.messages.some((m) => m.chat === chat && m.id === id);
  }
  async loadMessage(chat: string, id: string) {
    return this.messages.find((m) => m.chat === chat && m.id === id);
  }
  async cardInfo(chat: string, id: string) {
    const card = this.messages.find((m) => m.chat === chat && m.id === id && m.type === "card");
    if (!card) return undefined;
    const decided = this.messages.some((m) => m.chat === chat && m.type === "card_outcome" && m.target === id && m.from === card.from);
    return { from: card.from, decided };
  }
  async cursor() {
    return this.seq;
  }
  async loadSetting(name: string) {
    return this.settings.get(name);
  }
  async apply(changes: EngineChanges) {
    if (changes.identity) this.identity = changes.identity;
    for (const [group, state] of changes.groups ?? []) {
      if (state) this.groups.set(group, state);
      else this.groups.delete(group);
    }
    for (const kp of changes.keyPackagesAdded ?? []) this.keyPackages.set(kp.ref, kp);
    for (const ref of changes.keyPackagesDeleted ?? []) this.keyPackages.delete(ref);
    for (const m of changes.messages ?? []) if (!this.messages.some((x) => x.chat === m.chat && x.id === m.id)) this.messages.push(m);
    for (const m of changes.messagesUpdated ?? []) {
      const i = this.messages.findIndex((x) => x.chat === m.chat && x.id === m.id);
      if (i >= 0) this.messages[i] = m;
    }
    for (const d of changes.delivered ?? []) {
      const i = this.messages.findIndex((m) => m.chat === d.chat && m.id === d.id);
      if (i >= 0) this.messages[i] = { ...this.messages[i]!, delivered: true };
    }
    for (const d of changes.messagesDeleted ?? []) {
      const i = this.messages.findIndex((m) => m.chat === d.chat && m.id === d.id);
      if (i >= 0) this.messages.splice(i, 1);
    }
    for (const [name, value] of changes.settings ?? []) {
      if (value) this.settings.set(name, value);
      else this.settings.delete(name);
    }
    if (changes.cursor !== undefined) this.seq = Math.max(this.seq, changes.cursor);
  }
}
