// The directory policy (R17): who may see and contact whom. Enforced here, on the server, for
// key claims and for every commit that adds someone, so no client can go around it.
import { MomedoError } from "@momedo/protocol";
import { getMeta, setMeta, type Db } from "../storage/database.js";

/** `bot`: a program (the town's software), added with `admin add-bot`, never from a class list. */
export type PersonRole = "pupil" | "staff" | "member" | "bot";
export type DirectoryPolicy = "open" | "school";
export const POLICIES: readonly DirectoryPolicy[] = ["open", "school"];

export interface DirectoryEntry {
  user: string;
  name: string;
  role: PersonRole;
  class: string;
}

const ROLE_WORDS: Record<string, PersonRole> = {
  "": "member",
  member: "member",
  mitglied: "member",
  pupil: "pupil",
  student: "pupil",
  schüler: "pupil",
  schülerin: "pupil",
  schueler: "pupil",
  schuelerin: "pupil",
  staff: "staff",
  teacher: "staff",
  lehrer: "staff",
  lehrerin: "staff",
  lehrkraft: "staff",
  mitarbeiter: "staff",
  mitarbeiterin: "staff",
};

/** Reads a role as people write it in a class list (German or English); throws RangeError. */
export function parseRole(text: string): PersonRole {
  const role = ROLE_WORDS[text.trim().toLowerCase()];
  if (!role) {
    throw new RangeError(`Rolle „${text.trim()}“ unbekannt (Schüler, Lehrer, Mitglied) / unknown role "${text.trim()}" (pupil, staff, member)`);
  }
  return role;
}

export const MAX_CLASS_LENGTH = 32;

/** A class or group label such as `7b` or `Kollegium`; throws RangeError. */
export function parseClass(text: string): string {
  const clean = text.trim();
  if (clean.length > MAX_CLASS_LENGTH || /[\u0000-\u001f<>]/.test(clean)) {
    throw new RangeError(`Klasse „${clean}“: höchstens ${MAX_CLASS_LENGTH} Zeichen / class "${clean}": at most ${MAX_CLASS_LENGTH} characters`);
  }
  return clean;
}

export function parsePolicy(text: string): DirectoryPolicy {
  if (!(POLICIES as readonly string[]).includes(text)) {
    throw new RangeError(`Richtlinie „${text}“ unbekannt / unknown policy "${text}" (${POLICIES.join(", ")})`);
  }
  return text as DirectoryPolicy;
}

/** Under `school`, a pupil sees staff, members and the pupils of their own class. */
export function mayContact(policy: DirectoryPolicy, from: DirectoryEntry, to: DirectoryEntry): boolean {
  if (policy === "open" || from.user === to.user) return true;
  if (from.role !== "pupil" || to.role !== "pupil") return true;
  return from.class !== "" && from.class === to.class;
}

export class Directory {
  constructor(private readonly db: Db) {}

  policy(): DirectoryPolicy {
    const value = getMeta(this.db, "directory_policy");
    return value === "school" ? "school" : "open";
  }

  setPolicy(policy: DirectoryPolicy): void {
    setMeta(this.db, "directory_policy", policy);
  }

  entry(user: string): DirectoryEntry | undefined {
    return this.db
      .prepare("SELECT id AS user, name, role, class FROM users WHERE id = ? AND removed_at IS NULL")
      .get(user) as DirectoryEntry | undefined;
  }

  /** The people `user` may see, themselves included. */
  visibleTo(user: string): DirectoryEntry[] {
    const me = this.entry(user);
    if (!me) return [];
    const policy = this.policy();
    const everyone = this.db
      .prepare("SELECT id AS user, name, role, class FROM users WHERE removed_at IS NULL ORDER BY name, id")
      .all() as DirectoryEntry[];
    return everyone.filter((other) => mayContact(policy, me, other));
  }

  /** Throws not_allowed unless `from` may contact each of `to`. */
  checkContact(from: string, to: Iterable<string>): void {
    const policy = this.policy();
    if (policy === "open") return;
    const me = this.entry(from);
    for (const user of to) {
      const other = this.entry(user);
      if (me && other && !mayContact(policy, me, other)) throw new MomedoError("not_allowed", user);
    }
  }
}
