// The app: opens this browser's device (or enrolls it from the invite link it was opened with),
// then shows the messenger; before that, says how to get an invite. No phone number, no e-mail,
// no password: the invite link is the only thing a person needs.
import { MomedoError } from "@momedo/protocol";
import { useEffect, useState } from "preact/hooks";
import { WebClient } from "../client.js";
import type { MessageKey } from "../i18n/de.js";
import { saveLanguage, savedLanguage, translator, type Language, type Translate } from "../i18n/language.js";
import { setNotificationLanguage } from "../pwa.js";
import { IdbStore } from "../store/idbStore.js";
import { InviteScan } from "./InviteScan.js";
import { LanguageSwitch } from "./LanguageSwitch.js";
import { LinkDevice } from "./LinkDevice.js";
import { Messenger } from "./Messenger.js";

type Phase =
  | { kind: "checking" }
  | { kind: "none" }
  | { kind: "joining" }
  | { kind: "joinFailed"; key: MessageKey; detail: string }
  | { kind: "storeFailed"; error: string }
  | { kind: "ready"; client: WebClient; store: IdbStore; welcome: boolean; alreadyEnrolled: boolean };

const isInvite = () => /\/join$/.test(location.pathname) && /(^#|&)c=/.test(location.hash);

/** The catalogue entry for why an enrollment failed (the server's code, else what went wrong). */
function joinError(error: unknown): { key: MessageKey; detail: string } {
  if (error instanceof MomedoError) {
    if (error.code === "invite_used") return { key: "join.used", detail: "" };
    if (error.code === "invite_expired") return { key: "join.expired", detail: "" };
    if (error.code === "invite_invalid" || error.code === "not_found") return { key: "join.invalid", detail: "" };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RangeError && message.includes("this invite belongs to")) return { key: "join.otherServer", detail: "" };
  if (message.includes("server not reachable")) return { key: "join.unreachable", detail: "" };
  return { key: "join.failed", detail: message };
}

export function App() {
  const [language, setLanguage] = useState<Language>(savedLanguage);
  const [phase, setPhase] = useState<Phase>({ kind: "checking" });
  const t = translator(language);

  useEffect(() => {
    document.documentElement.lang = language;
    document.title = t("app.title");
    void setNotificationLanguage(language).catch(() => undefined);
  }, [language]);

  const start = async () => {
    let store: IdbStore;
    try {
      store = await IdbStore.open();
    } catch (error) {
      setPhase({ kind: "storeFailed", error: error instanceof Error ? error.message : String(error) });
      return;
    }
    const existing = await WebClient.open(store);
    const invited = isInvite();
    // The invite's code must not linger in the address bar or the history.
    if (invited && existing) history.replaceState(null, "", "/");
    if (existing) {
      setPhase({ kind: "ready", client: existing, store, welcome: false, alreadyEnrolled: invited });
      void existing.connect().catch(() => undefined);
      return;
    }
    if (!invited) return setPhase({ kind: "none" });
    await join(location.href, store);
  };

  /** Enrolls with an invite link: the one this page was opened with, or one scanned in the app. */
  const join = async (invite: string, opened?: IdbStore) => {
    setPhase({ kind: "joining" });
    try {
      const store = opened ?? (await IdbStore.open());
      const client = await WebClient.enroll(store, invite);
      history.replaceState(null, "", "/");
      setPhase({ kind: "ready", client, store, welcome: true, alreadyEnrolled: false });
    } catch (error) {
      setPhase({ kind: "joinFailed", ...joinError(error) });
    }
  };

  useEffect(() => {
    void start();
  }, []);

  const switchLanguage = () => {
    const next = language === "de" ? "en" : "de";
    saveLanguage(next);
    setLanguage(next);
  };

  if (phase.kind === "ready") {
    return (
      <Messenger
        client={phase.client}
        store={phase.store}
        t={t}
        language={language}
        welcome={phase.welcome}
        alreadyEnrolled={phase.alreadyEnrolled}
        onSwitchLanguage={switchLanguage}
      />
    );
  }
  const linked = (client: WebClient, store: IdbStore) => setPhase({ kind: "ready", client, store, welcome: true, alreadyEnrolled: false });
  return (
    <Entrance
      phase={phase}
      t={t}
      language={language}
      onSwitchLanguage={switchLanguage}
      onRetry={() => void start()}
      onInvite={(invite) => void join(invite)}
      onLinked={linked}
    />
  );
}

function Entrance(props: {
  phase: Exclude<Phase, { kind: "ready" }>;
  t: Translate;
  language: Language;
  onSwitchLanguage: () => void;
  onRetry: () => void;
  onInvite: (invite: string) => void;
  onLinked: (client: WebClient, store: IdbStore) => void;
}) {
  const { phase, t } = props;
  const status =
    phase.kind === "checking"
      ? t("shell.checking")
      : phase.kind === "joining"
        ? t("join.working")
        : phase.kind === "storeFailed"
          ? t("shell.storeFailed", { error: phase.error })
          : phase.kind === "joinFailed"
            ? `${t(phase.key, { error: phase.detail })} ${t("shell.notEnrolled")}`
            : t("shell.notEnrolled");
  return (
    <main class="entrance" id="main">
      <header class="entrance-header">
        <h1>{t("app.title")}</h1>
        <LanguageSwitch t={t} language={props.language} onSwitch={props.onSwitchLanguage} />
      </header>
      <p class="tagline">{t("app.tagline")}</p>
      <p role="status" class={phase.kind === "joinFailed" || phase.kind === "storeFailed" ? "entrance-status problem" : "entrance-status"}>
        {status}
      </p>
      {phase.kind === "none" || phase.kind === "joinFailed" ? <p>{t("shell.howToJoin")}</p> : null}
      {phase.kind === "joinFailed" && (phase.key === "join.unreachable" || phase.key === "join.failed") ? (
        <button type="button" class="button primary" onClick={props.onRetry}>
          {t("join.retry")}
        </button>
      ) : null}
      {phase.kind === "none" || phase.kind === "joinFailed" ? <InviteScan t={t} onInvite={props.onInvite} /> : null}
      {phase.kind === "none" ? <LinkDevice t={t} onLinked={props.onLinked} /> : null}
    </main>
  );
}
