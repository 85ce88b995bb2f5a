// The MLS Delivery Service: orders commits per group (first valid commit for an epoch wins),
// keeps the member list and roles it needs for policy and fan-out, and writes every copy into
// the members' mailboxes.
import {
  isDirectChatId,
  MomedoError,
  parseDeviceAddress,
  type GroupCommitFrame,
  type GroupInfoResult,
  type GroupKind,
  type GroupSendFrame,
  type GroupsListResult,
  type MailboxKind,
  type Notice,
  type Role,
} from "@momedo/protocol";
import type { Db } from "../storage/database.js";
import { SHARED_PAYLOAD_BYTES, type Mailbox, type MailboxEntry } from "../mailbox/mailbox.js";
import type { WriteQueue } from "../mailbox/writeQueue.js";
import { RECEIPT_MAX_PEOPLE, Receipts } from "../mailbox/receipts.js";
import type { Directory } from "../people/directory.js";
import type { People } from "../people/people.js";
import type { GroupPlans } from "./plans.js";
import { checkCommit, checkLeave, checkRename, checkRoleChange, checkSend, memberChange, userOf, type GroupView } from "./policy.js";

interface GroupRecord {
  kind: GroupKind;
  name: string;
  epoch: number;
  members: string[];
  memberSet: Set<string>;
  roles: Map<string, Role>;
}

export interface Recipient {
  address: string;
  entry: MailboxEntry;
}

export type Push = (recipients: Recipient[]) => void;

export class DeliveryService {
  private readonly groups = new Map<string, GroupRecord>();
  /** Revoked devices: they keep their leaf until someone commits its removal, but get nothing. */
  private readonly inactive = new Set<string>();
  private readonly maxMessageBytes: number;
  private readonly receipts: Receipts;

  constructor(
    private readonly db: Db,
    private readonly people: People,
    private readonly directory: Directory,
    private readonly plans: GroupPlans,
    private readonly mailbox: Mailbox,
    private readonly queue: WriteQueue,
    private readonly push: Push,
    options: { maxMessageBytes: number },
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
    this.receipts = new Receipts(db);
    for (const { user, device } of people.revokedSince(0)) this.inactive.add(`${user}/${device}`);
  }

  /** Accepts a commit if it is the first for the group's current epoch; resolves once durable. */
  commit(sender: string, frame: GroupCommitFrame): Promise<{ epoch: number }> {
    const existing = this.load(frame.group);
    let group: GroupRecord;
    if (existing) {
      if (!existing.memberSet.has(sender) || this.inactive.has(sender)) throw new MomedoError("not_member", frame.group);
      if (frame.epoch !== existing.epoch) throw new MomedoError("epoch_conflict", `current epoch ${existing.epoch}`);
      group = existing;
    } else {
      if (frame.epoch !== 0) throw new MomedoError("epoch_conflict", "current epoch 0");
      this.plans.checkCreator(frame.group, userOf(sender));
      group = this.newGroup(frame, { user: userOf(sender), address: sender });
    }
    const members = [...new Set(frame.members)];
    const change = memberChange(group.members, members);
    for (const address of change.added) {
      const { user, device } = parseDeviceAddress(address);
      if (!this.people.deviceKey(user, device)) throw new MomedoError("unknown_device", address);
    }
    checkCommit(frame.group, this.view(group), sender, members);
    // The directory policy holds for whoever brings a person in, whatever keys they hold.
    this.directory.checkContact(userOf(sender), change.addedUsers);
    const commit = this.decode(frame.commit);
    const welcome = frame.welcome ? this.decode(frame.welcome) : undefined;
    if (change.added.length > 0 && !welcome) throw new MomedoError("bad_frame", "added members need a welcome");

    const epoch = group.epoch + 1;
    const roles = new Map(group.roles);
    if (group.kind !== "direct") {
      for (const user of change.addedUsers) if (!roles.has(user)) roles.set(user, "member");
      for (const user of change.removedUsers) roles.delete(user);
    }
    const updated: GroupRecord = { ...group, epoch, members, memberSet: new Set(members), roles };
    this.groups.set(frame.group, updated);
    const at = Date.now();
    // Everyone in the old epoch hears of the commit, removed members included.
    const receivers = group.members.filter((m) => m !== sender && this.receives(group, m));
    const copies: [string, MailboxKind, Buffer][] = [
      ...receivers.map((m) => [m, "commit", commit] as [string, MailboxKind, Buffer]),
      ...change.added.map((m) => [m, "welcome", welcome!] as [string, MailboxKind, Buffer]),
    ];
    return new Promise((resolve) => {
      const recipients: Recipient[] = [];
      this.queue.enqueue(
        () => {
          this.save(frame.group, updated, at);
          const payloads = this.sharedPayloads(copies.map(([, , data]) => data));
          for (const [address, kind, data] of copies) recipients.push(this.write(address, frame.group, kind, sender, data, at, payloads.get(data)));
        },
        () => {
          this.push(recipients);
          resolve({ epoch });
        },
      );
    });
  }

  /** Fans an application message out to every other member device; resolves once durable. */
  send(sender: string, frame: GroupSendFrame): Promise<{ delivered: number }> {
    const group = this.load(frame.group);
    if (!group || !this.receives(group, sender)) throw new MomedoError("not_member", frame.group);
    if (frame.epoch !== group.epoch) throw new MomedoError("stale_epoch", `current epoch ${group.epoch}`);
    checkSend(this.view(group), sender, frame.reaction === true);
    const data = this.decode(frame.data);
    const at = Date.now();
    const targets = group.members.filter((m) => m !== sender && this.receives(group, m));
    const kind = frame.reaction ? "reaction" : "app";
    const people = frame.receipt && kind === "app" ? receiptPeople(sender, targets) : undefined;
    const receipt = people && frame.receipt ? { message: frame.receipt, people } : undefined;
    return this.fanOut(frame.group, sender, kind, data, at, targets, { receipt });
  }

  /**
   * Inside the acknowledgement's batch, before the device's entries are deleted: writes a
   * "delivered" notice for each receipt this fetch completes; returns what pushes them once durable.
   */
  acknowledged(user: string, device: string, upTo: number): (() => void) | void {
    const done = this.receipts.acknowledged(user, device, upTo);
    if (done.length === 0) return;
    // One notice per sending device and chat for everything this fetch completed.
    const bySender = new Map<string, { group: string; sender: string; messages: string[] }>();
    for (const { group, message, sender } of done) {
      if (this.inactive.has(sender)) continue;
      const key = `${sender} ${group}`;
      const entry = bySender.get(key) ?? { group, sender, messages: [] };
      entry.messages.push(message);
      bySender.set(key, entry);
    }
    const recipients: Recipient[] = [];
    const at = Date.now();
    for (const { group, sender, messages } of bySender.values()) {
      const notice: Notice = { type: "delivered", messages };
      recipients.push(this.write(sender, group, "notice", `${user}/${device}`, Buffer.from(JSON.stringify(notice)), at));
    }
    return () => this.push(recipients);
  }

  setRole(actor: string, group: string, user: string, role: Role): Promise<{ role: Role }> {
    const record = this.memberGroup(actor, group);
    checkRoleChange(this.view(record), userOf(actor), user, role);
    record.roles.set(user, role);
    const notice: Notice = { type: "role", user, role };
    return this.notify(group, record, actor, notice, () =>
      this.db.prepare("UPDATE group_roles SET role = ? WHERE group_id = ? AND user_id = ?").run(role, group, user),
    ).then(() => ({ role }));
  }

  rename(actor: string, group: string, name: string): Promise<{ name: string }> {
    const record = this.memberGroup(actor, group);
    checkRename(this.view(record), userOf(actor));
    record.name = name;
    return this.notify(group, record, actor, { type: "renamed", name }, () =>
      this.db.prepare("UPDATE groups SET name = ? WHERE id = ?").run(name, group),
    ).then(() => ({ name }));
  }

  /** A person leaves: no more deliveries at once; a remaining member commits the removal. */
  leave(actor: string, group: string): Promise<{ left: true }> {
    const record = this.memberGroup(actor, group);
    const user = userOf(actor);
    checkLeave(this.view(record), user);
    record.roles.delete(user);
    const notice: Notice = { type: "left", user };
    return this.notify(group, record, actor, notice, () =>
      this.db.prepare("DELETE FROM group_roles WHERE group_id = ? AND user_id = ?").run(group, user),
    ).then(() => ({ left: true as const }));
  }

  /** A device was revoked: it gets nothing more; the groups it was in hear of it. */
  deviceRemoved(address: string): void {
    if (this.inactive.has(address)) return;
    this.inactive.add(address);
    const { user, device } = parseDeviceAddress(address);
    // Revoked by another process (admin CLI): drop what was queued for it meanwhile.
    this.queue.enqueue(() => this.mailbox.ack(user, device, Number.MAX_SAFE_INTEGER));
    const rows = this.db
      .prepare("SELECT group_id AS id FROM group_members WHERE user_id = ? AND device_id = ?")
      .all(user, device) as { id: string }[];
    for (const { id } of rows) {
      const record = this.load(id);
      if (record) void this.notify(id, record, address, { type: "device_removed", user, device });
    }
  }

  /** A person enrolled another device: every group they are in hears of it (someone there adds it). */
  deviceAdded(address: string): void {
    const { user, device } = parseDeviceAddress(address);
    const rows = this.db.prepare("SELECT DISTINCT group_id AS id FROM group_members WHERE user_id = ?").all(user) as { id: string }[];
    for (const { id } of rows) {
      const record = this.load(id);
      if (record) void this.notify(id, record, address, { type: "device_added", user, device });
    }
  }

  info(actor: string, group: string): GroupInfoResult {
    const record = this.memberGroup(actor, group);
    const byUser = new Map<string, string[]>();
    for (const address of record.members) {
      if (!this.receives(record, address)) continue;
      const { user, device } = parseDeviceAddress(address);
      byUser.set(user, [...(byUser.get(user) ?? []), device]);
    }
    // A person whose every device was revoked (a lost phone) is still a member, with no device
    // until a new one is added; people removed from the organisation or who left are not.
    for (const address of record.members) {
      const user = userOf(address);
      if (byUser.has(user) || !this.people.exists(user)) continue;
      if (record.kind === "direct" || record.roles.has(user)) byUser.set(user, []);
    }
    return {
      group,
      kind: record.kind,
      name: record.name,
      epoch: record.epoch,
      members: [...byUser].map(([user, devices]) => ({
        user,
        name: this.people.name(user) ?? "",
        role: record.kind === "direct" ? "member" : (record.roles.get(user) ?? "member"),
        devices,
      })),
    };
  }

  list(actor: string): GroupsListResult {
    const { user, device } = parseDeviceAddress(actor);
    const ids = (
      this.db.prepare("SELECT group_id AS id FROM group_members WHERE user_id = ? AND device_id = ?").all(user, device) as {
        id: string;
      }[]
    ).map((r) => r.id);
    const groups: GroupsListResult["groups"] = [];
    for (const id of ids) {
      const record = this.load(id);
      if (!record || !this.receives(record, actor)) continue;
      groups.push({ group: id, kind: record.kind, name: record.name, role: record.kind === "direct" ? "member" : (record.roles.get(user) ?? "member") });
    }
    return { groups };
  }

  /** Before the first commit the creator's device is the only member. */
  /** Devices that receive the group's messages now (who may fetch its files); undefined if unknown. */
  activeMembers(group: string): string[] | undefined {
    const record = this.load(group);
    return record?.members.filter((m) => this.receives(record, m));
  }

  /** Throws unless `sender` may post in the group now (a file is a post: channels allow only managers). */
  checkPost(sender: string, group: string): void {
    checkSend(this.view(this.memberGroup(sender, group)), sender);
  }

  private newGroup(frame: GroupCommitFrame, creator: { user: string; address: string }): GroupRecord {
    const sender = creator.address;
    if (isDirectChatId(frame.group)) {
      return { kind: "direct", name: "", epoch: 0, members: [sender], memberSet: new Set([sender]), roles: new Map() };
    }
    if (!frame.create || !frame.group.startsWith("g.")) {
      throw new MomedoError("policy_denied", "a new group needs a kind and a name, and an ID starting with g.");
    }
    return {
      kind: frame.create.kind,
      name: frame.create.name,
      epoch: 0,
      members: [sender],
      memberSet: new Set([sender]),
      roles: new Map([[creator.user, "owner"]]),
    };
  }

  private view(group: GroupRecord): GroupView {
    return { kind: group.kind, members: group.members, roles: group.roles, inactive: this.inactive };
  }

  private receives(group: GroupRecord, address: string): boolean {
    if (!group.memberSet.has(address) || this.inactive.has(address)) return false;
    return group.kind === "direct" || group.roles.has(userOf(address));
  }

  private memberGroup(actor: string, group: string): GroupRecord {
    const record = this.load(group);
    if (!record || !this.receives(record, actor)) throw new MomedoError("not_member", group);
    return record;
  }

  private notify(group: string, record: GroupRecord, actor: string, notice: Notice, write?: () => void): Promise<number> {
    const data = Buffer.from(JSON.stringify(notice));
    const targets = record.members.filter((m) => m !== actor && this.receives(record, m));
    return this.fanOut(group, actor, "notice", data, Date.now(), targets, { write }).then((r) => r.delivered);
  }

  /**
   * `write`: more to store in the same batch. `receipt`: opens a receipt for the message that
   * completes once each of `people` fetched it.
   */
  private fanOut(
    group: string,
    sender: string,
    kind: MailboxKind,
    data: Buffer,
    at: number,
    targets: string[],
    options: { write?: (() => void) | undefined; receipt?: { message: string; people: string[] } | undefined } = {},
  ): Promise<{ delivered: number }> {
    return new Promise((resolve) => {
      const recipients: Recipient[] = [];
      this.queue.enqueue(
        () => {
          options.write?.();
          const payload = this.sharedPayloads(targets.map(() => data)).get(data);
          const { receipt: asked } = options;
          const receipt = asked ? this.receipts.open(group, sender, asked.message, asked.people, at) : undefined;
          const own = userOf(sender);
          for (const address of targets) {
            const waits = receipt !== undefined && userOf(address) !== own ? receipt : undefined;
            recipients.push(this.write(address, group, kind, sender, data, at, payload, waits));
          }
        },
        () => {
          this.push(recipients);
          resolve({ delivered: recipients.length });
        },
      );
    });
  }

  private save(id: string, group: GroupRecord, at: number): void {
    this.db
      .prepare(
        "INSERT INTO groups (id, epoch, created_at, kind, name) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch",
      )
      .run(id, group.epoch, at, group.kind, group.name);
    this.db.prepare("DELETE FROM group_members WHERE group_id = ?").run(id);
    const addMember = this.db.prepare("INSERT INTO group_members (group_id, user_id, device_id) VALUES (?, ?, ?)");
    for (const address of group.members) {
      const { user, device } = parseDeviceAddress(address);
      addMember.run(id, user, device);
    }
    this.db.prepare("DELETE FROM group_roles WHERE group_id = ?").run(id);
    const addRole = this.db.prepare("INSERT INTO group_roles (group_id, user_id, role) VALUES (?, ?, ?)");
    for (const [user, role] of group.roles) addRole.run(id, user, role);
    if (group.kind !== "direct") this.plans.fulfilled(id, group.roles.keys());
  }

  /** Writes what the admin's group plans ask of this device into its mailbox (at sign-in). */
  tellPlans(address: string): void {
    const { user, device } = parseDeviceAddress(address);
    const recipients: Recipient[] = [];
    this.queue.enqueue(
      () => {
        for (const { group, notice } of this.plans.noticesFor(user, device)) {
          recipients.push(this.write(address, group, "notice", address, Buffer.from(JSON.stringify(notice)), Date.now()));
        }
      },
      () => {
        if (recipients.length > 0) this.push(recipients);
      },
    );
  }

  private write(address: string, group: string, kind: MailboxKind, sender: string, data: Buffer, at: number, payload?: number, receipt?: number): Recipient {
    const user = userOf(address);
    const device = address.slice(user.length + 1);
    const entry = { group, kind, sender, data, at };
    return { address, entry: { ...entry, seq: this.mailbox.insert(user, device, entry, payload, receipt) } };
  }

  /** Large payloads that go to several devices are stored once (inside the caller's transaction). */
  private sharedPayloads(datas: Buffer[]): Map<Buffer, number> {
    const counts = new Map<Buffer, number>();
    for (const data of datas) if (data.length >= SHARED_PAYLOAD_BYTES) counts.set(data, (counts.get(data) ?? 0) + 1);
    const ids = new Map<Buffer, number>();
    for (const [data, count] of counts) if (count > 1) ids.set(data, this.mailbox.storePayload(data));
    return ids;
  }

  private decode(base64: string): Buffer {
    const bytes = Buffer.from(base64, "base64");
    if (bytes.length > this.maxMessageBytes) throw new MomedoError("frame_too_large", `${bytes.length} bytes`);
    if (bytes.length === 0) throw new MomedoError("bad_frame", "empty payload");
    return bytes;
  }

  private load(id: string): GroupRecord | undefined {
    let group = this.groups.get(id);
    if (group) return group;
    const row = this.db.prepare("SELECT epoch, kind, name FROM groups WHERE id = ?").get(id) as
      | { epoch: number; kind: GroupKind; name: string }
      | undefined;
    if (!row) return undefined;
    const members = (
      this.db.prepare("SELECT user_id || '/' || device_id AS address FROM group_members WHERE group_id = ?").all(id) as {
        address: string;
      }[]
    ).map((r) => r.address);
    const roles = new Map(
      (this.db.prepare("SELECT user_id AS user, role FROM group_roles WHERE group_id = ?").all(id) as { user: string; role: Role }[]).map(
        (r) => [r.user, r.role] as const,
      ),
    );
    group = { ...row, members, memberSet: new Set(members), roles };
    this.groups.set(id, group);
    return group;
  }
}

/** The other people a receipt waits for; none when there are none or too many. */
function receiptPeople(sender: string, targets: string[]): string[] | undefined {
  const own = userOf(sender);
  const people = new Set<string>();
  for (const address of targets) {
    const user = userOf(address);
    if (user !== own) people.add(user);
    if (people.size > RECEIPT_MAX_PEOPLE) return undefined;
  }
  return people.size > 0 ? [...people] : undefined;
}
