// English, the second language: the same names as the German catalogue, every one translated.
import type { MessageKey } from "./de.js";

export const en: Record<MessageKey, string> = {
  "app.title": "momedo",
  "app.tagline": "Your organisation's encrypted messenger",
  "shell.placeholder": "The web app is being built: chats, groups and files follow shortly.",
  "shell.checking": "Checking this device …",
  "shell.notEnrolled": "This browser is not set up yet. Open your organisation's invite link.",
  "shell.enrolled": "Signed in as {name} ({organization}).",
  "shell.storeFailed": "Local storage is not available: {error}",
  "language.label": "Language",
  "language.switch": "Deutsch",
};
