// Turning the app lock on (a PIN typed twice), choosing when it locks, locking now, and turning it
// off again (with the current PIN).
import { useState } from "preact/hooks";
import { AppLock, checkPin, LOCK_AFTER_CHOICES, type LockAfter } from "../lock/appLock.js";
import type { Translate } from "../i18n/language.js";

const AFTER_LABELS = { 0: "lock.after.0", 60000: "lock.after.60000", 900000: "lock.after.900000" } as const;

type Step = { kind: "idle" } | { kind: "setting" } | { kind: "removing" };

export function AppLockSettings(props: { t: Translate; lock: AppLock; onLockNow: () => void }) {
  const { t, lock } = props;
  const [step, setStep] = useState<Step>({ kind: "idle" });
  const [pin, setPin] = useState("");
  const [again, setAgain] = useState("");
  const [after, setAfter] = useState<LockAfter>(lock.lockAfter);
  const [problem, setProblem] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);

  const reset = (message = "") => {
    setStep({ kind: "idle" });
    setPin("");
    setAgain("");
    setProblem("");
    setNote(message);
  };

  const turnOn = async () => {
    try {
      checkPin(pin);
    } catch {
      return setProblem(t("lock.format"));
    }
    if (pin !== again) return setProblem(t("lock.mismatch"));
    setBusy(true);
    await lock.set(pin, after);
    setBusy(false);
    reset(t("lock.isOn"));
  };

  const turnOff = async () => {
    setBusy(true);
    const result = await lock.remove(pin);
    setBusy(false);
    if (result.ok) return reset(t("lock.isOff"));
    setPin("");
    setProblem(
      t("lock.wrong", { count: String(result.failures) }) + (result.waitMs > 0 ? ` ${t("lock.wait", { seconds: String(Math.ceil(result.waitMs / 1000)) })}` : ""),
    );
  };

  const digits = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement }) => set(e.currentTarget.value.replace(/\D/g, ""));
  const problemLine = problem ? (
    <p class="problem" id="lock-settings-problem" role="alert">
      {problem}
    </p>
  ) : null;
  const describedBy = problem ? "lock-settings-problem" : undefined;

  return (
    <div class="app-lock">
      <p id="app-lock-state">{t(lock.enabled ? "lock.on" : "lock.off")}</p>
      {step.kind === "setting" ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void turnOn();
          }}
        >
          <label for="lock-new">{t("lock.newPin")}</label>
          <input id="lock-new" type="password" inputMode="numeric" autoComplete="new-password" maxLength={8} value={pin} aria-describedby={describedBy} onInput={digits(setPin)} />
          <label for="lock-again">{t("lock.again")}</label>
          <input id="lock-again" type="password" inputMode="numeric" autoComplete="new-password" maxLength={8} value={again} aria-describedby={describedBy} onInput={digits(setAgain)} />
          <label for="lock-after">{t("lock.after")}</label>
          <select id="lock-after" value={String(after)} onChange={(e) => setAfter(Number(e.currentTarget.value) as LockAfter)}>
            {LOCK_AFTER_CHOICES.map((ms) => (
              <option key={ms} value={String(ms)}>
                {t(AFTER_LABELS[ms])}
              </option>
            ))}
          </select>
          {problemLine}
          <button type="submit" class="button primary" disabled={busy}>
            {t("lock.turnOn")}
          </button>{" "}
          <button type="button" class="button" onClick={() => reset()}>
            {t("lock.cancel")}
          </button>
        </form>
      ) : step.kind === "removing" ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void turnOff();
          }}
        >
          <label for="lock-current">{t("lock.currentPin")}</label>
          <input id="lock-current" type="password" inputMode="numeric" autoComplete="off" maxLength={8} value={pin} aria-describedby={describedBy} onInput={digits(setPin)} />
          {problemLine}
          <button type="submit" class="button primary" disabled={busy || !pin}>
            {t("lock.turnOff")}
          </button>{" "}
          <button type="button" class="button" onClick={() => reset()}>
            {t("lock.cancel")}
          </button>
        </form>
      ) : lock.enabled ? (
        <p class="app-lock-actions">
          <button type="button" class="button" aria-describedby="app-lock-state" onClick={props.onLockNow}>
            {t("lock.now")}
          </button>{" "}
          <button type="button" class="button" onClick={() => setStep({ kind: "removing" })}>
            {t("lock.remove")}
          </button>
        </p>
      ) : (
        <button type="button" class="button" aria-describedby="app-lock-state" onClick={() => setStep({ kind: "setting" })}>
          {t("lock.set")}
        </button>
      )}
      {note && step.kind === "idle" ? <p role="status">{note}</p> : null}
    </div>
  );
}
