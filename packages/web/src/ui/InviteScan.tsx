// Onboarding by scanning the invite's QR code inside the app: a link of this server enrolls the
// browser exactly as opening it would; another server's invite or any other QR code is refused
// here, before anything is sent.
import { parseInvite } from "@momedo/protocol";
import { useRef, useState } from "preact/hooks";
import type { Translate } from "../i18n/language.js";
import { QrScanner } from "./QrScanner.js";

/** Why a scanned text is not an invite this browser can use, or undefined when it is. */
function inviteProblem(text: string, t: Translate): string | undefined {
  let url: string;
  try {
    url = parseInvite(text.trim()).url;
  } catch {
    return t("join.scanNotInvite");
  }
  return new URL(url).origin === location.origin ? undefined : t("join.scanOtherServer", { server: url });
}

export function InviteScan(props: { t: Translate; onInvite: (invite: string) => void }) {
  const { t } = props;
  const [scanning, setScanning] = useState(false);
  const [problem, setProblem] = useState("");
  const scanButton = useRef<HTMLButtonElement>(null);
  const close = () => {
    setScanning(false);
    scanButton.current?.focus();
  };
  const scanned = (text: string) => {
    close();
    const reason = inviteProblem(text, t);
    setProblem(reason ?? "");
    if (!reason) props.onInvite(text.trim());
  };
  return (
    <section class="invite-scan" aria-labelledby="invite-scan-title">
      <h2 id="invite-scan-title">{t("join.scanTitle")}</h2>
      <p>{t("join.scanHelp")}</p>
      {problem ? (
        <p class="entrance-status problem" role="alert">
          {problem}
        </p>
      ) : null}
      <button
        ref={scanButton}
        type="button"
        class="button primary invite-scan-start"
        aria-expanded={scanning}
        aria-controls={scanning ? "invite-scanner" : undefined}
        onClick={() => {
          setProblem("");
          setScanning(!scanning);
        }}
      >
        {t("join.scan")}
      </button>
      {scanning ? <QrScanner t={t} id="invite-scanner" level={3} title={t("join.scanCamera")} onCode={scanned} onClose={close} /> : null}
    </section>
  );
}
