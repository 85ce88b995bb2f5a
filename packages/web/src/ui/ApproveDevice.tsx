// Approving a new device of this person from the web app (the phone approves the desktop
// browser): the code the new device shows, typed or scanned; then the new device is invited,
// added to every conversation and sent the history, all end-to-end encrypted.
import { useState } from "preact/hooks";
import { approveLinkWith, type ApproveStep } from "@momedo/client/browser";
import { parseLinkCode } from "@momedo/core";
import { fromBase64 } from "@momedo/protocol";
import type { WebClient } from "../client.js";
import type { Translate } from "../i18n/language.js";
import { QrScanner } from "./QrScanner.js";

const STEP_TEXT = { invited: "approve.invited", adding: "approve.adding", history: "approve.history" } as const;

async function linkKey(link: string): Promise<Uint8Array> {
  const response = await fetch(`${location.origin}/api/v1/links/${link}`);
  if (!response.ok) throw new Error(response.status === 404 ? "404" : `HTTP ${response.status}`);
  return fromBase64(((await response.json()) as { publicKey: string }).publicKey);
}

export function ApproveDevice(props: { client: WebClient; t: Translate; onApproved: () => void }) {
  const { client, t } = props;
  const [code, setCode] = useState("");
  const [scanning, setScanning] = useState(false);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState("");
  const [problem, setProblem] = useState("");

  const approve = async (text: string) => {
    setProblem("");
    try {
      parseLinkCode(text);
    } catch {
      return setProblem(t("approve.notACode"));
    }
    setBusy(true);
    setStatus(t("approve.checking"));
    try {
      const result = await approveLinkWith(client.messenger, linkKey, text, { onStep: (step: ApproveStep) => setStatus(t(STEP_TEXT[step])) });
      setStatus(t("approve.done", { device: result.device, groups: String(result.groups), history: String(result.history) }));
      setCode("");
      props.onApproved();
    } catch (error) {
      setStatus("");
      const message = error instanceof Error ? error.message : String(error);
      setProblem(message === "404" ? t("approve.unknown") : t("approve.failed", { error: message }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="approve-device" aria-labelledby="approve-title">
      <h3 id="approve-title">{t("approve.title")}</h3>
      <p id="approve-help">{t("approve.help")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void approve(code.trim());
        }}
      >
        <label for="approve-code">{t("approve.code")}</label>{" "}
        <input
          id="approve-code"
          type="text"
          autoComplete="off"
          spellcheck={false}
          value={code}
          disabled={busy}
          aria-describedby={problem ? "approve-help approve-problem" : "approve-help"}
          onInput={(e) => setCode(e.currentTarget.value)}
        />{" "}
        <button type="submit" class="button primary" disabled={busy || !code.trim()}>
          {t("approve.submit")}
        </button>{" "}
        <button type="button" class="button" disabled={busy} onClick={() => setScanning(true)}>
          {t("approve.scan")}
        </button>
      </form>
      {scanning ? (
        <QrScanner
          t={t}
          id="approve-scanner"
          level={3}
          title={t("approve.scanTitle")}
          onCode={(text) => {
            setScanning(false);
            setCode(text);
            void approve(text.trim());
          }}
          onClose={() => setScanning(false)}
        />
      ) : null}
      {status ? <p role="status">{status}</p> : null}
      {problem ? (
        <p class="problem" id="approve-problem" role="alert">
          {problem}
        </p>
      ) : null}
    </section>
  );
}
