// Every error a person may see has a stable code and a sentence in German and English.
export const ERRORS = {
  bad_frame: ["Die Nachricht an den Server war fehlerhaft.", "The message to the server was malformed."],
  frame_too_large: ["Die Nachricht ist zu groß.", "The message is too large."],
  unknown_type: ["Unbekannter Nachrichtentyp.", "Unknown message type."],
  not_authenticated: ["Bitte zuerst anmelden (Gerät nicht authentifiziert).", "Please sign in first (device not authenticated)."],
  auth_failed: ["Anmeldung fehlgeschlagen: Gerät unbekannt, entfernt oder Signatur ungültig.", "Sign-in failed: device unknown, removed, or signature invalid."],
  invite_invalid: ["Diese Einladung ist ungültig.", "This invite is not valid."],
  invite_used: ["Diese Einladung wurde bereits verwendet.", "This invite has already been used."],
  invite_expired: ["Diese Einladung ist abgelaufen. Bitte eine neue anfordern.", "This invite has expired. Please ask for a new one."],
  unknown_user: ["Diese Person gibt es auf dem Server nicht.", "No such person on this server."],
  no_key_packages: ["Für diese Person sind keine Schlüssel hinterlegt (kein Gerät angemeldet).", "No keys are available for this person (no device enrolled)."],
  not_member: ["Dieses Gerät ist nicht Mitglied der Unterhaltung.", "This device is not a member of the conversation."],
  epoch_conflict: ["Die Unterhaltung wurde inzwischen geändert; bitte erneut versuchen.", "The conversation changed meanwhile; please retry."],
  stale_epoch: ["Die Unterhaltung ist weiter; erst die neuesten Änderungen abholen.", "The conversation has moved on; fetch the latest changes first."],
  policy_denied: ["Das ist in dieser Unterhaltung nicht erlaubt.", "This is not allowed in this conversation."],
  unknown_device: ["Ein genanntes Gerät ist nicht angemeldet.", "A named device is not enrolled."],
  key_package_invalid: ["Ein Schlüsselpaket ist ungültig.", "A key package is not valid."],
  quota_exceeded: ["Zu viele Schlüsselpakete hochgeladen.", "Too many key packages uploaded."],
  link_invalid: ["Dieser Verknüpfungscode ist ungültig oder abgelaufen.", "This link code is not valid or has expired."],
  unknown_group: ["Diese Unterhaltung gibt es nicht.", "No such conversation."],
  rate_limited: ["Zu viele Anfragen; bitte kurz warten.", "Too many requests; please wait a moment."],
  not_allowed: [
    "Die Regeln dieses Servers erlauben keinen Kontakt zu dieser Person.",
    "This server's rules do not allow contact with this person.",
  ],
  admin_auth: ["Bitte als Administrator anmelden.", "Please sign in as administrator."],
  admin_login_failed: ["Passwort oder Code ist falsch.", "Wrong password or code."],
  totp_required: ["Bitte den Code aus der Authenticator-App eingeben.", "Please enter the code from the authenticator app."],
  csrf_failed: [
    "Anfrage abgelehnt: Sie kam nicht aus der Verwaltungsseite. Bitte die Seite neu laden.",
    "Request refused: it did not come from the admin console. Please reload the page.",
  ],
  setup_invalid: [
    "Dieser Einrichtungslink ist ungültig oder wurde schon benutzt.",
    "This set-up link is not valid or has already been used.",
  ],
  password_too_short: ["Das Passwort braucht mindestens 10 Zeichen.", "The password needs at least 10 characters."],
  bad_request: ["Die Eingabe ist unvollständig oder fehlerhaft.", "The input is incomplete or invalid."],
  not_found: ["Nicht gefunden.", "Not found."],
  blob_not_found: ["Diese Datei liegt nicht (mehr) auf dem Server (abgelaufen oder schon abgeholt).", "This file is not (or no longer) on the server (expired or already fetched)."],
  blob_token_expired: ["Die Berechtigung für diese Datei ist abgelaufen; bitte erneut anfordern.", "The permission for this file has expired; please request it again."],
  blob_token_invalid: ["Keine gültige Berechtigung für diese Datei.", "No valid permission for this file."],
  blob_incomplete: ["Die Datei wurde nicht vollständig hochgeladen.", "The file was not uploaded completely."],
  blob_hash_mismatch: ["Die hochgeladene Datei stimmt nicht mit ihrer Prüfsumme überein und wurde verworfen.", "The uploaded file does not match its checksum and was discarded."],
  blob_quota_exceeded: ["Der Speicherplatz für Dateien ist aufgebraucht (Kontingent erreicht).", "The storage for files is used up (quota reached)."],
  blob_busy: ["Diese Datei wird gerade schon hochgeladen.", "This file is already being uploaded."],
  file_tampered: ["Die Datei wurde verändert oder ist beschädigt; sie wurde nicht gespeichert.", "The file was altered or is damaged; it was not saved."],
  internal: ["Interner Serverfehler.", "Internal server error."],
} as const satisfies Record<string, readonly [string, string]>;

export type ErrorCode = keyof typeof ERRORS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

export type Language = "de" | "en";

export function errorMessage(code: ErrorCode, language: Language = "de"): string {
  const [de, en] = ERRORS[code];
  return language === "de" ? de : en;
}

/** Both languages in one line, German first: what servers send and commands print. */
export function bilingualMessage(code: ErrorCode): string {
  return `${errorMessage(code, "de")} / ${errorMessage(code, "en")}`;
}

/** An error with a stable code; `message` carries both languages so logs and people read it. */
export class MomedoError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
  ) {
    super(`${bilingualMessage(code)}${detail ? ` (${detail})` : ""}`);
    this.name = "MomedoError";
  }
}
