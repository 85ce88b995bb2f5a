#!/usr/bin/env node
// momedo-server: run the server and administer it.
import { Command } from "commander";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { isErrorCode, MomedoError, terminalQr } from "@momedo/protocol";
import { addUser, importUsers, listUsers, readUserCsv, reissueInvite, removeUser } from "./admin/commands.js";

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
  .action(async (flags: { host?: string; port?: string; database?: string; tls: boolean; publicUrl?: string; maxMessageBytes?: string; mailboxTtlDays?: string; ciphersuite?: string; fileTtlDays?: string; fileQuotaUserMb?: string; fileQuotaServerMb?: string; uploadResumeSeconds?: string }, command: Command) => {
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
      ...(options.ciphersuite ? { ciphersuite: ciphersuiteFromOption(options.ciphersuite) } : {}),
    });
    print(
      json,
      { url: server.url, listening: server.listening, fingerprint: server.fingerprint ?? null, data },
      [
        `momedo läuft / is running: ${server.url}`,
        ...server.listening.filter((u) => u !== server.url).map((u) => `  auch / also: ${u}`),
        server.fingerprint ? `Zertifikat / certificate SHA-256: ${server.fingerprint}` : "ohne TLS / without TLS",
        `Daten / data: ${data}`,
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

admin
  .command("add-user")
  .description("Person hinzufügen, mit Einladung / add a person and print their invite")
  .requiredOption("--name <name>", "Anzeigename / display name")
  .option("--role <role>", "Rolle / role", "member")
  .option("--invite-days <n>", "Gültigkeit der Einladung in Tagen / invite validity in days", "14")
  .action((options: { name: string; role: string; inviteDays: string }, command: Command) => {
    const { data, json } = globals(command);
    const user = addUser(openDataDir(data), options.name, options.role, parseInteger("--invite-days", options.inviteDays, 1, 365));
    print(json, { id: user.id, invite: user.invite }, `${user.name}: ${user.id}\n${user.invite}\n\n${terminalQr(user.invite)}`);
  });

admin
  .command("invite <id>")
  .description("neue Einladung für eine Person / new invite for a person")
  .action((id: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const user = reissueInvite(openDataDir(data), id.toUpperCase());
    print(json, { id: user.id, invite: user.invite }, `${user.name}: ${user.id}\n${user.invite}\n\n${terminalQr(user.invite)}`);
  });

admin
  .command("list-users")
  .description("Personen auflisten / list people")
  .action((_options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const people = listUsers(openDataDir(data));
    if (json) {
      for (const p of people) console.log(JSON.stringify(p));
      console.log(JSON.stringify({ count: people.length }));
      return;
    }
    for (const p of people) {
      const active = p.devices.filter((d) => !d.revoked).length;
      console.log(`${p.id}  ${p.name}  (${p.role}, ${active} Gerät(e) / device(s))`);
    }
    console.log(`${people.length} Person(en) / people`);
  });

admin
  .command("remove-user <id>")
  .description("Person entfernen, Geräte sperren / remove a person and revoke their devices")
  .action((id: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const result = removeUser(openDataDir(data), id.toUpperCase());
    print(json, result, `${result.id} entfernt / removed`);
  });

admin
  .command("import-users <csv>")
  .description("Klassenliste importieren (Spalten name, role) / import a class list (columns name, role)")
  .action((csv: string, _options: unknown, command: Command) => {
    const { data, json } = globals(command);
    const users = importUsers(openDataDir(data), readUserCsv(csv));
    for (const u of users) print(json, u, `${u.id}  ${u.name}\n${u.invite}`);
    print(json, { imported: users.length }, `${users.length} Person(en) importiert / people imported`);
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
