// German, the default language: every string the app shows, by name.
export const de = {
  "app.title": "momedo",
  "app.tagline": "Der verschlüsselte Messenger deiner Organisation",
  "shell.placeholder": "Die Web-App entsteht gerade: Chats, Gruppen und Dateien folgen in Kürze.",
  "shell.checking": "Dieses Gerät wird geprüft …",
  "shell.notEnrolled": "Dieser Browser ist noch nicht eingerichtet. Öffne den Einladungslink deiner Organisation.",
  "shell.enrolled": "Angemeldet als {name} ({organization}).",
  "shell.storeFailed": "Der lokale Speicher ist nicht verfügbar: {error}",
  "language.label": "Sprache",
  "language.switch": "English",
} as const;

export type MessageKey = keyof typeof de;
