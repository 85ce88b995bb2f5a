// Groups and channels the admin plans (e.g. one channel per class). The server cannot create an
// MLS group itself (it holds no member keys), so it asks the planned owner's device to create it
// and, later, to add each planned member once they have a device. Members see who is in.
import { crockford, MomedoError, type Notice } from "@momedo/protocol";
import { randomBytes } from "node:crypto";
import type { Db } from "../storage/database.js";

export interface GroupPlan {
  group: string;
  name: string;
  kind: "group" | "channel";
  owner: string;
  members: string[];
}

/** A notice for one device of the owner. */
export interface PlanNotice {
  group: string;
  notice: Notice;
}

const RENOTIFY_MS = 10 * 60 * 1000;

export class GroupPlans {
  constructor(private readonly db: Db) {}

  create(name: string, kind: "group" | "channel", owner: string, members: string[], now = Date.now()): GroupPlan {
    const group = `g.${crockford(randomBytes(17), 26)}`;
    const others = [...new Set(members)].filter((m) => m !== owner);
    this.db.transaction(() => {
      this.db.prepare("INSERT INTO group_plans (group_id, name, kind, owner, created_at) VALUES (?, ?, ?, ?, ?)").run(group, name, kind, owner, now);
      const insert = this.db.prepare("INSERT INTO group_plan_members (group_id, user_id) VALUES (?, ?)");
      for (const user of others) insert.run(group, user);
    })();
    return { group, name, kind, owner, members: others };
  }

  ownerOf(group: string): string | undefined {
    return (this.db.prepare("SELECT owner FROM group_plans WHERE group_id = ?").get(group) as { owner: string } | undefined)?.owner;
  }

  list(): (GroupPlan & { created: boolean })[] {
    const plans = this.db
      .prepare("SELECT p.group_id AS 'group', p.name, p.kind, p.owner, g.id IS NOT NULL AS created FROM group_plans p LEFT JOIN groups g ON g.id = p.group_id ORDER BY p.name")
      .all() as (Omit<GroupPlan, "members"> & { created: number })[];
    const members = this.db.prepare("SELECT user_id AS user FROM group_plan_members WHERE group_id = ?");
    return plans.map((p) => ({
      ...p,
      created: p.created === 1,
      members: (members.all(p.group) as { user: string }[]).map((m) => m.user),
    }));
  }

  /**
   * What a signing-in device of `user` should be told: plans it owns whose group does not exist
   * yet (unless already waiting in its mailbox), and planned members of its existing groups who
   * now have a device but are not in yet (at most every ten minutes each).
   */
  noticesFor(user: string, device: string, now = Date.now()): PlanNotice[] {
    const notices: PlanNotice[] = [];
    const toCreate = this.db
      .prepare(
        `SELECT p.group_id AS 'group', p.name, p.kind FROM group_plans p
         WHERE p.owner = ? AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = p.group_id)
           AND NOT EXISTS (SELECT 1 FROM mailbox m WHERE m.user_id = ? AND m.device_id = ? AND m.group_id = p.group_id AND m.kind = 'notice')`,
      )
      .all(user, user, device) as { group: string; name: string; kind: "group" | "channel" }[];
    const members = this.db.prepare("SELECT user_id AS user FROM group_plan_members WHERE group_id = ?");
    for (const plan of toCreate) {
      const planned = (members.all(plan.group) as { user: string }[]).map((m) => m.user);
      notices.push({ group: plan.group, notice: { type: "provision", name: plan.name, kind: plan.kind, members: planned } });
    }
    const toAdd = this.db
      .prepare(
        `SELECT m.group_id AS 'group', m.user_id AS user FROM group_plan_members m
         JOIN group_plans p ON p.group_id = m.group_id AND p.owner = ?
         JOIN groups g ON g.id = m.group_id
         WHERE NOT EXISTS (SELECT 1 FROM group_roles r WHERE r.group_id = m.group_id AND r.user_id = m.user_id)
           AND EXISTS (SELECT 1 FROM devices d WHERE d.user_id = m.user_id AND d.revoked_at IS NULL)
           AND (m.notified_at IS NULL OR m.notified_at < ?)`,
      )
      .all(user, now - RENOTIFY_MS) as { group: string; user: string }[];
    const mark = this.db.prepare("UPDATE group_plan_members SET notified_at = ? WHERE group_id = ? AND user_id = ?");
    for (const row of toAdd) {
      mark.run(now, row.group, row.user);
      notices.push({ group: row.group, notice: { type: "provision_add", user: row.user } });
    }
    return notices;
  }

  /** People now in a planned group need no more notices (and are not re-added after leaving). */
  fulfilled(group: string, users: Iterable<string>): void {
    const remove = this.db.prepare("DELETE FROM group_plan_members WHERE group_id = ? AND user_id = ?");
    for (const user of users) remove.run(group, user);
  }

  /** Only the planned owner may create a planned group. */
  checkCreator(group: string, user: string): void {
    const owner = this.ownerOf(group);
    if (owner !== undefined && owner !== user) throw new MomedoError("policy_denied", "this group was planned for another owner");
  }
}
