// The language the person chose (German unless they switched), kept in localStorage, and the
// lookup of a message in its catalogue with {placeholders} filled in.
import { de, type MessageKey } from "./de.js";
import { en } from "./en.js";

export type Language = "de" | "en";
export type Translate = (key: MessageKey, values?: Record<string, string>) => string;

const CATALOGUES: Record<Language, Record<MessageKey, string>> = { de, en };
const STORAGE_KEY = "momedo.language";

export function savedLanguage(): Language {
  try {
    return globalThis.localStorage?.getItem(STORAGE_KEY) === "en" ? "en" : "de";
  } catch {
    return "de";
  }
}

export function saveLanguage(language: Language): void {
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, language);
  } catch {
    // Private mode without storage: the choice lasts for this page only.
  }
}

export function translator(language: Language): Translate {
  const catalogue = CATALOGUES[language];
  return (key, values = {}) => catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
