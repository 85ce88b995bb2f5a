// A device's messenger in Node: the engine, its store and its connection, wired together.
// It keeps the mailbox flowing in order, acknowledges only what is stored, and rebuilds a
// change on the new epoch when the server says the conversation moved on.
import {
  crockford,
  isDirectChatId,
  isShortId,
  MomedoError,
  normalizeShortId,
  type DeliverFrame,
  type GroupCommitResult,
  type GroupInfoResult,
  type GroupsListResult,
  type GroupSendResult,
  type DevicesListResult,
  type DirectoryListResult,
  type KeysClaimResult,
  type Notice,
  type Role,
} from "@momedo/protocol";
import {
  checkCard,
  type CardPayload,
  type ChatMessage,
  type ClaimedPerson,
  type FileInfo,
  type Engine,
  type EngineEvent,
  type OutgoingMessage,
  type PendingCommit,
} from "@momedo/core";
import { ServerConnection, type Request, type SocketFactory } from "./connection.js";

const MAX_ATTEMPTS = 6;
const KEY_PACKAGE_LOW_WATER = 10;
const KEY_PACKAGE_BATCH = 20;

export function isRetriable(error: unknown): boolean {
  return error instanceof MomedoError && (error.code === "epoch_conflict" || error.code === "stale_epoch");
}

/** A message's identity: its ID (16 Crockford characters) and the time it was written. */
export interface MessageIdentity {
  id: string;
  sentAt: number;
}

export class Messenger {
  private connection: ServerConnection | undefined;
  private processing: Promise<void> = Promise.resolve();
  private lastProcessed = 0;
  private ackScheduled = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];
  private readonly listeners: ((event: EngineEvent) => void)[] = [];
  private readonly stale = new Set<string>();
  private failure: Error | undefined;

  constructor(
    readonly engine: Engine,
    protected readonly sockets: SocketFactory,
  ) {}

  onEvent(listener: (event: EngineEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Called when the server connection drops (not after close()); a long-running client reconnects. */
  onDisconnect(listener: (code: number, reason: string) => void): void {
    this.closeListeners.push(listener);
  }

  get connected(): boolean {
    return this.connection !== undefined;
  }

  /** The ciphersuite the server asks new groups to use. */
  get suite(): string {
    return this.conn().suite;
  }

  /** Signs in and processes everything the mailbox held. */
  async connect(): Promise<void> {
    this.synced = false;
    const connection: ServerConnection = await ServerConnection.open(this.sockets, {
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
      onClose: (code, reason) => {
        // close() forgets its connection first: only a drop reaches the listeners.
        if (this.connection !== connection) return;
        this.connection = undefined;
        for (const listener of this.closeListeners) listener(code, reason);
      },
    });
    this.connection = connection;
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

  async uploadKeyPackages(count = KEY_PACKAGE_BATCH, suite = this.suite): Promise<number> {
    const upload = await this.engine.createKeyPackages(count, suite);
    const { held } = await this.conn().request<{ held: number }>({ t: "keys.upload", ...upload });
    return held;
  }

  /** Tops the key server up when others have claimed most of this device's KeyPackages. */
  async replenishKeyPackages(): Promise<void> {
    const { held } = await this.conn().request<{ held: number }>({ t: "keys.upload", keyPackages: [], suite: this.suite });
    if (held < KEY_PACKAGE_LOW_WATER) await this.uploadKeyPackages(KEY_PACKAGE_BATCH - held);
  }

  // `as`: the message's ID and time, chosen by the caller (an outbox sending again after a lost
  // connection): receivers that already have it show it once.

  /** Sends a text to a person (ID or ID@host) or to a chat; creates the 1:1 chat on first use. */
  async sendText(to: string, text: string, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(to, (group, retryOf) => this.engine.encryptText(group, text, retryOf), { receipt: true, as });
  }

  /** Reacts to a message; in a channel this is what members may send. */
  async react(chat: string, target: string, emoji: string, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(chat, (group, retryOf) => this.engine.encryptReaction(group, target.toUpperCase(), emoji, retryOf), { reaction: true, as });
  }

  /** Answers the message `replyTo` of a chat with a text. */
  async reply(chat: string, replyTo: string, text: string, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(chat, (group, retryOf) => this.engine.encryptText(group, text, retryOf, replyTo.toUpperCase()), { receipt: true, as });
  }

  /** Replaces the text of one of this person's own messages, for everyone in the chat. */
  async edit(chat: string, target: string, text: string, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(chat, (group, retryOf) => this.engine.encryptEdit(group, target.toUpperCase(), text, retryOf), { as });
  }

  /** Deletes one of this person's own messages for everyone in the chat. */
  async deleteMessage(chat: string, target: string, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(chat, (group, retryOf) => this.engine.encryptDelete(group, target.toUpperCase(), retryOf), { as });
  }

  /** Sends the message announcing an uploaded file (its key, hash and description). */
  sendFileInfo(to: string, info: FileInfo, as?: MessageIdentity): Promise<ChatMessage> {
    return this.send(to, (group, retryOf) => this.engine.encryptFile(group, info, retryOf), { receipt: true, as });
  }

  /** Sends a card (bots do), an action on a card, or a card's outcome. */
  async sendCard(to: string, payload: CardPayload): Promise<ChatMessage> {
    if (payload.kind === "card") checkCard(payload.card);
    return this.send(to, (group, retryOf) => this.engine.encryptCard(group, payload, retryOf), { receipt: payload.kind === "card" });
  }

  protected async send(
    to: string,
    encrypt: (group: string, retryOf?: { id: string; sentAt: number }) => Promise<OutgoingMessage>,
    options: { reaction?: boolean; receipt?: boolean; as?: MessageIdentity | undefined } = {},
  ): Promise<ChatMessage> {
    const group = this.resolveChat(to);
    let retryOf: MessageIdentity | undefined = options.as;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.joinChat(group, to);
        const out = await encrypt(group, retryOf);
        retryOf = { id: out.message.id, sentAt: out.message.sentAt };
        await this.conn().request<GroupSendResult>({
          t: "group.send",
          group,
          epoch: out.epoch,
          data: out.data,
          ...(options.reaction ? { reaction: true as const } : {}),
          ...(options.receipt ? { receipt: out.message.id } : {}),
        });
        return out.message;
      } catch (error) {
        if (!isRetriable(error) || attempt >= MAX_ATTEMPTS) {
          if (retryOf) await this.engine.discardOutgoing(group, retryOf.id);
          throw error;
        }
        await this.sync();
      }
    }
  }

  /** Creates a group or channel with the given people (IDs); this person becomes its owner. */
  /** Admin-planned groups this device could not set up yet (told again at the next sign-in). */
  readonly planFailures: string[] = [];
  private readonly plans: { group: string; notice: Notice }[] = [];
  /** Devices people enrolled since, by group: added at the next reconcile (own, direct chat, or as a manager). */
  private readonly newDevices: { group: string; user: string; device: string }[] = [];
  private reconcileSoon: ReturnType<typeof setTimeout> | undefined;
  private reconciling: Promise<void> = Promise.resolve();
  private readonly closeListeners: ((code: number, reason: string) => void)[] = [];

  async createGroup(name: string, members: string[], kind: "group" | "channel" = "group"): Promise<string> {
    const group = `g.${crockford(globalThis.crypto.getRandomValues(new Uint8Array(17)), 26)}`;
    const suite = this.suite;
    const people = await this.claimPeople(this.others(members), suite);
    const own = await this.claim(this.engine.user, suite);
    await this.commit(group, () => this.engine.createGroup(group, suite, [...people, own], { kind, name }));
    return group;
  }

  async addPeople(group: string, users: string[]): Promise<void> {
    await this.ensureGroup(group);
    const suite = (await this.engine.groupSuite(group)) ?? this.suite;
    const present = new Set((await this.engine.memberList(group)).map((m) => m.user));
    const people = await this.claimPeople(this.others(users).filter((u) => !present.has(u)), suite);
    if (people.length === 0) return;
    await this.commit(group, () => this.engine.addMembers(group, people));
  }

  /** Removes people (IDs) or single devices (ID/DEVICE) from a group. */
  async removeMembers(group: string, targets: string[]): Promise<void> {
    await this.ensureGroup(group);
    const normalized = targets.map((t) => (t.includes("/") ? t.toUpperCase() : this.peerOf(t)));
    await this.commit(group, async () => {
      const members = await this.engine.memberList(group);
      const hit = members.some((m) => normalized.includes(m.user) || normalized.includes(`${m.user}/${m.device}`));
      return hit ? this.engine.removeMembers(group, normalized) : undefined;
    });
  }

  async rekey(group: string): Promise<void> {
    await this.ensureGroup(group);
    await this.commit(group, () => this.engine.rekey(group));
  }

  /** Protects a conversation with an extra passphrase that every member enters once. */
  async protect(group: string, passphrase: string): Promise<void> {
    await this.ensureGroup(group);
    await this.commit(group, () => this.engine.protect(group, passphrase));
  }

  async enterPassphrase(group: string, passphrase: string): Promise<EngineEvent[]> {
    const events = await this.engine.enterPassphrase(group, passphrase);
    for (const event of events) for (const listener of this.listeners) listener(event);
    return events;
  }

  async leave(group: string): Promise<void> {
    await this.conn().request({ t: "group.leave", group });
    await this.engine.forget(group);
  }

  async rename(group: string, name: string): Promise<void> {
    await this.conn().request({ t: "group.rename", group, name });
  }

  async setRole(group: string, user: string, role: Role): Promise<void> {
    await this.conn().request({ t: "group.role", group, user: this.peerOf(user), role });
  }

  info(group: string): Promise<GroupInfoResult> {
    return this.conn().request<GroupInfoResult>({ t: "group.info", group });
  }

  async listGroups(): Promise<GroupsListResult> {
    return this.conn().request<GroupsListResult>({ t: "groups.list" });
  }

  /**
   * Removes leaves the server no longer delivers to (people who left, revoked devices). Done by
   * owners and admins (or either person of a direct chat), so a large channel does not race.
   */
  reconcile(): Promise<void> {
    // One at a time: a reconcile a notice asked for may still run when the shell asks again.
    const run = this.reconciling.then(() => this.reconcileNow());
    this.reconciling = run.catch(() => undefined);
    return run;
  }

  private async reconcileNow(): Promise<void> {
    await this.carryOutPlans();
    await this.addNewDevices();
    for (const group of [...this.stale]) {
      this.stale.delete(group);
      if (!(await this.engine.hasGroup(group))) continue;
      await this.commit(group, async () => {
        const info = await this.info(group).catch(() => undefined);
        if (!info) return undefined;
        const me = info.members.find((m) => m.user === this.engine.user);
        if (info.kind !== "direct" && me?.role !== "owner" && me?.role !== "admin") return undefined;
        const active = new Set(info.members.flatMap((m) => m.devices.map((d) => `${m.user}/${d}`)));
        // A member without a working device keeps their last leaf until a new device is added.
        const waiting = new Set(info.members.filter((m) => m.devices.length === 0).map((m) => m.user));
        const leaves = await this.engine.memberList(group);
        const stale = leaves.filter((m) => !active.has(`${m.user}/${m.device}`) && !waiting.has(m.user));
        // A direct chat always holds its two people (a person removed from the organisation stays in it).
        const remaining = new Set(leaves.filter((m) => !stale.includes(m)).map((m) => m.user));
        if (info.kind === "direct" && remaining.size < 2) return undefined;
        return stale.length > 0 ? this.engine.removeMembers(group, stale.map((m) => `${m.user}/${m.device}`)) : undefined;
      });
    }
  }

  /**
   * A device someone enrolled joins the conversations they are in, without history (linking
   * brings history). Added by the person's own devices, the other person of a direct chat, or a
   * group's owners and admins; whoever is first wins, the others find it there.
   */
  private async addNewDevices(): Promise<void> {
    for (const { group, user, device } of this.newDevices.splice(0)) {
      try {
        if (!(await this.engine.isMember(group))) continue;
        if (user !== this.engine.user && !isDirectChatId(group)) {
          const info = await this.info(group);
          const role = info.members.find((m) => m.user === this.engine.user)?.role;
          if (role !== "owner" && role !== "admin") continue;
        }
        const suite = await this.engine.groupSuite(group);
        await this.commit(group, async () => {
          const members = await this.engine.memberList(group);
          if (members.some((m) => m.user === user && m.device === device)) return undefined;
          const claimed = await this.claim(user, suite, device).catch(() => undefined);
          // Removed again, or no KeyPackage of that suite: nothing to add.
          if (!claimed || claimed.devices.length === 0) return undefined;
          return this.engine.addMembers(group, [claimed]);
        });
        // A new phone after a lost one: the revoked leaf can go now.
        this.stale.add(group);
      } catch {
        // Not allowed or gone: another member adds it, or the person links the device.
      }
    }
  }

  /** After a notice asking for work: reconcile outside the mailbox's processing (it waits for it). */
  private scheduleReconcile(): void {
    clearTimeout(this.reconcileSoon);
    this.reconcileSoon = setTimeout(() => {
      if (this.connection) void this.reconcile().catch(() => undefined);
    }, 0);
  }

  /** The people this device may see and contact under the server's directory policy. */
  directory(): Promise<DirectoryListResult> {
    return this.conn().request<DirectoryListResult>({ t: "directory.list" });
  }

  async devices(): Promise<DevicesListResult["devices"]> {
    return (await this.conn().request<DevicesListResult>({ t: "devices.list" })).devices;
  }

  /**
   * Removes one of this person's devices: its leaf leaves every conversation (commits), then the
   * server revokes it and deletes its mailbox and KeyPackages.
   */
  async removeDevice(device: string): Promise<{ groups: number }> {
    const address = `${this.engine.user}/${device.toUpperCase()}`;
    let groups = 0;
    if (device.toUpperCase() !== this.engine.device) {
      for (const group of await this.engine.groups()) {
        await this.commit(group, async () => {
          const members = await this.engine.memberList(group);
          if (!members.some((m) => `${m.user}/${m.device}` === address)) return undefined;
          groups++;
          return this.engine.removeMembers(group, [address]);
        });
      }
    }
    await this.conn().request({ t: "device.remove", device: device.toUpperCase() });
    return { groups };
  }

  async close(): Promise<void> {
    clearTimeout(this.reconcileSoon);
    await this.reconciling;
    await this.processing;
    this.flushAck();
    const connection = this.connection;
    this.connection = undefined;
    await connection?.close();
  }

  /** A request to the server over the device's connection. */
  request<T>(request: Request): Promise<T> {
    return this.conn().request<T>(request);
  }

  /** Claims one KeyPackage of each device of `user` (for this person: of each other device). */
  async claim(user: string, suite: string | undefined = this.suite, device?: string): Promise<ClaimedPerson> {
    try {
      const result = await this.conn().request<KeysClaimResult>({ t: "keys.claim", user, suite: suite ?? this.suite, ...(device ? { device } : {}) });
      return { user, devices: result.devices };
    } catch (error) {
      if (error instanceof MomedoError && error.code === "no_key_packages") return { user, devices: [] };
      throw error;
    }
  }

  /**
   * Builds a commit, sends it, and makes it current once accepted. If another device's commit
   * won the epoch, catches up and builds the change again on the new epoch.
   */
  async commit(group: string, build: () => Promise<PendingCommit | undefined>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const pending = await build();
      if (!pending) return;
      try {
        await this.conn().request<GroupCommitResult>({ t: "group.commit", ...pending });
      } catch (error) {
        this.engine.commitRejected(group);
        if (!isRetriable(error) || attempt >= MAX_ATTEMPTS) throw error;
        await this.sync();
        continue;
      }
      await this.accepted(group);
      return;
    }
  }

  /**
   * Entries the server delivered before it accepted our commit belong to the old epoch: they
   * are processed first, then the new epoch becomes current.
   */
  private accepted(group: string): Promise<void> {
    const step = this.processing.then(() => this.engine.commitAccepted(group));
    this.processing = step.catch((error: Error) => {
      this.failure = error;
    });
    return step;
  }

  /** Makes sure this device is in the chat: catches up for a group, creates a 1:1 chat on first use. */
  async joinChat(group: string, to: string): Promise<void> {
    if (await this.engine.isMember(group)) return;
    if (!isDirectChatId(group)) await this.ensureGroup(group);
    else await this.createDirectChat(this.peerOf(to));
  }

  /** A Welcome may still be on its way: catch up once before calling a group unknown. */
  private async ensureGroup(group: string): Promise<void> {
    if (await this.engine.isMember(group)) return;
    await this.sync();
    if (!(await this.engine.isMember(group))) throw new MomedoError("not_member", group);
  }

  private others(ids: string[]): string[] {
    return [...new Set(ids.map((id) => this.peerOf(id)))].filter((id) => id !== this.engine.user);
  }

  /**
   * Groups the admin planned with this person as owner: create them with every planned member
   * who has a device, and add the others when the server says they enrolled. The server tells
   * again at a later sign-in if this fails.
   */
  private async carryOutPlans(): Promise<void> {
    for (const { group, notice } of this.plans.splice(0)) {
      try {
        if (notice.type === "provision") {
          if (await this.engine.hasGroup(group)) continue;
          const suite = this.suite;
          const people: ClaimedPerson[] = [];
          for (const user of this.others(notice.members)) {
            const person = await this.claim(user, suite).catch(() => undefined);
            if (person && person.devices.length > 0) people.push(person);
          }
          const own = await this.claim(this.engine.user, suite);
          await this.commit(group, async () =>
            (await this.engine.hasGroup(group))
              ? undefined
              : this.engine.createGroup(group, suite, [...people, own], { kind: notice.kind, name: notice.name }),
          );
        } else if (notice.type === "provision_add" && (await this.engine.hasGroup(group))) {
          await this.addPeople(group, [notice.user]);
        }
      } catch (error) {
        this.planFailures.push(`${group}: ${(error as Error).message}`);
      }
    }
  }

  private async claimPeople(users: string[], suite: string): Promise<ClaimedPerson[]> {
    const people: ClaimedPerson[] = [];
    for (const user of users) {
      const person = await this.claim(user, suite);
      if (person.devices.length === 0) throw new MomedoError("no_key_packages", user);
      people.push(person);
    }
    return people;
  }

  private async createDirectChat(peer: string): Promise<void> {
    const group = this.engine.directChat(peer);
    const suite = this.suite;
    const theirs = await this.claim(peer, suite);
    if (theirs.devices.length === 0) throw new MomedoError("no_key_packages", peer);
    const mine = await this.claim(this.engine.user, suite);
    // If the peer created the chat at the same moment and won, catching up brings us its Welcome.
    await this.commit(group, async () =>
      (await this.engine.isMember(group)) ? undefined : this.engine.createDirectChat(peer, theirs.devices, mine.devices, suite),
    );
  }

  protected resolveChat(to: string): string {
    if (isDirectChatId(to) || to.startsWith("g.")) return to;
    const peer = this.peerOf(to);
    if (peer === this.engine.user) throw new RangeError("Nachrichten an sich selbst sind nicht möglich / cannot message yourself");
    return this.engine.directChat(peer);
  }

  peerOf(to: string): string {
    const [id, host] = to.split("@");
    if (host && host !== new URL(this.sockets.url).host && host !== new URL(this.sockets.url).hostname) {
      throw new RangeError(
        `${to}: Nachrichten an andere Server (Nachbarn) kommen in einer späteren Version / messages to other servers (neighbours) come in a later version`,
      );
    }
    const peer = normalizeShortId(id ?? "");
    if (!isShortId(peer)) throw new RangeError(`${to}: keine gültige ID wie M8N22HT6 / not a valid ID like M8N22HT6`);
    return peer;
  }

  private enqueue(frame: DeliverFrame): void {
    this.processing = this.processing.then(async () => {
      if (this.failure) return;
      try {
        const events = await this.engine.receive(frame);
        this.lastProcessed = Math.max(this.lastProcessed, frame.seq);
        this.scheduleAck();
        for (const event of events) {
          if (event.type === "notice" && (event.notice.type === "provision" || event.notice.type === "provision_add")) {
            this.plans.push({ group: event.chat, notice: event.notice });
          } else if (event.type === "notice" && event.notice.type === "device_added") {
            this.newDevices.push({ group: event.chat, user: event.notice.user, device: event.notice.device });
            this.scheduleReconcile();
          } else if (event.type === "notice" && event.notice.type !== "role") this.stale.add(event.chat);
          for (const listener of this.listeners) listener(event);
        }
      } catch (error) {
        // Storage failed: stop acknowledging, so the server keeps the entry for the next run.
        this.failure = error as Error;
      }
    });
  }

  private scheduleAck(): void {
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    // setTimeout, not setImmediate: the same code runs in browsers.
    setTimeout(() => this.flushAck(), 0);
  }

  private flushAck(): void {
    this.ackScheduled = false;
    if (this.lastProcessed > 0) this.connection?.ack(this.lastProcessed);
  }

  protected conn(): ServerConnection {
    if (!this.connection) throw new Error("nicht verbunden / not connected");
    return this.connection;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}
