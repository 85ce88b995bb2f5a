// The embedded SQLite database. WAL with synchronous=FULL: a transaction is on disk before
// the server acknowledges anything written in it.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export type Db = Database.Database;

const MIGRATIONS: string[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE users (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     role TEXT NOT NULL DEFAULT 'member',
     created_at INTEGER NOT NULL,
     removed_at INTEGER
   );
   CREATE TABLE invites (
     code_hash TEXT PRIMARY KEY,
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   );
   CREATE TABLE devices (
     user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
     id TEXT NOT NULL,
     signature_key BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     last_seen INTEGER,
     revoked_at INTEGER,
     PRIMARY KEY (user_id, id)
   );
   CREATE TABLE key_packages (
     id INTEGER PRIMARY KEY,
     user_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     data BLOB NOT NULL,
     last_resort INTEGER NOT NULL DEFAULT 0,
     FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, id) ON DELETE CASCADE
   );
   CREATE INDEX key_packages_device ON key_packages(user_id, device_id, last_resort);
   CREATE TABLE groups (id TEXT PRIMARY KEY, epoch INTEGER NOT NULL, created_at INTEGER NOT NULL);
   CREATE TABLE group_members (
     group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
     user_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     PRIMARY KEY (group_id, user_id, device_id)
   );
   CREATE TABLE mailbox (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     user_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     group_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     sender TEXT NOT NULL,
     data BLOB NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX mailbox_device ON mailbox(user_id, device_id, seq);
   CREATE INDEX mailbox_age ON mailbox(at);`,
  `ALTER TABLE key_packages ADD COLUMN suite TEXT NOT NULL DEFAULT 'MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519';
   DROP INDEX key_packages_device;
   CREATE INDEX key_packages_device ON key_packages(user_id, device_id, suite, last_resort);
   ALTER TABLE groups ADD COLUMN kind TEXT NOT NULL DEFAULT 'direct';
   ALTER TABLE groups ADD COLUMN name TEXT NOT NULL DEFAULT '';
   CREATE TABLE group_roles (
     group_id TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
     user_id TEXT NOT NULL,
     role TEXT NOT NULL,
     PRIMARY KEY (group_id, user_id)
   );
   CREATE TABLE links (id TEXT PRIMARY KEY, public_key BLOB NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
   CREATE TABLE link_packages (
     link_id TEXT NOT NULL REFERENCES links(id) ON DELETE CASCADE,
     n INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (link_id, n)
   );`,
  `CREATE TABLE payloads (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
   ALTER TABLE mailbox ADD COLUMN payload_id INTEGER;
   CREATE INDEX mailbox_payload ON mailbox(payload_id) WHERE payload_id IS NOT NULL;`,
  // Every message inserts and deletes a mailbox row; the hourly expiry can scan instead.
  `DROP INDEX mailbox_age;`,
  // Administration: classes for the directory policy, console sessions, audit log, statistics.
  `ALTER TABLE users ADD COLUMN class TEXT NOT NULL DEFAULT '';
   CREATE TABLE admin_sessions (
     token_hash TEXT PRIMARY KEY,
     csrf TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE audit_log (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     detail TEXT NOT NULL DEFAULT ''
   );
   CREATE TABLE stats_hourly (
     hour INTEGER PRIMARY KEY,
     messages INTEGER NOT NULL DEFAULT 0,
     peak_connected INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE group_plans (
     group_id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     kind TEXT NOT NULL,
     owner TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE group_plan_members (
     group_id TEXT NOT NULL REFERENCES group_plans(group_id) ON DELETE CASCADE,
     user_id TEXT NOT NULL,
     notified_at INTEGER,
     PRIMARY KEY (group_id, user_id)
   );
   CREATE INDEX group_plan_member ON group_plan_members(user_id);`,
  // Encrypted files (blobs): the bytes live in DATA/blobs, these rows say who may fetch them.
  `CREATE TABLE blobs (
     id TEXT PRIMARY KEY,
     group_id TEXT NOT NULL,
     user_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     size INTEGER NOT NULL,
     complete INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     touched_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX blobs_user ON blobs(user_id);
   CREATE TABLE blob_recipients (
     blob_id TEXT NOT NULL REFERENCES blobs(id) ON DELETE CASCADE,
     address TEXT NOT NULL,
     fetched_at INTEGER,
     PRIMARY KEY (blob_id, address)
   );`,
  // Web Push: one browser subscription per device, for content-free wake-ups.
  `CREATE TABLE push_subscriptions (
     user_id TEXT NOT NULL,
     device_id TEXT NOT NULL,
     endpoint TEXT NOT NULL,
     p256dh TEXT NOT NULL,
     auth TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (user_id, device_id),
     FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, id) ON DELETE CASCADE
   );`,
  // "Delivered": a message sent with a receipt waits for one fetch by each other person.
  // A receipt waiting for one person (a 1:1 chat) names them in only_user; others list them in
  // receipt_waits. `message` is the sender's own message ID, named in the "delivered" notice.
  `CREATE TABLE receipts (
     id INTEGER PRIMARY KEY,
     group_id TEXT NOT NULL,
     sender TEXT NOT NULL,
     message TEXT NOT NULL,
     at INTEGER NOT NULL,
     only_user TEXT
   );
   CREATE TABLE receipt_waits (
     receipt_id INTEGER NOT NULL REFERENCES receipts(id) ON DELETE CASCADE,
     user_id TEXT NOT NULL,
     PRIMARY KEY (receipt_id, user_id)
   ) WITHOUT ROWID;
   CREATE INDEX receipts_age ON receipts(at);
   ALTER TABLE mailbox ADD COLUMN receipt_id INTEGER;
   CREATE INDEX mailbox_receipts ON mailbox(user_id, device_id, seq) WHERE receipt_id IS NOT NULL;`,
];

export function openDatabase(file: string): Db {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // After a burst (a Welcome to a whole school) the log shrinks back instead of staying large.
  db.pragma("journal_size_limit = 67108864");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export function getMeta(db: Db, key: string): string | undefined {
  const row = db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: Db, key: string, value: string): void {
  db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(
    key,
    value,
  );
}
