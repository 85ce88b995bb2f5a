// The MLS Delivery Service: orders commits per group (first valid commit for an epoch wins),
// keeps the member list it needs for fan-out, and writes every copy into the members' mailboxes.
import {
  directChatId,
  isDirectChatId,
  MomedoError,
  parseDeviceAddress,
  type GroupCommitFrame,
  type GroupSendFrame,
  type MailboxKind,
} from "@momedo/protocol";
import type { Db } from "../storage/database.js";
import type { Mailbox, MailboxEntry } from "../mailbox/mailbox.js";
import type { WriteQueue } from "../mailbox/writeQueue.js";
import type { People } from "../people/people.js";

interface GroupRecord {
  epoch: number;
  members: string[];
  memberSet: Set<string>;
}

export interface Recipient {
  address: string;
  entry: MailboxEntry;
}

export type Push = (recipients: Recipient[]) => void;

export class DeliveryService {
  private readonly groups = new Map<string, GroupRecord>();
  private readonly maxMessageBytes: number;

  constructor(
    private readonly db: Db,
    private readonly people: People,
    private readonly mailbox: Mailbox,
    private readonly queue: WriteQueue,
    private readonly push: Push,
    options: { maxMessageBytes: number },
  ) {
    this.maxMessageBytes = options.maxMessageBytes;
  }

  /** Accepts a commit if it is the first for the group's current epoch; resolves once durable. */
  commit(sender: string, frame: GroupCommitFrame): Promise<{ epoch: number }> {
    const group = this.load(frame.group);
    const oldMembers = group ? group.members : [sender];
    if (group && !group.memberSet.has(sender)) throw new MomedoError("not_member", frame.group);
    const currentEpoch = group?.epoch ?? 0;
    if (frame.epoch !== currentEpoch) throw new MomedoError("epoch_conflict", `current epoch ${currentEpoch}`);
    const members = [...new Set(frame.members)];
    if (!members.includes(sender)) throw new MomedoError("policy_denied", "the committer must stay a member");
    for (const address of members) {
      const { user, device } = parseDeviceAddress(address);
      if (!this.people.deviceKey(user, device)) throw new MomedoError("unknown_device", address);
    }
    this.checkPolicy(frame.group, members);
    const commit = this.decode(frame.commit);
    const welcome = frame.welcome ? this.decode(frame.welcome) : undefined;
    const added = members.filter((m) => !oldMembers.includes(m));
    if (added.length > 0 && !welcome) throw new MomedoError("bad_frame", "added members need a welcome");

    const epoch = currentEpoch + 1;
    const record: GroupRecord = { epoch, members, memberSet: new Set(members) };
    this.groups.set(frame.group, record);
    const at = Date.now();
    const copies: [string, MailboxKind, Buffer][] = [
      ...oldMembers.filter((m) => m !== sender).map((m) => [m, "commit", commit] as [string, MailboxKind, Buffer]),
      ...added.map((m) => [m, "welcome", welcome!] as [string, MailboxKind, Buffer]),
    ];
    return new Promise((resolve) => {
      const recipients: Recipient[] = [];
      this.queue.enqueue(
        () => {
          this.db
            .prepare("INSERT INTO groups (id, epoch, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch")
            .run(frame.group, epoch, at);
          this.db.prepare("DELETE FROM group_members WHERE group_id = ?").run(frame.group);
          const addMember = this.db.prepare("INSERT INTO group_members (group_id, user_id, device_id) VALUES (?, ?, ?)");
          for (const address of members) {
            const { user, device } = parseDeviceAddress(address);
            addMember.run(frame.group, user, device);
          }
          for (const [address, kind, data] of copies) recipients.push(this.write(address, frame.group, kind, sender, data, at));
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
    if (!group || !group.memberSet.has(sender)) throw new MomedoError("not_member", frame.group);
    if (frame.epoch !== group.epoch) throw new MomedoError("stale_epoch", `current epoch ${group.epoch}`);
    const data = this.decode(frame.data);
    const at = Date.now();
    const targets = group.members.filter((m) => m !== sender);
    return new Promise((resolve) => {
      const recipients: Recipient[] = [];
      this.queue.enqueue(
        () => {
          for (const address of targets) recipients.push(this.write(address, frame.group, "app", sender, data, at));
        },
        () => {
          this.push(recipients);
          resolve({ delivered: recipients.length });
        },
      );
    });
  }

  /** Forgets devices that were revoked, so they no longer receive copies. */
  forgetDevice(address: string): void {
    for (const group of this.groups.values()) {
      if (group.memberSet.delete(address)) group.members = group.members.filter((m) => m !== address);
    }
  }

  private write(address: string, group: string, kind: MailboxKind, sender: string, data: Buffer, at: number): Recipient {
    const { user, device } = parseDeviceAddress(address);
    const entry = { group, kind, sender, data, at };
    return { address, entry: { ...entry, seq: this.mailbox.insert(user, device, entry) } };
  }

  private decode(base64: string): Buffer {
    const bytes = Buffer.from(base64, "base64");
    if (bytes.length > this.maxMessageBytes) throw new MomedoError("frame_too_large", `${bytes.length} bytes`);
    if (bytes.length === 0) throw new MomedoError("bad_frame", "empty payload");
    return bytes;
  }

  private checkPolicy(group: string, members: string[]): void {
    if (!isDirectChatId(group)) throw new MomedoError("policy_denied", "only direct chats in this version");
    const users = [...new Set(members.map((m) => parseDeviceAddress(m).user))].sort();
    // A direct chat holds exactly the two people its ID is derived from.
    if (users.length !== 2 || directChatId(users[0]!, users[1]!) !== group) {
      throw new MomedoError("policy_denied", "a direct chat holds exactly its two people");
    }
  }

  private load(id: string): GroupRecord | undefined {
    let group = this.groups.get(id);
    if (group) return group;
    const row = this.db.prepare("SELECT epoch FROM groups WHERE id = ?").get(id) as { epoch: number } | undefined;
    if (!row) return undefined;
    const members = (
      this.db.prepare("SELECT user_id || '/' || device_id AS address FROM group_members WHERE group_id = ?").all(id) as {
        address: string;
      }[]
    ).map((r) => r.address);
    group = { epoch: row.epoch, members, memberSet: new Set(members) };
    this.groups.set(id, group);
    return group;
  }
}
