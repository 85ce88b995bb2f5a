// `momedo-server doctor`: checks a data directory and a running server the way an admin would,
// and says in plain words what to fix.
import { X509Certificate } from "node:crypto";
import { accessSync, constants, existsSync, readFileSync, statfsSync, statSync } from "node:fs";
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { getMeta, openDatabase } from "../storage/database.js";
import { certificateFingerprint } from "../tls/certificate.js";

export interface Finding {
  check: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const GiB = 1024 ** 3;

export async function doctor(dataDir: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  const add = (check: string, ok: boolean, detail: string, fix?: string) => findings.push({ check, ok, detail, ...(ok || !fix ? {} : { fix }) });

  const dbFile = join(dataDir, "momedo.sqlite");
  if (!existsSync(dbFile)) {
    add("data", false, `${dataDir}: keine Datenbank / no database`, "momedo-server start --data DIR einmal ausführen / run once");
    return findings;
  }
  try {
    accessSync(dataDir, constants.W_OK);
    add("data", true, `${dataDir} beschreibbar / writable`);
  } catch {
    add("data", false, `${dataDir} nicht beschreibbar / not writable`, "Rechte des Verzeichnisses prüfen / check the folder's permissions");
  }

  const db = openDatabase(dbFile);
  let publicUrl: string | undefined;
  let pinned: string | undefined;
  try {
    const integrity = db.pragma("quick_check", { simple: true });
    add("database", integrity === "ok", `SQLite quick_check: ${String(integrity)}`, "aus der letzten Sicherung wiederherstellen / restore the last backup");
    const people = (db.prepare("SELECT count(*) AS n FROM users WHERE removed_at IS NULL").get() as { n: number }).n;
    const backlog = (db.prepare("SELECT count(*) AS n FROM mailbox").get() as { n: number }).n;
    add("database", true, `${people} Personen / people, ${backlog} wartende Nachrichten / waiting messages`);
    publicUrl = getMeta(db, "public_url");
    pinned = getMeta(db, "fingerprint") || undefined;
    const adminSet = getMeta(db, "admin_password") !== undefined;
    add(
      "admin",
      adminSet,
      adminSet
        ? `Verwaltung eingerichtet${getMeta(db, "admin_totp") ? ", mit zweitem Faktor / admin console set up, with second factor" : " (ohne zweiten Faktor) / admin console set up (no second factor)"}`
        : "Verwaltung noch nicht eingerichtet / admin console not set up yet",
      "den Einrichtungslink aus `momedo-server start` öffnen oder `momedo-server admin setup-link` / open the set-up link printed by start, or run admin setup-link",
    );
  } finally {
    db.close();
  }

  const orgKey = join(dataDir, "org.key");
  if (!existsSync(orgKey)) add("org key", false, "org.key fehlt / is missing", "aus der Sicherung wiederherstellen; ohne ihn vertrauen Geräte neuen Anmeldungen nicht / restore it from the backup");
  else {
    const mode = statSync(orgKey).mode & 0o777;
    add("org key", (mode & 0o077) === 0, `org.key Rechte / mode ${mode.toString(8)}`, "chmod 600 org.key");
  }

  const certFile = join(dataDir, "tls", "cert.pem");
  if (existsSync(certFile)) {
    const pem = readFileSync(certFile, "utf8");
    const cert = new X509Certificate(pem);
    const daysLeft = Math.floor((Date.parse(cert.validTo) - Date.now()) / 86_400_000);
    add("certificate", daysLeft > 30, `gültig bis / valid until ${cert.validTo} (${daysLeft} Tage / days)`, "neues Zertifikat: tls/ entfernen, neu starten, neue Einladungen / new certificate: remove tls/, restart, new invites");
    const fingerprint = certificateFingerprint(pem);
    add("certificate", !pinned || pinned === fingerprint, `Fingerabdruck / fingerprint ${fingerprint}`, "der Server läuft mit einem anderen Zertifikat als die Einladungen nennen / the server runs with another certificate than the invites name");
    const notBefore = Date.parse(cert.validFrom);
    add("clock", Date.now() >= notBefore, `Uhr / clock ${new Date().toISOString()}`, "Systemzeit stellen (NTP) / set the system time (NTP)");
  } else {
    add("certificate", true, "ohne eigenes Zertifikat (TLS am Proxy) / no certificate of its own (TLS at a proxy)");
  }

  const fs = statfsSync(dataDir);
  const free = fs.bavail * fs.bsize;
  add("disk", free > GiB, `${(free / GiB).toFixed(1)} GiB frei / free`, "Platz schaffen: mindestens 1 GiB / free at least 1 GiB");

  if (publicUrl) {
    const health = await checkHealth(publicUrl, pinned);
    add("server", health.ok, `${publicUrl}: ${health.detail}`, "läuft der Server? Port und Firewall prüfen / is the server running? check port and firewall");
  }
  return findings;
}

function checkHealth(url: string, fingerprint: string | undefined): Promise<{ ok: boolean; detail: string }> {
  return new Promise((resolve) => {
    const target = new URL("/api/v1/health", url);
    const https = target.protocol === "https:";
    const req = (https ? request : httpRequest)(target, { timeout: 5000, ...(https ? { rejectUnauthorized: false } : {}) }, (res) => {
      const socket = res.socket as { getPeerX509Certificate?: () => X509Certificate | undefined };
      const peer = https ? socket.getPeerX509Certificate?.() : undefined;
      if (https && fingerprint && peer && certificateFingerprint(peer.toString()) !== fingerprint) {
        resolve({ ok: false, detail: "antwortet mit einem fremden Zertifikat / answers with another certificate" });
        res.resume();
        return;
      }
      res.resume();
      resolve({ ok: res.statusCode === 200, detail: `erreichbar / reachable (HTTP ${res.statusCode})` });
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", (error) => resolve({ ok: false, detail: `nicht erreichbar / not reachable (${error.message})` }));
    req.end();
  });
}
