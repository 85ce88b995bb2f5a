// Verification of a person in a 1:1 chat: whether the organisation vouches for every device key
// of theirs (org-signed credentials, which the engine already requires to let a leaf in), whether
// this person confirmed them personally (QR code or safety number), and a plain warning when a
// confirmed person's keys changed. Opened from the chat's head.
import { parseVerifyCode } from "@momedo/core";
import { useEffect, useRef, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { MessageKey } from "../i18n/de.js";
import type { Translate } from "../i18n/language.js";
import { Qr } from "../verify/Qr.js";
import { codeMatches, loadVerification, markVerified, type Verification as State } from "../verify/verification.js";
import { QrScanner } from "./QrScanner.js";

/** Why a typed or scanned code does not confirm `peer`: someone else's code, no code at all, or other keys. */
function mismatch(text: string, peer: string): MessageKey {
  const code = parseVerifyCode(text);
  if (code) return code.user === peer ? "verify.mismatch" : "verify.otherPerson";
  return /^[\d\s]+$/.test(text.trim()) ? "verify.mismatch" : "verify.notACode";
}

export function VerifyBadge(props: { client: WebClient; peer: string; name: string; t: Translate; version: number }) {
  const { client, peer, name, t } = props;
  const [state, setState] = useState<State | undefined>(undefined);
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  const reload = () => void loadVerification(client, peer).then(setState, () => setState(undefined));
  useEffect(reload, [peer, props.version]);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  if (!state?.theirs) return null;
  const label = state.status === "verified" ? t("verify.badgeVerified") : state.status === "changed" ? t("verify.badgeChanged") : t("verify.badgeUnverified");
  return (
    <>
      <button
        type="button"
        class={`button verify-badge ${state.status}`}
        data-status={state.status}
        aria-haspopup="dialog"
        onClick={() => setOpen(true)}
      >
        {state.status === "changed" ? <span aria-hidden="true">⚠ </span> : state.status === "verified" ? <span aria-hidden="true">✓ </span> : null}
        {label}
      </button>
      <dialog ref={dialog} class="verify-dialog" aria-labelledby="verify-title" onClose={() => setOpen(false)}>
        {open ? <VerificationPanel client={client} state={state} name={name} t={t} onChanged={reload} onClose={() => setOpen(false)} /> : null}
      </dialog>
    </>
  );
}

export function VerificationPanel(props: { client: WebClient; state: State; name: string; t: Translate; onChanged: () => void; onClose: () => void }) {
  const { client, state, name, t } = props;
  const [code, setCode] = useState("");
  const [problem, setProblem] = useState("");
  const [scanning, setScanning] = useState(false);
  const [scanned, setScanned] = useState(false);
  const scanButton = useRef<HTMLButtonElement>(null);
  const theirs = state.theirs!;
  /** The one path for a typed and a scanned code: a match marks the person verified, anything else changes nothing. */
  const check = async (text: string): Promise<boolean> => {
    setScanned(false);
    if (!codeMatches(state, text)) {
      setProblem(t(mismatch(text, state.peer), { name }));
      return false;
    }
    setProblem("");
    await markVerified(client.store, state);
    props.onChanged();
    return true;
  };
  const confirm = async (event: Event) => {
    event.preventDefault();
    if (await check(code)) setCode("");
  };
  const closeScanner = () => {
    setScanning(false);
    scanButton.current?.focus();
  };
  const scan = async (text: string) => {
    closeScanner();
    setScanned(await check(text));
  };
  return (
    <section class="verify-panel" aria-labelledby="verify-title">
      <h2 id="verify-title">{t("verify.title", { name })}</h2>
      {state.status === "changed" ? (
        <p class="banner problem verify-changed" role="alert">
          {t("verify.changed", { name })}
        </p>
      ) : null}
      <ul class="verify-facts">
        <li class="verify-org" data-vouched={String(theirs.vouched)}>
          {theirs.vouched ? t("verify.orgVouched") : t("verify.orgNotVouched")}
        </li>
        <li class="verify-personal" data-status={state.status}>
          {state.status === "verified" ? t("verify.byYou") : state.status === "changed" ? t("verify.byYouChanged") : t("verify.notByYou")}
        </li>
        <li>{t("verify.devices", { count: String(theirs.devices.length) })}</li>
      </ul>
      <h3>{t("verify.numberTitle")}</h3>
      <p>{t("verify.numberHelp", { name })}</p>
      <p class="safety-number" aria-label={t("verify.numberLabel")}>
        {state.number}
      </p>
      {state.ownCode ? (
        <>
          <h3>{t("verify.qrTitle")}</h3>
          <p>{t("verify.qrHelp", { name })}</p>
          <Qr text={state.ownCode} label={t("verify.qrLabel")} />
          <p class="verify-own-code">
            <code>{state.ownCode}</code>
          </p>
        </>
      ) : null}
      <form onSubmit={(e) => void confirm(e)}>
        <label for="verify-code">{t("verify.codeLabel", { name })}</label>
        <input id="verify-code" type="text" autocomplete="off" spellcheck={false} value={code} onInput={(e) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="button">
          {t("verify.confirm")}
        </button>
      </form>
      <button
        ref={scanButton}
        type="button"
        class="button verify-scan"
        aria-expanded={scanning}
        aria-controls={scanning ? "verify-scanner" : undefined}
        onClick={() => {
          setProblem("");
          setScanned(false);
          setScanning(!scanning);
        }}
      >
        {t("verify.scan")}
      </button>
      {scanning ? (
        <QrScanner t={t} id="verify-scanner" level={3} title={t("verify.scanTitle", { name })} onCode={(text) => void scan(text)} onClose={closeScanner} />
      ) : null}
      {scanned ? (
        <p class="verify-scanned" role="status">
          {t("verify.scanned", { name })}
        </p>
      ) : null}
      {problem ? (
        <p class="banner problem" role="alert">
          {problem}
        </p>
      ) : null}
      <button type="button" class="button" onClick={props.onClose}>
        {t("verify.close")}
      </button>
    </section>
  );
}
