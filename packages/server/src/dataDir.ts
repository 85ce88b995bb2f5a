// Everything a server keeps lives in one data directory: database, organisation key, certificate.
import { join } from "node:path";
import { DEFAULT_CIPHERSUITE_NAME } from "./ciphersuite.js";
import { GroupPlans } from "./groups/plans.js";
import { Directory } from "./people/directory.js";
import { Invites } from "./people/invites.js";
import { People } from "./people/people.js";
import { loadOrCreateOrgKey, type OrgKey } from "./org/orgKey.js";
import { getMeta, openDatabase, setMeta, type Db } from "./storage/database.js";

export interface DataDir {
  path: string;
  db: Db;
  orgKey: OrgKey;
  people: People;
  invites: Invites;
  directory: Directory;
  plans: GroupPlans;
  organization: string;
  ciphersuite: string;
}

export function openDataDir(path: string, ciphersuite?: string): DataDir {
  const db = openDatabase(join(path, "momedo.sqlite"));
  const orgKey = loadOrCreateOrgKey(path);
  if (!getMeta(db, "organization")) setMeta(db, "organization", "momedo");
  if (ciphersuite) setMeta(db, "ciphersuite", ciphersuite);
  else if (!getMeta(db, "ciphersuite")) setMeta(db, "ciphersuite", DEFAULT_CIPHERSUITE_NAME);
  return {
    path,
    db,
    orgKey,
    people: new People(db),
    invites: new Invites(db),
    directory: new Directory(db),
    plans: new GroupPlans(db),
    organization: getMeta(db, "organization")!,
    ciphersuite: getMeta(db, "ciphersuite")!,
  };
}
