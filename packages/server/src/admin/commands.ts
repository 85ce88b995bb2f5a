// Administration that works with or without a running server: it writes to the same SQLite
// database (WAL allows a second writer process), which the server reads on every sign-in.
import { readFileSync } from "node:fs";
import { formatInvite, MomedoError } from "@momedo/protocol";
import type { DataDir } from "../dataDir.js";
import { DEFAULT_INVITE_DAYS } from "../people/invites.js";
import type { Person } from "../people/people.js";
import { getMeta } from "../storage/database.js";
import { loadOrCreateCertificate } from "../tls/certificate.js";

export interface NewUser {
  id: string;
  name: string;
  invite: string;
}

export function inviteFor(data: DataDir, user: string, validDays = DEFAULT_INVITE_DAYS): string {
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

export function addUser(data: DataDir, name: string, role = "member", validDays = DEFAULT_INVITE_DAYS): NewUser {
  return data.db.transaction(() => {
    const id = data.people.add(name, role);
    return { id, name: name.trim(), invite: inviteFor(data, id, validDays) };
  })();
}

export function reissueInvite(data: DataDir, user: string, validDays = DEFAULT_INVITE_DAYS): NewUser {
  if (!data.people.exists(user)) throw new MomedoError("unknown_user", user);
  return { id: user, name: data.people.name(user) ?? "", invite: inviteFor(data, user, validDays) };
}

export function listUsers(data: DataDir): Person[] {
  return data.people.list();
}

export function removeUser(data: DataDir, user: string): { id: string; removed: true } {
  data.people.remove(user);
  return { id: user, removed: true };
}

export interface ImportRow {
  line: number;
  name: string;
  role: string;
}

/** Reads a class list: a header with `name` (and optionally `role`), one person per line. */
export function readUserCsv(file: string): ImportRow[] {
  const lines = readFileSync(file, "utf8").replace(/^\uFEFF/, "").split(/\r?\n/);
  // The separator is decided once, from the header: a name may contain the other one.
  const separator = (lines[0] ?? "").includes(";") && !(lines[0] ?? "").includes(",") ? ";" : ",";
  const header = splitCsvLine(lines[0] ?? "", separator).map((h) => h.trim().toLowerCase());
  const nameColumn = header.findIndex((h) => h === "name");
  const roleColumn = header.findIndex((h) => h === "role" || h === "rolle");
  if (nameColumn < 0) throw new RangeError(`${file}: first line needs a column "name"`);
  const rows: ImportRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]!.trim()) continue;
    const cells = splitCsvLine(lines[i]!, separator);
    const name = (cells[nameColumn] ?? "").trim();
    if (!name) throw new RangeError(`${file}:${i + 1}: empty name`);
    rows.push({ line: i + 1, name, role: (roleColumn >= 0 ? cells[roleColumn] : "")?.trim() || "member" });
  }
  return rows;
}

/** Adds every row or none. */
export function importUsers(data: DataDir, rows: ImportRow[]): NewUser[] {
  return data.db.transaction(() => rows.map((row) => addUser(data, row.name, row.role)))();
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
