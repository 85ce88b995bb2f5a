// Administration that works with or without a running server: it writes to the same SQLite
// database (WAL allows a second writer process), which the server reads on every sign-in.
import { readFileSync } from "node:fs";
import { formatInvite, MomedoError } from "@momedo/protocol";
import type { DataDir } from "../dataDir.js";
import { DEFAULT_INVITE_DAYS } from "../people/invites.js";
import { parseClass, parsePolicy, parseRole, type DirectoryPolicy, type PersonRole } from "../people/directory.js";
import { checkName, type Person } from "../people/people.js";
import type { GroupPlan } from "../groups/plans.js";
import { handoutPdf } from "../handouts/pdf.js";
import { getMeta } from "../storage/database.js";
import { loadOrCreateCertificate } from "../tls/certificate.js";
import { audit, type Actor } from "./audit.js";

export interface NewUser {
  id: string;
  name: string;
  role: PersonRole;
  class: string;
  invite: string;
}

export interface PersonInput {
  name: string;
  role?: string;
  class?: string;
}

/**
 * A fresh invite. With `voidOlder` the person's unused invites stop working (a lost or
 * reprinted sheet is void); without, it is one more (for another device).
 */
export function inviteFor(data: DataDir, user: string, validDays = DEFAULT_INVITE_DAYS, voidOlder = false): string {
  if (voidOlder) data.invites.revokeUnused(user);
  const code = data.invites.create(user, validDays);
  let url = getMeta(data.db, "public_url");
  let fingerprint = getMeta(data.db, "fingerprint");
  if (!url) {
    // Never started yet: the invite names the default address and the certificate it will use.
    fingerprint = loadOrCreateCertificate(data.path, []).fingerprint;
    url = `https://127.0.0.1:4710`;
  }
  return formatInvite({ url, code, ...(fingerprint ? { fingerprint } : {}) });
}

export function addUser(data: DataDir, input: PersonInput, actor: Actor, validDays = DEFAULT_INVITE_DAYS): NewUser {
  const role = parseRole(input.role ?? "");
  const klass = parseClass(input.class ?? "");
  return data.db.transaction(() => {
    const id = data.people.add(input.name, role, klass);
    const name = input.name.trim();
    audit(data.db, actor, "add-person", `${id} ${name}${klass ? ` (${klass})` : ""}, ${role}`);
    return { id, name, role, class: klass, invite: inviteFor(data, id, validDays) };
  })();
}

/** A bot: an enrolled participant whose credential the organisation marks as a bot. */
export function addBot(data: DataDir, name: string, actor: Actor, validDays = DEFAULT_INVITE_DAYS): NewUser {
  return data.db.transaction(() => {
    const id = data.people.add(name, "bot");
    audit(data.db, actor, "add-bot", `${id} ${name.trim()}`);
    return { id, name: name.trim(), role: "bot" as const, class: "", invite: inviteFor(data, id, validDays) };
  })();
}

export function reissueInvite(data: DataDir, user: string, actor: Actor, voidOlder = false, validDays = DEFAULT_INVITE_DAYS): NewUser {
  const entry = data.directory.entry(user);
  if (!entry) throw new MomedoError("unknown_user", user);
  return data.db.transaction(() => {
    audit(data.db, actor, "new-invite", `${user}${voidOlder ? " (older void)" : ""}`);
    return { id: user, name: entry.name, role: entry.role, class: entry.class, invite: inviteFor(data, user, validDays, voidOlder) };
  })();
}

export function listUsers(data: DataDir): Person[] {
  return data.people.list();
}

export function removeUser(data: DataDir, user: string, actor: Actor): { id: string; removed: true } {
  data.db.transaction(() => {
    const name = data.people.name(user);
    data.people.remove(user);
    audit(data.db, actor, "remove-person", `${user} ${name ?? ""}`.trim());
  })();
  return { id: user, removed: true };
}

export function revokeDevice(data: DataDir, user: string, device: string, actor: Actor): { id: string; device: string; revoked: true } {
  data.db.transaction(() => {
    data.people.revokeDevice(user, device);
    audit(data.db, actor, "revoke-device", `${user}/${device}`);
  })();
  return { id: user, device, revoked: true };
}

export function setPolicy(data: DataDir, policy: string, actor: Actor): { policy: DirectoryPolicy } {
  const parsed = parsePolicy(policy);
  data.db.transaction(() => {
    data.directory.setPolicy(parsed);
    audit(data.db, actor, "set-policy", parsed);
  })();
  return { policy: parsed };
}

/** Fresh invites for the chosen people and one PDF with a page each. */
export function handouts(data: DataDir, users: string[], actor: Actor): { pdf: Buffer; people: number } {
  if (users.length === 0) throw new MomedoError("bad_request", "niemand ausgewählt / nobody selected");
  return data.db.transaction(() => {
    const sheets = users.map((user) => {
      const entry = data.directory.entry(user);
      if (!entry) throw new MomedoError("unknown_user", user);
      return { name: entry.name, id: user, class: entry.class, invite: inviteFor(data, user, DEFAULT_INVITE_DAYS, true) };
    });
    audit(data.db, actor, "handouts", `${sheets.length}: ${users.join(" ")}`);
    return { pdf: handoutPdf(data.organization, sheets), people: sheets.length };
  })();
}

export interface GroupPlanInput {
  name: string;
  kind: string;
  owner: string;
  class?: string;
  members?: string[];
}

/**
 * Plans a group or channel: the owner's device creates it at its next sign-in, with every
 * member who has a device; the others are added once they enroll.
 */
export function planGroup(data: DataDir, input: GroupPlanInput, actor: Actor): GroupPlan {
  const name = input.name.trim();
  if (!name || name.length > 100 || /[\u0000-\u001f]/.test(name)) {
    throw new RangeError("Name: 1 bis 100 druckbare Zeichen / name must be 1 to 100 printable characters");
  }
  if (input.kind !== "group" && input.kind !== "channel") throw new RangeError(`Art / kind "${input.kind}": group oder / or channel`);
  const owner = input.owner.toUpperCase();
  if (!data.people.exists(owner)) throw new MomedoError("unknown_user", owner);
  const members = [...(input.class ? classMembers(data, input.class) : []), ...(input.members ?? []).map((m) => m.toUpperCase())];
  for (const member of members) if (!data.people.exists(member)) throw new MomedoError("unknown_user", member);
  return data.db.transaction(() => {
    const plan = data.plans.create(name, input.kind as "group" | "channel", owner, members);
    audit(data.db, actor, "plan-group", `${plan.group} ${name} (${plan.kind}), owner ${owner}, ${plan.members.length} members`);
    return plan;
  })();
}

/** The people of a class, in name order. */
export function classMembers(data: DataDir, klass: string): string[] {
  return data.people
    .list()
    .filter((p) => p.class === klass)
    .map((p) => p.id);
}

export interface ImportRow {
  line: number;
  name: string;
  role: string;
  class: string;
  /** Why this row cannot be imported; nothing of it is stored. */
  error?: string;
}

/**
 * Reads a class list: a header with `name` and optionally `class`/`klasse` and `role`/`rolle`,
 * one person per line. Each row is checked; a bad row carries its error.
 */
export function parseUserCsv(text: string): ImportRow[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  // The separator is decided once, from the header: a name may contain the other one.
  const separator = (lines[0] ?? "").includes(";") && !(lines[0] ?? "").includes(",") ? ";" : ",";
  const header = splitCsvLine(lines[0] ?? "", separator).map((h) => h.trim().toLowerCase());
  const column = (...names: string[]) => header.findIndex((h) => names.includes(h));
  const nameColumn = column("name");
  const roleColumn = column("role", "rolle");
  const classColumn = column("class", "klasse", "group", "gruppe");
  if (nameColumn < 0) throw new RangeError(`die erste Zeile braucht eine Spalte „name“ / first line needs a column "name"`);
  const rows: ImportRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const cells = splitCsvLine(lines[i]!, separator);
    const cell = (index: number) => (index >= 0 ? (cells[index] ?? "") : "").trim();
    const row: ImportRow = { line: i + 1, name: cell(nameColumn), role: cell(roleColumn), class: cell(classColumn) };
    try {
      checkName(row.name);
      row.role = parseRole(row.role);
      row.class = parseClass(row.class);
    } catch (error) {
      row.error = (error as Error).message;
    }
    rows.push(row);
  }
  return rows;
}

export function readUserCsv(file: string): ImportRow[] {
  try {
    return parseUserCsv(readFileSync(file, "utf8"));
  } catch (error) {
    if (error instanceof RangeError) throw new RangeError(`${file}: ${error.message}`);
    throw error;
  }
}

/** Adds every row or none; refuses a list with a bad row, naming each. */
export function importUsers(data: DataDir, rows: ImportRow[], actor: Actor): NewUser[] {
  const bad = rows.filter((r) => r.error);
  if (bad.length > 0) throw new RangeError(bad.map((r) => `Zeile / line ${r.line}: ${r.error}`).join("\n"));
  return data.db.transaction(() => {
    const added = rows.map((row) => addUser(data, row, actor));
    audit(data.db, actor, "import", `${added.length} Personen / people`);
    return added;
  })();
}

function splitCsvLine(line: string, separator: string): string[] {
  const cells: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === separator) {
      cells.push(cell);
      cell = "";
    } else cell += ch;
  }
  cells.push(cell);
  return cells;
}
