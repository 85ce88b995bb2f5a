// The button that switches between German and English; its label is in the language it offers.
import type { Language, Translate } from "../i18n/language.js";

export function LanguageSwitch(props: { t: Translate; language: Language; onSwitch: () => void }) {
  const { t } = props;
  return (
    <button
      type="button"
      class="button language"
      onClick={props.onSwitch}
      aria-label={`${t("language.label")}: ${t("language.switch")}`}
      lang={props.language === "de" ? "en" : "de"}
    >
      {t("language.switch")}
    </button>
  );
}
