// A placeholder shell: says what this is, whether this browser holds a momedo identity (opened
// through the engine over the sealed IndexedDB store), and switches the language.
import { Engine } from "@momedo/core";
import { useEffect, useState } from "preact/hooks";
import { saveLanguage, savedLanguage, translator, type Language } from "../i18n/language.js";
import { IdbStore } from "../store/idbStore.js";

type DeviceState = { kind: "checking" } | { kind: "none" } | { kind: "enrolled"; name: string; organization: string } | { kind: "failed"; error: string };

export function Shell() {
  const [language, setLanguage] = useState<Language>(savedLanguage);
  const [device, setDevice] = useState<DeviceState>({ kind: "checking" });
  const t = translator(language);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  useEffect(() => {
    IdbStore.open()
      .then((store) => Engine.open(store))
      .then((engine) =>
        setDevice(engine ? { kind: "enrolled", name: engine.identity.name, organization: engine.identity.organization } : { kind: "none" }),
      )
      .catch((error: unknown) => setDevice({ kind: "failed", error: error instanceof Error ? error.message : String(error) }));
  }, []);

  const switchLanguage = () => {
    const next = language === "de" ? "en" : "de";
    saveLanguage(next);
    setLanguage(next);
  };

  return (
    <main class="shell">
      <header class="shell-header">
        <h1>{t("app.title")}</h1>
        <button type="button" class="language" onClick={switchLanguage} aria-label={`${t("language.label")}: ${t("language.switch")}`} lang={language === "de" ? "en" : "de"}>
          {t("language.switch")}
        </button>
      </header>
      <p class="tagline">{t("app.tagline")}</p>
      <p>{t("shell.placeholder")}</p>
      <p role="status">
        {device.kind === "checking"
          ? t("shell.checking")
          : device.kind === "none"
            ? t("shell.notEnrolled")
            : device.kind === "enrolled"
              ? t("shell.enrolled", { name: device.name, organization: device.organization })
              : t("shell.storeFailed", { error: device.error })}
      </p>
    </main>
  );
}
