// Backup and restore of a data directory as one file: a consistent SQLite snapshot (taken with
// SQLite's online backup while the server runs) that also carries the organisation key and the
// TLS certificate, because without them restored devices could neither trust nor reach it.
import Database from "better-sqlite3";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { openDatabase } from "../storage/database.js";

/** Files of the data directory that belong in a backup, besides the database. */
const FILES = [
  { name: "org.key", mode: 0o600 },
  { name: "tls/cert.pem", mode: 0o644 },
  { name: "tls/key.pem", mode: 0o600 },
];

export interface BackupResult {
  file: string;
  bytes: number;
  mailbox: number;
  people: number;
}

export async function backup(dataDir: string, file: string, progress?: (remaining: number, total: number) => void): Promise<BackupResult> {
  const source = join(dataDir, "momedo.sqlite");
  if (!existsSync(source)) throw new RangeError(`${dataDir}: kein momedo-Datenverzeichnis / not a momedo data directory`);
  if (existsSync(file)) throw new RangeError(`${file}: gibt es schon / already exists`);
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const db = openDatabase(source);
  try {
    await db.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        progress?.(remainingPages, totalPages);
        return 256;
      },
    });
  } finally {
    db.close();
  }
  const copy = new Database(partial);
  try {
    copy.pragma("journal_mode = DELETE");
    copy.exec("CREATE TABLE backup_files (name TEXT PRIMARY KEY, mode INTEGER NOT NULL, data BLOB NOT NULL)");
    const insert = copy.prepare("INSERT INTO backup_files (name, mode, data) VALUES (?, ?, ?)");
    for (const { name, mode } of FILES) {
      const path = join(dataDir, name);
      if (existsSync(path)) insert.run(name, mode, readFileSync(path));
    }
    const mailbox = (copy.prepare("SELECT count(*) AS n FROM mailbox").get() as { n: number }).n;
    const people = (copy.prepare("SELECT count(*) AS n FROM users WHERE removed_at IS NULL").get() as { n: number }).n;
    copy.close();
    renameSync(partial, file);
    return { file, bytes: statSync(file).size, mailbox, people };
  } catch (error) {
    if (copy.open) copy.close();
    rmSync(partial, { force: true });
    throw error;
  }
}

/** Restores a backup into an empty (or absent) data directory. The server must not be running there. */
export function restore(file: string, dataDir: string): { dataDir: string; people: number; mailbox: number } {
  if (!existsSync(file)) throw new RangeError(`${file}: nicht gefunden / not found`);
  if (existsSync(join(dataDir, "momedo.sqlite"))) {
    throw new RangeError(
      `${dataDir}: enthält schon Daten; in ein leeres Verzeichnis wiederherstellen / already holds data; restore into an empty directory`,
    );
  }
  const backupDb = new Database(file, { readonly: true, fileMustExist: true });
  let files: { name: string; mode: number; data: Buffer }[];
  try {
    const hasFiles = backupDb.prepare("SELECT 1 FROM sqlite_master WHERE name = 'backup_files'").get();
    if (!hasFiles) throw new RangeError(`${file}: keine momedo-Sicherung / not a momedo backup`);
    files = backupDb.prepare("SELECT name, mode, data FROM backup_files").all() as typeof files;
  } finally {
    backupDb.close();
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const target = join(dataDir, "momedo.sqlite");
  copyFileSync(file, `${target}.partial`);
  const db = new Database(`${target}.partial`);
  db.exec("DROP TABLE backup_files");
  db.close();
  for (const { name, mode, data } of files) {
    if (!FILES.some((f) => f.name === name)) continue;
    mkdirSync(dirname(join(dataDir, name)), { recursive: true, mode: 0o700 });
    writeFileSync(join(dataDir, name), data, { mode });
  }
  renameSync(`${target}.partial`, target);
  const restored = openDatabase(target);
  const people = (restored.prepare("SELECT count(*) AS n FROM users WHERE removed_at IS NULL").get() as { n: number }).n;
  const mailbox = (restored.prepare("SELECT count(*) AS n FROM mailbox").get() as { n: number }).n;
  restored.close();
  return { dataDir, people, mailbox };
}
