// Server settings: one commented file in the data directory (momedo.conf), every setting also a
// flag and an environment variable. A flag wins over the environment, which wins over the file.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Setting {
  key: string;
  flag?: string;
  env: string;
  fallback: string;
  help: string;
}

export const SETTINGS: Setting[] = [
  { key: "host", env: "MOMEDO_HOST", fallback: "0.0.0.0", help: "Adresse, auf der der Server lauscht / listen address" },
  { key: "port", env: "MOMEDO_PORT", fallback: "4710", help: "Port" },
  { key: "tls", flag: "--no-tls", env: "MOMEDO_TLS", fallback: "true", help: "eigenes TLS-Zertifikat; false hinter einem TLS-Proxy / own TLS certificate; false behind a TLS proxy" },
  { key: "public-url", env: "MOMEDO_PUBLIC_URL", fallback: "", help: "Adresse in Einladungen (leer: automatisch) / address in invites (empty: automatic)" },
  { key: "max-message-bytes", env: "MOMEDO_MAX_MESSAGE_BYTES", fallback: "1048576", help: "größte Nachricht in Bytes / largest message in bytes" },
  { key: "mailbox-ttl-days", env: "MOMEDO_MAILBOX_TTL_DAYS", fallback: "30", help: "Tage, bis nicht abgeholte Nachrichten verfallen / days until unfetched messages expire" },
  { key: "file-ttl-days", env: "MOMEDO_FILE_TTL_DAYS", fallback: "30", help: "Tage, bis Dateien auf dem Server gelöscht werden (abgeholt oder nicht) / days until files are deleted from the server (fetched or not)" },
  { key: "file-quota-user-mb", env: "MOMEDO_FILE_QUOTA_USER_MB", fallback: "1024", help: "Speicher für Dateien je Person in MB / storage for files per person in MB" },
  { key: "file-quota-server-mb", env: "MOMEDO_FILE_QUOTA_SERVER_MB", fallback: "51200", help: "Speicher für Dateien insgesamt in MB / storage for files in total in MB" },
  { key: "upload-resume-seconds", env: "MOMEDO_UPLOAD_RESUME_SECONDS", fallback: "3600", help: "so lange kann ein abgebrochener Upload fortgesetzt werden / how long an interrupted upload can be resumed" },
  { key: "ciphersuite", env: "MOMEDO_CIPHERSUITE", fallback: "", help: "MLS-Verfahren für neue Unterhaltungen: x25519 oder xwing (leer: wie bisher) / ciphersuite for new conversations: x25519 or xwing (empty: unchanged)" },
  { key: "push-allow-insecure", env: "MOMEDO_PUSH_ALLOW_INSECURE", fallback: "false", help: "Push-Dienste auch über http://127.0.0.1 (nur für Tests) / push services also over http://127.0.0.1 (tests only)" },
];

export const CONFIG_FILE = "momedo.conf";

/** Writes the commented configuration file once, so an admin finds every setting in one place. */
export function ensureConfigFile(dataDir: string): string {
  const file = join(dataDir, CONFIG_FILE);
  if (!existsSync(file)) {
    const lines = [
      "# momedo-server – Einstellungen / settings",
      "# Zeilen: name = wert. Ein Schalter (--port) oder eine Umgebungsvariable (MOMEDO_PORT) geht vor.",
      "# Lines: name = value. A flag (--port) or an environment variable (MOMEDO_PORT) takes precedence.",
      "",
    ];
    for (const s of SETTINGS) lines.push(`# ${s.help} (${s.flag ?? `--${s.key}`}, ${s.env})`, `# ${s.key} = ${s.fallback}`, "");
    writeFileSync(file, lines.join("\n"));
  }
  return file;
}

export class ConfigError extends Error {}

export function readConfigFile(dataDir: string): Map<string, string> {
  const file = join(dataDir, CONFIG_FILE);
  const values = new Map<string, string>();
  if (!existsSync(file)) return values;
  readFileSync(file, "utf8")
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = raw.trim();
      if (!line || line.startsWith("#")) return;
      const match = /^([a-z-]+)\s*=\s*(.*)$/.exec(line);
      if (!match) throw new ConfigError(`${file}:${index + 1}: erwartet "name = wert" / expected "name = value"`);
      if (!SETTINGS.some((s) => s.key === match[1])) {
        throw new ConfigError(`${file}:${index + 1}: unbekannte Einstellung / unknown setting "${match[1]}"`);
      }
      values.set(match[1]!, match[2]!.trim());
    });
  return values;
}

/** The effective value: flag, then environment, then file, then the built-in default. */
export function resolveSetting(key: string, flag: string | undefined, file: Map<string, string>, env = process.env): string {
  const setting = SETTINGS.find((s) => s.key === key);
  if (!setting) throw new ConfigError(`unknown setting ${key}`);
  return flag ?? env[setting.env] ?? file.get(key) ?? setting.fallback;
}
