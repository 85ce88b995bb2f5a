#!/usr/bin/env node
// momedo-server: run the server and administer it.
import { Command } from "commander";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { isErrorCode, MomedoError, terminalQr } from "@momedo/protocol";
import { AdminAccount } from "./admin/account.js";
import { auditEntries } from "./admin/audit.js";
import {
  addBot,
  addUser,
  classMembers,
  handouts,
  importUsers,
  planGroup,
  listUsers,
  readUserCsv,
  reissueInvite,
  removeUser,
  revokeDevice,
  setPolicy,
} from "./admin/commands.js";
import { snapshot } from "./admin/stats.js";
import { getMeta } from "./storage/database.js";

import { backup, restore } from "./backup/backup.js";
import { ciphersuiteFromOption } from "./ciphersuite.js";
import { ConfigError, ensureConfigFile, readConfigFile, resolveSetting } from "./config/settings.js";
import { doctor } from "./doctor/doctor.js";
import { openDataDir } from "./dataDir.js";
import { DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_PORT, startServer } from "./server.js";

interface GlobalOptions {
  data?: string;
  json?: boolean;
}

const program = new Command("momedo-server")
  .description("momedo-Server: Ende-zu-Ende-verschlüsselter Messenger für Kommunen und Schulen / end-to-end encrypted messenger for towns and schools")
  .option("--data <dir>", "Datenverzeichnis / data directory (env MOMEDO_DATA)", process.env.MOMEDO_DATA ?? "./data")
  .option("--json", "eine JSON-Zeile je Ergebnis / one JSON object per line")
  .showHelpAfterError();

function globals(command: Command): Required<GlobalOptions> {
  const options = command.optsWithGlobals() as GlobalOptions;
  return { data: resolve(options.data ?? "./data"), json: options.json === true };
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

program
  .command("start")
  .description("Server starten (Einstellungen auch in DATEN/momedo.conf) / start the server (settings also in DATA/momedo.conf)")
  .option("--host <host>", "Adresse / listen address (MOMEDO_HOST; default 0.0.0.0)")
  .option("--port <port>", `Port (MOMEDO_PORT; default ${DEFAULT_PORT})`)
  .option("--database <url>", "Datenbank / database: sqlite (Standard/default)")
  .option("--no-tls", "ohne TLS, hinter einem Proxy / plain HTTP behind a TLS proxy (MOMEDO_TLS=false)")
  .option("--public-url <url>", "Adresse in Einladungen / address put into invites (MOMEDO_PUBLIC_URL)")
  .option("--max-message-bytes <n>", `größte Nachricht / largest message (MOMEDO_MAX_MESSAGE_BYTES; default ${DEFAULT_MAX_MESSAGE_BYTES})`)
  .option("--ciphersuite <name>", "MLS-Verfahren für neue Unterhaltungen / MLS ciphersuite for new conversations: x25519 (Standard/default), xwing (post-quantum hybrid) (MOMEDO_CIPHERSUITE)")
  .option("--mailbox-ttl-days <n>", "Tage bis ungelesene Nachrichten verfallen / days until unfetched messages expire (MOMEDO_MAILBOX_TTL_DAYS; default 30)")
  .option("--file-ttl-days <n>", "Tage bis Dateien gelöscht werden / days until files are deleted (MOMEDO_FILE_TTL_DAYS; default 30)")
  .option("--file-quota-user-mb <n>", "Dateispeicher je Person in MB / file storage per person in MB (MOMEDO_FILE_QUOTA_USER_MB; default 1024)")
  .option("--file-quota-server-mb <n>", "Dateispeicher insgesamt in MB / file storage in total in MB (MOMEDO_FILE_QUOTA_SERVER_MB; default 51200)")
  .option("--upload-resume-seconds <n>", "so lange ist ein abgebrochener Upload fortsetzbar / how long an interrupted upload can be resumed (MOMEDO_UPLOAD_RESUME_SECONDS; default 3600)")
  .option("--push-allow-insecure", "Push-Dienste auch über http://127.0.0.1, nur für Tests / push services also over http://127.0.0.1, tests only (MOMEDO_PUSH_ALLOW_INSECURE)")
  .action(async (flags: { host?: string; port?: string; database?: string; tls: boolean; publicUrl?: string; maxMessageBytes?: string; mailboxTtlDays?: string; ciphersuite?: string; fileTtlDays?: string; fileQuotaUserMb?: string; fileQuotaServerMb?: string; uploadResumeSeconds?: string; pushAllowInsecure?: boolean }, command: Command) => {
    const { data, json } = globals(command);
    if (flags.database && !/^sqlite:/.test(flags.database)) {
      throw new UsageError(
        `--database ${flags.database}: diese Version unterstützt nur die eingebaute SQLite-Datenbank / this version supports only the embedded SQLite database`,
      );
    }
    mkdirSync(data, { recursive: true });
    ensureConfigFile(data);
    const file = readConfigFile(data);
    const tlsFlag = command.getOptionValueSource("tls") === "cli" ? String(flags.tls) : undefined;
    const tlsValue = resolveSetting("tls", tlsFlag, file).toLowerCase();
    if (!["true", "false", "1", "0", "yes", "no"].includes(tlsValue)) throw new UsageError(`tls = ${tlsValue}: true oder / or false`);
    const pushInsecureValue = resolveSetting("push-allow-insecure", flags.pushAllowInsecure ? "true" : undefined, file).toLowerCase();
    if (!["true", "false", "1", "0", "yes", "no"].includes(pushInsecureValue)) throw new UsageError(`push-allow-insecure = ${pushInsecureValue}: true oder / or false`);
    const options = {
      host: resolveSetting("host", flags.host, file),
      port: resolveSetting("port", flags.port, file),
      tls: ["true", "1", "yes"].includes(tlsValue),
      publicUrl: resolveSetting("public-url", flags.publicUrl, file) || undefined,
      maxMessageBytes: resolveSetting("max-message-bytes", flags.maxMessageBytes, file),
      mailboxTtlDays: resolveSetting("mailbox-ttl-days", flags.mailboxTtlDays, file),
      ciphersuite: resolveSetting("ciphersuite", flags.ciphersuite, file) || undefined,
      fileTtlDays: resolveSetting("file-ttl-days", flags.fileTtlDays, file),
      fileQuotaUserMb: resolveSetting("file-quota-user-mb", flags.fileQuotaUserMb, file),
      fileQuotaServerMb: resolveSetting("file-quota-server-mb", flags.fileQuotaServerMb, file),
      uploadResumeSeconds: resolveSetting("upload-resume-seconds", flags.uploadResumeSeconds, file),
    };
    const port = parseInteger("--port", options.port, 0, 65535);
    const server = await startServer({
      dataDir: data,
      host: options.host,
      port,
      tls: options.tls,
      ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
      maxMessageBytes: parseInteger("--max-message-bytes", options.maxMessageBytes, 1024, 64 * 1024 * 1024),
      mailboxTtlDays: parseInteger("--mailbox-ttl-days", options.mailboxTtlDays, 1, 3650),
      fileTtlDays: parseInteger("--file-ttl-days", options.fileTtlDays, 1, 3650),
      fileQuotaUserMb: parseInteger("--file-quota-user-mb", options.fileQuotaUserMb, 1, 1024 * 1024 * 1024),
      fileQuotaServerMb: parseInteger("--file-quota-server-mb", options.fileQuotaServerMb, 1, 1024 * 1024 * 1024),
      uploadResumeSeconds: parseInteger("--upload-resume-seconds", options.uploadResumeSeconds, 1, 30 * 86400),
      pushAllowInsecure: ["true", "1", "yes"].includes(pushInsecureValue),
      ...(options.ciphersuite ? { ciphersuite: ciphersuiteFromOption(options.ciphersuite) } : {}),
    });
    print(
      json,
      { url: server.url, listening: server.listening, fingerprint: server.fingerprint ?? null, data, setupUrl: server.setupUrl ?? null },
      [
        ...(server.setupUrl
          ? [
              "Erste Einrichtung – diesen Link im Browser öffnen / first set-up – open this link in a browser:",
              `  ${server.setupUrl}`,
              "",
            ]
          : []),
        `momedo läuft / is running: ${server.url}`,
        ...server.listening.filter((u) => u !== server.url).map((u) => `  auch / also: ${u}`),
        server.fingerprint ? `Zertifikat / certificate SHA-256: ${server.fingerprint}` : "ohne TLS / without TLS",
        `Daten / data: ${data}`,
        `Web-App / web app: ${server.url}/   Verwaltung / admin console: ${server.url}/admin/`,
        `Person hinzufügen / add a person: momedo-server admin add-user --name "Vorname Nachname" --data ${data}`,
      ].join("\n"),
    );
    const stop = () => {
      server.close().then(() => process.exit(0));
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

program
  .command("backup <file>")
  .description("Sicherung in eine Datei, auch während der Server läuft / back up into one file, also while the server runs")
  .action(async (file: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    let shown = -1;
    const result = await backup(data, resolve(file), (remaining, total) => {
      const percent = total === 0 ? 100 : Math.floor(((total - remaining) / total) * 100);
      if (percent >= shown + 10 || remaining === 0) {
        shown = percent;
        if (json) console.log(JSON.stringify({ progress: percent }));
        else process.stderr.write(`\rSicherung / backup: ${percent} %`);
      }
    });
    if (!json) process.stderr.write("\n");
    print(json, result, `Gesichert / backed up: ${result.file} (${result.bytes} Bytes, ${result.people} Personen / people, ${result.mailbox} wartende Nachrichten / waiting messages)`);
  });

program
  .command("restore <file>")
  .description("Sicherung in ein leeres Datenverzeichnis zurückspielen (Server gestoppt) / restore a backup into an empty data directory (server stopped)")
  .action((file: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const result = restore(resolve(file), data);
    print(json, result, `Wiederhergestellt / restored into ${result.dataDir}: ${result.people} Personen / people, ${result.mailbox} wartende Nachrichten / waiting messages`);
  });

program
  .command("doctor")
  .description("Einrichtung prüfen und sagen, was zu tun ist / check the setup and say what to fix")
  .action(async (_options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const findings = await doctor(data);
    for (const f of findings) {
      print(json, f, `${f.ok ? "ok    " : "PRÜFEN"}  ${f.check}: ${f.detail}${f.fix ? `\n        → ${f.fix}` : ""}`);
    }
    const problems = findings.filter((f) => !f.ok).length;
    print(json, { ok: problems === 0, problems }, problems === 0 ? "Alles in Ordnung / all good" : `${problems} Punkt(e) zu prüfen / to check`);
    if (problems > 0) process.exitCode = 1;
  });

const admin = program.command("admin").description("Verwaltung / administration");

const personText = (user: { id: string; name: string; class: string; invite: string }) =>
  `${user.name}${user.class ? ` (${user.class})` : ""}: ${user.id}\n${user.invite}\n\n${terminalQr(user.invite)}`;

admin
  .command("add-user")
  .description("Person hinzufügen, mit Einladung / add a person and print their invite")
  .requiredOption("--name <name>", "Anzeigename / display name")
  .option("--role <role>", "Rolle / role: pupil (Schüler), staff (Lehrkraft), member", "member")
  .option("--class <class>", "Klasse oder Gruppe / class or group, e.g. 7b", "")
  .option("--invite-days <n>", "Gültigkeit der Einladung in Tagen / invite validity in days", "14")
  .action((options: { name: string; role: string; class: string; inviteDays: string }, command: Command) => {
    const { data, json } = globals(command);
    const days = parseInteger("--invite-days", options.inviteDays, 1, 365);
    const user = addUser(openDataDir(data), { name: options.name, role: options.role, class: options.class }, "cli", days);
    print(json, user, personText(user));
  });

admin
  .command("add-bot")
  .description("Bot anlegen (Programm der Verwaltung), mit Einladung / add a bot (the town's software) and print its invite")
  .requiredOption("--name <name>", "Name, den alle sehen / name everyone sees")
  .action((options: { name: string }, command: Command) => {
    const { data, json } = globals(command);
    const bot = addBot(openDataDir(data), options.name, "cli");
    print(json, bot, `Bot ${bot.name}: ${bot.id}\n${bot.invite}`);
  });

admin
  .command("invite <id>")
  .description("neue Einladung für eine Person (weiteres Gerät) / new invite for a person (another device)")
  .option("--void-older", "ältere unbenutzte Einladungen ungültig machen (verlorener Zettel) / make older unused invites invalid (lost sheet)")
  .action((id: string, options: { voidOlder?: boolean }, command: Command) => {
    const { data, json } = globals(command);
    const user = reissueInvite(openDataDir(data), id.toUpperCase(), "cli", options.voidOlder === true);
    print(json, user, personText(user));
  });

admin
  .command("list-users")
  .description("Personen auflisten / list people")
  .option("--class <class>", "nur diese Klasse / only this class")
  .action((options: { class?: string }, command: Command) => {
    const { data, json } = globals(command);
    const people = listUsers(openDataDir(data)).filter((p) => options.class === undefined || p.class === options.class);
    if (json) {
      for (const p of people) console.log(JSON.stringify(p));
      console.log(JSON.stringify({ count: people.length }));
      return;
    }
    for (const p of people) {
      const active = p.devices.filter((d) => !d.revoked).length;
      console.log(`${p.id}  ${p.name}  (${p.role}${p.class ? `, ${p.class}` : ""}, ${active} Gerät(e) / device(s))`);
    }
    console.log(`${people.length} Person(en) / people`);
  });

admin
  .command("remove-user <id>")
  .description("Person entfernen, Geräte sperren / remove a person and revoke their devices")
  .action((id: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const result = removeUser(openDataDir(data), id.toUpperCase(), "cli");
    print(json, result, `${result.id} entfernt / removed`);
  });

admin
  .command("revoke-device <id> <device>")
  .description("ein Gerät sperren (verloren, gestohlen) / revoke one device (lost, stolen)")
  .action((id: string, device: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const result = revokeDevice(openDataDir(data), id.toUpperCase(), device.toUpperCase(), "cli");
    print(json, result, `${result.id}/${result.device} gesperrt / revoked`);
  });

admin
  .command("import-users <csv>")
  .description("Klassenliste importieren (Spalten name, class, role) / import a class list (columns name, class, role)")
  .option("--skip-invalid", "fehlerhafte Zeilen auslassen statt alles abzulehnen / skip bad rows instead of refusing the list")
  .action((csv: string, options: { skipInvalid?: boolean }, command: Command) => {
    const { data, json } = globals(command);
    const rows = readUserCsv(csv);
    const bad = rows.filter((r) => r.error);
    for (const r of bad) print(json, { line: r.line, error: r.error }, `Zeile / line ${r.line}: ${r.error}`);
    if (bad.length > 0 && !options.skipInvalid) {
      throw new UsageError(`${bad.length} fehlerhafte Zeile(n), nichts importiert (--skip-invalid lässt sie aus) / ${bad.length} bad row(s), nothing imported (--skip-invalid skips them)`);
    }
    const users = importUsers(openDataDir(data), rows.filter((r) => !r.error), "cli");
    for (const u of users) print(json, u, `${u.id}  ${u.name}${u.class ? ` (${u.class})` : ""}\n${u.invite}`);
    print(json, { imported: users.length, skipped: bad.length }, `${users.length} Person(en) importiert / people imported`);
  });

admin
  .command("handouts")
  .description("Einladungs-PDF, eine Seite je Person, mit QR-Code / invite handout PDF, a page per person with QR code")
  .requiredOption("--out <file>", "PDF-Datei / PDF file")
  .option("--class <class>", "alle Personen dieser Klasse / everyone in this class")
  .option("--ids <ids>", "diese Personen, mit Komma getrennt / these people, comma-separated")
  .action((options: { out: string; class?: string; ids?: string }, command: Command) => {
    const { data, json } = globals(command);
    const dir = openDataDir(data);
    const users =
      options.class !== undefined
        ? classMembers(dir, options.class)
        : (options.ids ?? "").split(",").map((id) => id.trim().toUpperCase()).filter(Boolean);
    if (users.length === 0) throw new UsageError("--class oder / or --ids: niemand gefunden / nobody found");
    const { pdf, people } = handouts(dir, users, "cli");
    writeFileSync(resolve(options.out), pdf);
    print(json, { file: resolve(options.out), pages: people, bytes: pdf.length }, `${resolve(options.out)}: ${people} Seite(n) / page(s); ältere unbenutzte Einladungen dieser Personen gelten nicht mehr / their older unused invites no longer work`);
  });

admin
  .command("create-group")
  .description("Gruppe oder Kanal anlegen; das Gerät des Besitzers richtet sie ein / plan a group or channel; the owner's device sets it up")
  .requiredOption("--name <name>", "Name der Gruppe / group name")
  .requiredOption("--owner <id>", "Besitzer, z. B. die Klassenleitung / owner, e.g. the class teacher")
  .option("--kind <kind>", "group oder / or channel (nur Besitzer und Admins schreiben / only owners and admins post)", "group")
  .option("--class <class>", "alle Personen dieser Klasse / everyone in this class")
  .option("--members <ids>", "weitere Personen, mit Komma getrennt / more people, comma-separated")
  .action((options: { name: string; owner: string; kind: string; class?: string; members?: string }, command: Command) => {
    const { data, json } = globals(command);
    const plan = planGroup(
      openDataDir(data),
      {
        name: options.name,
        kind: options.kind,
        owner: options.owner,
        ...(options.class ? { class: options.class } : {}),
        members: (options.members ?? "").split(",").map((m) => m.trim()).filter(Boolean),
      },
      "cli",
    );
    print(json, plan, `${plan.group}: ${plan.name} (${plan.kind}), ${plan.members.length} Mitglieder / members; wird beim nächsten Start des Geräts von ${plan.owner} eingerichtet / set up when ${plan.owner}'s device next connects`);
  });

admin
  .command("policy [policy]")
  .description("Verzeichnisregel zeigen oder setzen / show or set the directory policy: open (alle sehen alle / everyone sees everyone), school (Schüler sehen ihre Klasse und Lehrkräfte / pupils see their class and staff)")
  .action((policy: string | undefined, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const dir = openDataDir(data);
    const result = policy === undefined ? { policy: dir.directory.policy() } : setPolicy(dir, policy, "cli");
    print(json, result, `Verzeichnisregel / directory policy: ${result.policy}`);
  });

admin
  .command("setup-link")
  .description("neuer Einrichtungslink, z. B. bei vergessenem Passwort / new set-up link, e.g. for a forgotten password")
  .action((_options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const dir = openDataDir(data);
    const code = new AdminAccount(dir.db).newSetupCode();
    const url = `${getMeta(dir.db, "public_url") ?? "https://127.0.0.1:4710"}/admin/#setup=${code}`;
    print(json, { setupUrl: url }, `Im Browser öffnen / open in a browser:\n  ${url}`);
  });

admin
  .command("audit")
  .description("Protokoll der Verwaltungsaktionen / log of admin actions")
  .option("--limit <n>", "Anzahl / how many", "50")
  .action((options: { limit: string }, command: Command) => {
    const { data, json } = globals(command);
    const entries = auditEntries(openDataDir(data).db, parseInteger("--limit", options.limit, 1, 10_000));
    for (const e of entries.reverse()) print(json, e, `${new Date(e.at).toISOString()}  ${e.actor.padEnd(7)}  ${e.action}  ${e.detail}`);
  });

admin
  .command("stats")
  .description("Zahlen zum Server / server figures")
  .action((_options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const dir = openDataDir(data);
    const s = snapshot(dir.db, data, 0);
    const today = s.hours.slice(-24).reduce((sum, h) => sum + h.messages, 0);
    print(
      json,
      { ...s, connected: null },
      [
        `Personen / people: ${s.people}`,
        `Geräte / devices: ${s.devices}`,
        `wartende Nachrichten / waiting messages: ${s.backlog}`,
        `Nachrichten in 24 h / messages in 24 h: ${today}`,
        `Speicher / storage: ${(s.storageBytes / 1024 / 1024).toFixed(1)} MiB`,
      ].join("\n"),
    );
  });

class UsageError extends Error {}

function parseInteger(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} ${value}: erwartet eine ganze Zahl von ${min} bis ${max} / expected a whole number from ${min} to ${max}`);
  }
  return n;
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const json = process.argv.includes("--json");
  let code = "error";
  let message = String(error);
  if (error instanceof MomedoError && isErrorCode(error.code)) {
    code = error.code;
    message = error.message;
  } else if (error instanceof UsageError || error instanceof RangeError || error instanceof ConfigError) {
    code = "usage";
    message = error.message;
  } else if (error instanceof Error && "code" in error && error.code === "EADDRINUSE") {
    code = "port_in_use";
    message = "Der Port ist schon belegt (läuft der Server bereits?) / The port is already in use (is the server already running?)";
  } else if (error instanceof Error) {
    message = error.message;
  }
  if (json) console.log(JSON.stringify({ error: { code, message } }));
  else console.error(`Fehler / error: ${message}`);
  process.exit(1);
});
