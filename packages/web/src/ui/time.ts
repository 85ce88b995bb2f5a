// Times and days as the person's language writes them.
import type { Language, Translate } from "../i18n/language.js";

const locale = (language: Language) => (language === "de" ? "de-DE" : "en-GB");

export function clock(at: number, language: Language): string {
  return new Date(at).toLocaleTimeString(locale(language), { hour: "2-digit", minute: "2-digit" });
}

export function dayKey(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** "Heute", "Gestern", or the date with its weekday. */
export function dayLabel(at: number, language: Language, t: Translate): string {
  const today = new Date();
  if (dayKey(at) === dayKey(today.getTime())) return t("chat.today");
  if (dayKey(at) === dayKey(today.getTime() - 86_400_000)) return t("chat.yesterday");
  return new Date(at).toLocaleDateString(locale(language), { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

/** For the chats list: the time today, else the short date. */
export function shortWhen(at: number, language: Language): string {
  if (dayKey(at) === dayKey(Date.now())) return clock(at, language);
  return new Date(at).toLocaleDateString(locale(language), { day: "numeric", month: "short" });
}
