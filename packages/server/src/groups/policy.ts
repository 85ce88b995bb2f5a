// Who may change a group's members: the server's rules, checked for every commit.
import { directChatId, isDirectChatId, MomedoError, type GroupKind, type Role } from "@momedo/protocol";

export interface GroupView {
  kind: GroupKind;
  members: readonly string[];
  roles: ReadonlyMap<string, Role>;
  /** Devices revoked by their person or the admin: anyone may remove their leaves. */
  inactive: ReadonlySet<string>;
}

export interface MemberChange {
  added: string[];
  removed: string[];
  addedUsers: string[];
  removedUsers: string[];
}

export function memberChange(before: readonly string[], after: readonly string[]): MemberChange {
  const b = new Set(before);
  const a = new Set(after);
  const usersBefore = new Set(before.map(userOf));
  const usersAfter = new Set(after.map(userOf));
  return {
    added: after.filter((m) => !b.has(m)),
    removed: before.filter((m) => !a.has(m)),
    addedUsers: [...usersAfter].filter((u) => !usersBefore.has(u)),
    removedUsers: [...usersBefore].filter((u) => !usersAfter.has(u)),
  };
}

/** The person of a device address. Addresses here were checked when they entered (frame schema). */
export function userOf(address: string): string {
  return address.slice(0, address.indexOf("/"));
}

export function isManager(role: Role | undefined): boolean {
  return role === "owner" || role === "admin";
}

/** Throws policy_denied unless `sender` may turn `group` into `after`. */
export function checkCommit(group: string, view: GroupView, sender: string, after: readonly string[]): void {
  if (!after.includes(sender)) throw new MomedoError("policy_denied", "the committer must stay a member");
  const senderUser = userOf(sender);
  if (view.kind === "direct") {
    const users = [...new Set(after.map(userOf))].sort();
    if (users.length !== 2 || directChatId(users[0]!, users[1]!) !== group || !isDirectChatId(group)) {
      throw new MomedoError("policy_denied", "a direct chat holds exactly its two people");
    }
    return;
  }
  const change = memberChange(view.members, after);
  const manager = isManager(view.roles.get(senderUser));
  for (const user of change.addedUsers) {
    if (!manager) throw new MomedoError("policy_denied", `only owners and admins add people (${user})`);
  }
  for (const address of change.added) {
    const user = userOf(address);
    // Anyone may add their own new device; other people's devices need a manager.
    if (user !== senderUser && !manager) throw new MomedoError("policy_denied", `only owners and admins add devices of others (${address})`);
  }
  for (const address of change.removed) {
    const user = userOf(address);
    const stale = view.inactive.has(address) || !view.roles.has(user);
    if (user !== senderUser && !stale && !manager) {
      throw new MomedoError("policy_denied", `only owners and admins remove people (${address})`);
    }
  }
  for (const user of change.removedUsers) {
    if (view.roles.get(user) === "owner" && user !== senderUser && view.roles.get(senderUser) !== "owner") {
      throw new MomedoError("policy_denied", "only an owner removes an owner");
    }
  }
}

export function checkSend(view: GroupView, sender: string, reaction = false): void {
  if (view.kind === "channel" && !reaction && !isManager(view.roles.get(userOf(sender)))) {
    throw new MomedoError("policy_denied", "only owners and admins post in a channel");
  }
}

/** Throws policy_denied unless `actor` may give `target` the role `role`. */
export function checkRoleChange(view: GroupView, actor: string, target: string, role: Role): void {
  if (view.kind === "direct") throw new MomedoError("policy_denied", "a direct chat has no roles");
  const actorRole = view.roles.get(actor);
  const targetRole = view.roles.get(target);
  if (!targetRole) throw new MomedoError("not_member", target);
  if (!isManager(actorRole)) throw new MomedoError("policy_denied", "only owners and admins change roles");
  if ((role === "owner" || targetRole === "owner") && actorRole !== "owner") {
    throw new MomedoError("policy_denied", "only an owner makes or unmakes owners");
  }
  if (targetRole === "owner" && role !== "owner" && owners(view) === 1) {
    throw new MomedoError("policy_denied", "the last owner cannot step down");
  }
}

export function checkRename(view: GroupView, actor: string): void {
  if (view.kind === "direct") throw new MomedoError("policy_denied", "a direct chat has no name");
  if (!isManager(view.roles.get(actor))) throw new MomedoError("policy_denied", "only owners and admins rename");
}

export function checkLeave(view: GroupView, user: string): void {
  if (view.kind === "direct") throw new MomedoError("policy_denied", "a direct chat cannot be left");
  if (!view.roles.has(user)) throw new MomedoError("not_member", user);
  if (view.roles.get(user) === "owner" && owners(view) === 1 && view.roles.size > 1) {
    throw new MomedoError("policy_denied", "the last owner cannot leave; make someone else owner first");
  }
}

function owners(view: GroupView): number {
  let n = 0;
  for (const role of view.roles.values()) if (role === "owner") n++;
  return n;
}
