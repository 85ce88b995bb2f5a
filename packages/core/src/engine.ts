// The client engine, sans-I/O: the shell pushes in what the server delivered and asks for the
// frames to send; the engine never opens a socket, reads a clock or touches a database itself.
import type { CiphersuiteImpl, KeyPackage } from "ts-mls";
import type { ClientConfig } from "ts-mls/clientConfig.js";
import {
  authChallengeText,
  crockford,
  directChatId,
  fromBase64,
  toBase64,
  type ClaimedKeyPackage,
  type DeliverFrame,
  type EnrollResponse,
  type Notice,
} from "@momedo/protocol";
import type { CardPayload } from "./cards.js";
import { decodeContent, encodeContent, MAX_EMOJI_LENGTH, MAX_TEXT_LENGTH, type Content, type FileInfo } from "./content.js";
import { passphrasePsk } from "./passphrase.js";
import {
  ciphersuite,
  clientConfig,
  commitChanges,
  createGroupState,
  decodeState,
  encodeKeyPackageMessage,
  encodeState,
  encryptApplication,
  groupCiphersuite,
  groupEpoch,
  groupMembers,
  isActive,
  joinFromWelcome,
  isMissingPsk,
  MlsError,
  newKeyPackage,
  newSignatureKeys,
  processIncoming,
  readPeerKeyPackage,
  sign,
  welcomeRecipients,
  type ExternalPsk,
  type GroupState,
  type Member,
  type OwnKeyPackage,
  type SignatureKeys,
} from "./mls.js";
import type { ChatMessage, EngineChanges, EngineStore, StoredIdentity, StoredKeyPackage } from "./store.js";

export interface EngineEnv {
  now(): number;
  randomBytes(length: number): Uint8Array;
}

export const systemEnv: EngineEnv = {
  now: () => Date.now(),
  randomBytes: (length) => globalThis.crypto.getRandomValues(new Uint8Array(length)),
};

export type EngineEvent =
  | { type: "message"; message: ChatMessage; seq: number }
  | { type: "joined"; chat: string; by: string; epoch: number }
  | { type: "changed"; chat: string; epoch: number }
  | { type: "removed"; chat: string }
  | { type: "notice"; chat: string; from: string; notice: Notice }
  | { type: "delivered"; chat: string; id: string }
  | { type: "passphrase_needed"; chat: string }
  | { type: "undecryptable"; chat: string; seq: number; reason: string };

/** What the shell sends to create a group: one `group.commit` frame's fields. */
export interface PendingCommit {
  group: string;
  epoch: number;
  commit: string;
  welcome?: string;
  members: string[];
  create?: { kind: "group" | "channel"; name: string };
}

/** KeyPackages the key server handed out for one person. */
export interface ClaimedPerson {
  user: string;
  devices: ClaimedKeyPackage[];
}

export interface OutgoingMessage {
  group: string;
  epoch: number;
  data: string;
  message: ChatMessage;
}

export class Engine {
  private readonly pending = new Map<string, GroupState>();
  private readonly pendingPsk = new Map<string, ExternalPsk>();
  /** Decoded group states as last stored: decoding a large group costs more than using it. */
  private readonly states = new Map<string, GroupState>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: EngineStore,
    private readonly env: EngineEnv,
    readonly identity: StoredIdentity,
    private readonly impl: CiphersuiteImpl,
    private readonly config: ClientConfig,
  ) {}

  /** Step one of enrollment: the device's signature key, created before the server knows it. */
  static async newSignatureKeys(suiteName: string): Promise<SignatureKeys> {
    return newSignatureKeys(await ciphersuite(suiteName));
  }

  /** Step two: store what the server answered to the enrollment. */
  static async enroll(
    store: EngineStore,
    env: EngineEnv,
    keys: SignatureKeys,
    enrollment: EnrollResponse,
  ): Promise<Engine> {
    const identity: StoredIdentity = {
      user: enrollment.user,
      device: enrollment.device,
      name: enrollment.name,
      organization: enrollment.organization,
      ciphersuite: enrollment.ciphersuite,
      signaturePublicKey: keys.publicKey,
      signKey: keys.signKey,
      credentialIdentity: fromBase64(enrollment.credential),
      orgKey: fromBase64(enrollment.orgKey),
    };
    const impl = await ciphersuite(identity.ciphersuite);
    const config = clientConfig(identity.orgKey);
    const valid = await config.authService.validateCredential(
      { credentialType: "basic", identity: identity.credentialIdentity },
      identity.signaturePublicKey,
    );
    if (!valid) throw new MlsError("untrusted_credential", "the server returned a credential the org key does not vouch for");
    await store.apply({ identity });
    return new Engine(store, env, identity, impl, config);
  }

  static async open(store: EngineStore, env: EngineEnv = systemEnv): Promise<Engine | undefined> {
    const identity = await store.loadIdentity();
    if (!identity) return undefined;
    return new Engine(store, env, identity, await ciphersuite(identity.ciphersuite), clientConfig(identity.orgKey));
  }

  get user(): string {
    return this.identity.user;
  }

  get device(): string {
    return this.identity.device;
  }

  get address(): string {
    return `${this.identity.user}/${this.identity.device}`;
  }

  async authSignature(nonce: string): Promise<string> {
    return toBase64(await sign(this.impl, this.keys(), authChallengeText(nonce, this.user, this.device)));
  }

  /** New one-time KeyPackages to upload, plus a last-resort one if this device has none yet. */
  async createKeyPackages(count: number, suite = this.identity.ciphersuite): Promise<{ keyPackages: string[]; lastResort?: string; suite: string }> {
    return this.serialized(async () => {
      const impl = await ciphersuite(suite);
      const added: StoredKeyPackage[] = [];
      for (let i = 0; i < count; i++) added.push(this.toStored(await this.newOwnKeyPackage(impl), false, suite));
      let lastResort: StoredKeyPackage | undefined;
      if (!(await this.store.hasLastResortKeyPackage(suite))) {
        lastResort = this.toStored(await this.newOwnKeyPackage(impl), true, suite);
        added.push(lastResort);
      }
      await this.store.apply({ keyPackagesAdded: added });
      return {
        keyPackages: added.filter((k) => !k.lastResort).map((k) => toBase64(encodeKeyPackageMessage(k.publicPackage))),
        ...(lastResort ? { lastResort: toBase64(encodeKeyPackageMessage(lastResort.publicPackage)) } : {}),
        suite,
      };
    });
  }

  directChat(peer: string): string {
    return directChatId(this.user, peer);
  }

  async hasGroup(group: string): Promise<boolean> {
    return (await this.store.loadGroup(group)) !== undefined;
  }

  /** True when this device holds the group's current state and has not been removed from it. */
  async isMember(group: string): Promise<boolean> {
    const state = await this.loadState(group);
    return state !== undefined && isActive(state);
  }

  /**
   * Creates the 1:1 group with `peer`: adds every device of the peer and this person's other
   * devices. The result is held as pending until the server accepts or rejects the commit.
   */
  async createDirectChat(peer: string, peerDevices: ClaimedKeyPackage[], ownDevices: ClaimedKeyPackage[], suite = this.identity.ciphersuite): Promise<PendingCommit> {
    if (peerDevices.length === 0) throw new MlsError("no_key_package", `no device of ${peer}`);
    return this.createGroup(this.directChat(peer), suite, [
      { user: peer, devices: peerDevices },
      { user: this.user, devices: ownDevices },
    ]);
  }

  /** Creates a group (or channel) with the claimed devices of its first members. */
  async createGroup(group: string, suite: string, people: ClaimedPerson[], create?: PendingCommit["create"]): Promise<PendingCommit> {
    return this.serialized(async () => {
      const impl = await ciphersuite(suite);
      const adds = await this.verifiedKeyPackages(impl, people, new Set([this.address]));
      const initial = await createGroupState(impl, this.config, group, await this.newOwnKeyPackage(impl));
      return this.pendingCommit(impl, group, initial, { adds }, create);
    });
  }

  /** Adds people or devices (claimed KeyPackages) to an existing group. */
  async addMembers(group: string, people: ClaimedPerson[]): Promise<PendingCommit> {
    return this.serialized(async () => {
      const state = await this.activeState(group);
      const impl = await ciphersuite(groupCiphersuite(state));
      const present = new Set(groupMembers(state).map((m) => `${m.user}/${m.device}`));
      const adds = await this.verifiedKeyPackages(impl, people, present);
      return this.pendingCommit(impl, group, state, { adds });
    });
  }

  /** Removes the given devices (USER/DEVICE) or every device of the given people (USER). */
  async removeMembers(group: string, targets: string[]): Promise<PendingCommit> {
    return this.serialized(async () => {
      const state = await this.activeState(group);
      const impl = await ciphersuite(groupCiphersuite(state));
      const wanted = new Set(targets);
      const removes = groupMembers(state)
        .filter((m) => wanted.has(m.user) || wanted.has(`${m.user}/${m.device}`))
        .filter((m) => !(m.user === this.user && m.device === this.device))
        .map((m) => m.leafIndex);
      return this.pendingCommit(impl, group, state, { removes });
    });
  }

  /** Fresh keys for this device's leaf and path: forward secrecy and post-compromise security. */
  async rekey(group: string): Promise<PendingCommit> {
    return this.serialized(async () => {
      const state = await this.activeState(group);
      return this.pendingCommit(await ciphersuite(groupCiphersuite(state)), group, state, {});
    });
  }

  /** Members as the MLS tree has them, with leaf indexes. */
  async memberList(group: string): Promise<Member[]> {
    const state = await this.loadState(group);
    return state ? groupMembers(state) : [];
  }

  async groups(): Promise<string[]> {
    return this.store.listGroups();
  }

  /** Every stored message, for the history a newly linked device receives. */
  async history(): Promise<ChatMessage[]> {
    return this.store.allMessages();
  }

  /** A message that the server refused for good leaves the local history again. */
  async discardOutgoing(chat: string, id: string): Promise<void> {
    await this.store.apply({ messagesDeleted: [{ chat, id }] });
  }

  /** Forgets a group this device left. */
  async forget(group: string): Promise<void> {
    await this.save({}, new Map([[group, null]]));
  }

  async importHistory(messages: ChatMessage[]): Promise<void> {
    await this.store.apply({ messages: messages.map((m) => ({ ...m, outgoing: m.from === this.user })) });
  }

  async commitAccepted(group: string): Promise<void> {
    return this.serialized(async () => {
      const state = this.pending.get(group);
      if (!state) return;
      this.pending.delete(group);
      const psk = this.pendingPsk.get(group);
      this.pendingPsk.delete(group);
      await this.save(psk ? { settings: new Map([[`psk:${group}`, encodePsk(psk)]]) } : {}, new Map([[group, state]]));
    });
  }

  commitRejected(group: string): void {
    this.pending.delete(group);
    this.pendingPsk.delete(group);
  }

  /**
   * Protects a conversation with an extra passphrase (MLS external PSK): from this commit on,
   * every commit injects it, so a member who does not know it cannot follow the group.
   */
  async protect(group: string, passphrase: string): Promise<PendingCommit> {
    const psk = await passphrasePsk(group, passphrase);
    return this.serialized(async () => {
      const state = await this.activeState(group);
      const pending = await this.pendingCommit(await ciphersuite(groupCiphersuite(state)), group, state, { psk });
      this.pendingPsk.set(group, psk);
      return pending;
    });
  }

  /** Enters a conversation's passphrase and processes the entries that waited for it. */
  async enterPassphrase(group: string, passphrase: string): Promise<EngineEvent[]> {
    const psk = await passphrasePsk(group, passphrase);
    return this.serialized(async () => {
      const parked = await this.parked(group);
      const events: EngineEvent[] = [];
      const changes: EngineChanges = { settings: new Map([[`psk:${group}`, encodePsk(psk)]]) };
      await this.store.apply(changes);
      for (let i = 0; i < parked.length; i++) {
        const step: EngineChanges = {};
        const states = new Map<string, GroupState | null>();
        try {
          events.push(...(await this.process(parked[i]!, step, states)));
        } catch (error) {
          if (error instanceof MlsError && error.reason === "passphrase_needed") {
            // Wrong passphrase: keep waiting, forget the key that did not fit.
            await this.store.apply({ settings: new Map<string, Uint8Array | null>([[`psk:${group}`, null], [`parked:${group}`, encodeParked(parked.slice(i))]]) });
            throw new RangeError("Das Passwort passt nicht / the passphrase does not fit");
          }
          if (!(error instanceof MlsError)) throw error;
          events.push({ type: "undecryptable", chat: group, seq: parked[i]!.seq, reason: error.message });
        }
        await this.save({ ...step, settings: new Map([[`parked:${group}`, encodeParked(parked.slice(i + 1))]]) }, states);
      }
      return events;
    });
  }

  private async parked(group: string): Promise<DeliverFrame[]> {
    const bytes = await this.store.loadSetting(`parked:${group}`);
    return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as DeliverFrame[]) : [];
  }

  private async groupPsk(group: string): Promise<ExternalPsk | undefined> {
    const bytes = await this.store.loadSetting(`psk:${group}`);
    if (!bytes) return undefined;
    const v = JSON.parse(new TextDecoder().decode(bytes)) as { id: string; secret: string };
    return { id: fromBase64(v.id), secret: fromBase64(v.secret) };
  }

  private async pendingCommit(
    impl: CiphersuiteImpl,
    group: string,
    state: GroupState,
    changes: { adds?: KeyPackage[]; removes?: number[]; psk?: ExternalPsk },
    create?: PendingCommit["create"],
  ): Promise<PendingCommit> {
    const epoch = groupEpoch(state);
    const psk = changes.psk ?? (await this.groupPsk(group));
    const out = await commitChanges(impl, state, { ...changes, ...(psk ? { psk } : {}) });
    this.pending.set(group, out.state);
    return {
      group,
      epoch,
      commit: toBase64(out.commit),
      ...(out.welcome ? { welcome: toBase64(out.welcome) } : {}),
      // The server's member list is taken from the tree this commit produces, so both agree.
      members: groupMembers(out.state).map((m) => `${m.user}/${m.device}`),
      ...(create ? { create } : {}),
    };
  }

  private async verifiedKeyPackages(impl: CiphersuiteImpl, people: ClaimedPerson[], skip: Set<string>): Promise<KeyPackage[]> {
    const adds: KeyPackage[] = [];
    for (const person of people) {
      for (const claimed of person.devices) {
        const { keyPackage, credential } = await readPeerKeyPackage(impl, this.identity.orgKey, fromBase64(claimed.keyPackage));
        // The key server must not be able to slip someone else's device into the chat.
        if (credential.user !== person.user || credential.device !== claimed.device) {
          throw new MlsError(
            "untrusted_credential",
            `key package of ${credential.user}/${credential.device} offered for ${person.user}/${claimed.device}`,
          );
        }
        if (keyPackage.cipherSuite !== impl.name) throw new MlsError("malformed", `key package for ${keyPackage.cipherSuite}`);
        const address = `${credential.user}/${credential.device}`;
        if (skip.has(address)) continue;
        skip.add(address);
        adds.push(keyPackage);
      }
    }
    return adds;
  }

  private async activeState(group: string): Promise<GroupState> {
    const state = await this.loadState(group);
    if (!state || !isActive(state)) throw new MlsError("inactive", `not a member of ${group}`);
    return state;
  }

  /** Encrypts a text for a group; the state is saved before anything leaves, so no key is reused. */
  async encryptText(group: string, text: string, retryOf?: { id: string; sentAt: number }, replyTo?: string): Promise<OutgoingMessage> {
    if (text.length > MAX_TEXT_LENGTH) throw new RangeError(`text longer than ${MAX_TEXT_LENGTH} characters`);
    return this.encryptContent(group, retryOf, (id, sentAt) => ({ v: 1, id, type: "text", text, sentAt, ...(replyTo ? { replyTo } : {}) }));
  }

  /** Encrypts a new text for one of this person's own texts; the stored text changes with it. */
  async encryptEdit(group: string, target: string, text: string, retryOf?: { id: string; sentAt: number }): Promise<OutgoingMessage> {
    if (text.length > MAX_TEXT_LENGTH) throw new RangeError(`text longer than ${MAX_TEXT_LENGTH} characters`);
    return this.encryptContent(group, retryOf, (id, sentAt) => ({ v: 1, id, type: "edit", target, text, sentAt }));
  }

  /** Encrypts the deletion (for everyone) of one of this person's own messages. */
  async encryptDelete(group: string, target: string, retryOf?: { id: string; sentAt: number }): Promise<OutgoingMessage> {
    return this.encryptContent(group, retryOf, (id, sentAt) => ({ v: 1, id, type: "delete", target, sentAt }));
  }

  /** Encrypts a reaction (an emoji) to the message `target`. */
  async encryptReaction(group: string, target: string, emoji: string, retryOf?: { id: string; sentAt: number }): Promise<OutgoingMessage> {
    if (!emoji || emoji.length > MAX_EMOJI_LENGTH) throw new RangeError(`reaction must be 1 to ${MAX_EMOJI_LENGTH} characters`);
    return this.encryptContent(group, retryOf, (id, sentAt) => ({ v: 1, id, type: "reaction", target, emoji, sentAt }));
  }

  /** Encrypts a card, an action on a card, or a card's outcome. */
  async encryptCard(group: string, payload: CardPayload, retryOf?: { id: string; sentAt: number }): Promise<OutgoingMessage> {
    return this.encryptContent(group, retryOf, (id, sentAt): Content => {
      if (payload.kind === "card") return { v: 1, id, type: "card", card: payload.card, sentAt };
      if (payload.kind === "action") return { v: 1, id, type: "card_action", sentAt, ...payload.action };
      return { v: 1, id, type: "card_outcome", sentAt, ...payload.outcome };
    });
  }

  /** Encrypts the message announcing an uploaded file: its key, hash and description. */
  async encryptFile(group: string, file: FileInfo, retryOf?: { id: string; sentAt: number }): Promise<OutgoingMessage> {
    return this.encryptContent(group, retryOf, (id, sentAt) => ({ v: 1, id, type: "file", sentAt, ...file }));
  }

  private async encryptContent(
    group: string,
    retryOf: { id: string; sentAt: number } | undefined,
    make: (id: string, sentAt: number) => Content,
  ): Promise<OutgoingMessage> {
    return this.serialized(async () => {
      const state = await this.loadState(group);
      if (!state || !isActive(state)) throw new MlsError("inactive", `not a member of ${group}`);
      // A retry after a rejection keeps the message's identity, so receivers and the local history see it once.
      const now = retryOf?.sentAt ?? this.env.now();
      const id = retryOf?.id ?? crockford(this.env.randomBytes(10), 16);
      const epoch = groupEpoch(state);
      const content = make(id, now);
      const updated = await this.editedTarget(group, content, this.user);
      if (updated === null) throw new RangeError("only your own messages can be edited or deleted");
      const encrypted = await encryptApplication(await ciphersuite(groupCiphersuite(state)), state, encodeContent(content));
      const message = toChatMessage(content, group, this.user, this.device, now, true);
      await this.save({ messages: [message], ...(updated ? { messagesUpdated: [updated] } : {}) }, new Map([[group, encrypted.state]]));
      return { group, epoch, data: toBase64(encrypted.message), message };
    });
  }

  /** Processes one mailbox entry, in order. Entries already processed are ignored. */
  async receive(frame: DeliverFrame): Promise<EngineEvent[]> {
    return this.serialized(async () => {
      if (frame.seq <= (await this.store.cursor())) return [];
      const changes: EngineChanges = { cursor: frame.seq };
      const parked = frame.kind === "notice" ? [] : await this.parked(frame.group);
      if (parked.length > 0) {
        // Entries after one that needs the passphrase wait with it, in order.
        await this.store.apply({ cursor: frame.seq, settings: new Map([[`parked:${frame.group}`, encodeParked([...parked, frame])]]) });
        return [];
      }
      let events: EngineEvent[];
      const states = new Map<string, GroupState | null>();
      try {
        events = await this.process(frame, changes, states);
      } catch (error) {
        if (!(error instanceof MlsError)) throw error;
        if (error.reason === "passphrase_needed") {
          await this.store.apply({ cursor: frame.seq, settings: new Map([[`parked:${frame.group}`, encodeParked([frame])]]) });
          return [{ type: "passphrase_needed", chat: frame.group }];
        }
        // A broken entry must not block the mailbox: report it and move on.
        events = [{ type: "undecryptable", chat: frame.group, seq: frame.seq, reason: error.message }];
        await this.store.apply({ cursor: frame.seq });
        return events;
      }
      await this.save(changes, states);
      return events;
    });
  }

  async groupSuite(group: string): Promise<string | undefined> {
    const state = await this.loadState(group);
    return state ? groupCiphersuite(state) : undefined;
  }

  async epoch(group: string): Promise<number | undefined> {
    const state = await this.loadState(group);
    return state ? groupEpoch(state) : undefined;
  }

  private async process(frame: DeliverFrame, changes: EngineChanges, states: Map<string, GroupState | null>): Promise<EngineEvent[]> {
    const bytes = fromBase64(frame.data);
    if (frame.kind === "welcome") return this.processWelcome(frame, bytes, changes, states);
    if (frame.kind === "notice") {
      const notice = parseNotice(bytes);
      if (notice.type === "delivered") return this.delivered(frame.group, notice.messages, changes);
      return [{ type: "notice", chat: frame.group, from: frame.from, notice }];
    }
    const state = await this.loadState(frame.group);
    if (!state) throw new MlsError("undecryptable", `no state for ${frame.group}`);
    // Only a commit can carry the passphrase's PSK; messages need no lookup.
    const psk = frame.kind === "commit" ? await this.groupPsk(frame.group) : undefined;
    const incoming = await processIncoming(await ciphersuite(groupCiphersuite(state)), state, bytes, psk);
    states.set(frame.group, incoming.state);
    if (incoming.kind === "commit") {
      if (incoming.removedSelf) return [{ type: "removed", chat: frame.group }];
      return [{ type: "changed", chat: frame.group, epoch: groupEpoch(incoming.state) }];
    }
    const content = decodeContent(incoming.plaintext);
    if (!content) throw new MlsError("malformed", "unreadable content");
    // The server let this through as a reaction (members may react in channels): it must be one.
    if (frame.kind === "reaction" && content.type !== "reaction") throw new MlsError("malformed", "a message sent as a reaction");
    if (await this.store.hasMessage(frame.group, content.id)) return [];
    if (content.type === "card_outcome") {
      // Only the card's sender decides it, and only once: a member cannot post a fake outcome.
      const card = await this.store.cardInfo(frame.group, content.target);
      if (!card || card.from !== incoming.sender.user || card.decided) {
        return [{ type: "undecryptable", chat: frame.group, seq: frame.seq, reason: "card outcome not from the card's sender, or a second one" }];
      }
    }
    // Only a message's own sender edits or deletes it: anything else is reported, not applied.
    const updated = await this.editedTarget(frame.group, content, incoming.sender.user);
    if (updated === null) {
      return [{ type: "undecryptable", chat: frame.group, seq: frame.seq, reason: "edit or delete not from the message's sender" }];
    }
    const message = toChatMessage(
      content,
      frame.group,
      incoming.sender.user,
      incoming.sender.device,
      this.env.now(),
      incoming.sender.user === this.user,
    );
    changes.messages = [message];
    if (updated) changes.messagesUpdated = [updated];
    return [{ type: "message", message, seq: frame.seq }];
  }

  /** A "delivered" notice: marks this device's messages it names (others are ignored). */
  private async delivered(chat: string, ids: string[], changes: EngineChanges): Promise<EngineEvent[]> {
    const events: EngineEvent[] = [];
    changes.delivered = [];
    for (const id of Array.isArray(ids) ? ids : []) {
      if (typeof id !== "string") continue;
      const message = await this.store.loadMessage(chat, id);
      if (!message || message.fromDevice !== this.device || message.delivered) continue;
      changes.delivered.push({ chat, id });
      events.push({ type: "delivered", chat, id });
    }
    return events;
  }

  /**
   * For an edit or a delete: the target message as it is after it; null when `sender` may not
   * change it (not its sender, not found, already deleted, or not a text for an edit).
   */
  private async editedTarget(chat: string, content: Content, sender: string): Promise<ChatMessage | null | undefined> {
    if (content.type !== "edit" && content.type !== "delete") return undefined;
    const target = await this.store.loadMessage(chat, content.target);
    if (!target || target.from !== sender || target.deleted) return null;
    if (content.type === "edit") return target.type === "text" ? { ...target, text: content.text, edited: true } : null;
    // Reactions and card steps are not messages of their own: they are not deleted one by one.
    if (target.type !== "text" && target.type !== "file" && target.type !== "card") return null;
    const { file: _file, card: _card, edited: _edited, ...rest } = target;
    return { ...rest, text: "", deleted: true };
  }

  private async processWelcome(
    frame: DeliverFrame,
    bytes: Uint8Array,
    changes: EngineChanges,
    states: Map<string, GroupState | null>,
  ): Promise<EngineEvent[]> {
    let own: StoredKeyPackage | undefined;
    for (const ref of welcomeRecipients(bytes)) {
      own = await this.store.loadKeyPackage(ref);
      if (own) break;
    }
    if (!own) throw new MlsError("no_key_package", "welcome for a key package this device does not hold");
    let state: GroupState;
    try {
      state = await joinFromWelcome(await ciphersuite(own.suite), this.config, bytes, this.fromStored(own), await this.groupPsk(frame.group));
    } catch (error) {
      if (isMissingPsk(error)) throw new MlsError("passphrase_needed", "welcome");
      throw new MlsError("undecryptable", `welcome: ${String(error)}`);
    }
    const group = new TextDecoder().decode(state.groupContext.groupId);
    if (group !== frame.group) throw new MlsError("malformed", `welcome for ${group} delivered as ${frame.group}`);
    const existing = await this.loadState(group);
    if (existing && groupEpoch(existing) >= groupEpoch(state)) return [];
    states.set(group, state);
    if (!own.lastResort) changes.keyPackagesDeleted = [own.ref];
    return [{ type: "joined", chat: group, by: frame.from.split("/")[0]!, epoch: groupEpoch(state) }];
  }

  private async loadState(group: string): Promise<GroupState | undefined> {
    const cached = this.states.get(group);
    if (cached) return cached;
    const bytes = await this.store.loadGroup(group);
    if (!bytes) return undefined;
    const state = decodeState(bytes, this.config);
    this.states.set(group, state);
    return state;
  }

  /** Stores a step's changes; the decoded states of changed groups stay at hand. */
  private async save(changes: EngineChanges, states: Map<string, GroupState | null> = new Map()): Promise<void> {
    if (states.size > 0) {
      changes.groups = new Map(changes.groups ?? []);
      for (const [group, state] of states) changes.groups.set(group, state ? encodeState(state) : null);
    }
    try {
      await this.store.apply(changes);
    } catch (error) {
      for (const group of states.keys()) this.states.delete(group);
      throw error;
    }
    for (const [group, state] of states) {
      if (state) this.states.set(group, state);
      else this.states.delete(group);
    }
  }

  private keys(): SignatureKeys {
    return { publicKey: this.identity.signaturePublicKey, signKey: this.identity.signKey };
  }

  private newOwnKeyPackage(impl: CiphersuiteImpl): Promise<OwnKeyPackage> {
    return newKeyPackage(impl, this.identity.credentialIdentity, this.keys());
  }

  private toStored(kp: OwnKeyPackage, lastResort: boolean, suite: string): StoredKeyPackage {
    return { ref: kp.ref, suite, publicPackage: kp.publicPackage, ...kp.privatePackage, lastResort };
  }

  private fromStored(kp: StoredKeyPackage): OwnKeyPackage {
    return {
      ref: kp.ref,
      publicPackage: kp.publicPackage,
      privatePackage: {
        initPrivateKey: kp.initPrivateKey,
        hpkePrivateKey: kp.hpkePrivateKey,
        signaturePrivateKey: kp.signaturePrivateKey,
      },
    };
  }

  /** One step at a time: MLS state changes must never interleave. */
  private serialized<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step, step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function parseNotice(bytes: Uint8Array): Notice {
  try {
    const notice = JSON.parse(new TextDecoder().decode(bytes)) as Notice;
    if (typeof notice?.type === "string") return notice;
  } catch {
    // fall through
  }
  throw new MlsError("malformed", "unreadable notice");
}

function encodePsk(psk: ExternalPsk): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ id: toBase64(psk.id), secret: toBase64(psk.secret) }));
}

function encodeParked(frames: DeliverFrame[]): Uint8Array | null {
  return frames.length > 0 ? new TextEncoder().encode(JSON.stringify(frames)) : null;
}

function toChatMessage(content: Content, chat: string, from: string, fromDevice: string, receivedAt: number, outgoing: boolean): ChatMessage {
  const base = { id: content.id, chat, from, fromDevice, sentAt: content.sentAt, receivedAt, outgoing };
  if (content.type === "text") return { ...base, type: "text", text: content.text, ...(content.replyTo ? { replyTo: content.replyTo } : {}) };
  // The new text lives in the target only, so a later deletion leaves no copy behind.
  if (content.type === "edit") return { ...base, type: "edit", text: "", target: content.target };
  if (content.type === "delete") return { ...base, type: "delete", text: "", target: content.target };
  if (content.type === "reaction") return { ...base, type: "reaction", text: content.emoji, target: content.target };
  if (content.type === "card") return { ...base, type: "card", text: content.card.title, card: { kind: "card", card: content.card } };
  if (content.type === "card_action") {
    const action = { target: content.target, action: content.action, values: content.values };
    return { ...base, type: "card_action", text: content.action, target: content.target, card: { kind: "action", action } };
  }
  if (content.type === "card_outcome") {
    const outcome = { target: content.target, status: content.status, text: content.text };
    return { ...base, type: "card_outcome", text: content.text, target: content.target, card: { kind: "outcome", outcome } };
  }
  const { v: _v, id: _id, type: _type, sentAt: _sentAt, ...file } = content;
  return { ...base, type: "file", text: file.name, file };
}
