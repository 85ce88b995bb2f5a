// The app lock's screen: nothing of the messenger is in the page until the PIN is right. After
// five wrong PINs each try waits longer (kept in the store, so a reload does not help). Whoever
// forgot the PIN can reset this browser: its device data is deleted and it is linked again.
import { useEffect, useRef, useState } from "preact/hooks";
import type { AppLock } from "../lock/appLock.js";
import type { Translate } from "../i18n/language.js";

export function LockScreen(props: { t: Translate; lock: AppLock; onUnlocked: () => void; onReset: () => Promise<void> }) {
  const { t, lock } = props;
  const [pin, setPin] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const [wait, setWait] = useState(lock.waitMs());
  const [forgot, setForgot] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);
  // Counts down a wait; the field opens again when it is over.
  useEffect(() => {
    if (wait <= 0) return;
    const timer = setInterval(() => setWait(lock.waitMs()), 1000);
    return () => clearInterval(timer);
  }, [wait > 0]);

  const submit = async () => {
    if (!pin || busy) return;
    setBusy(true);
    const result = await lock.unlock(pin);
    setBusy(false);
    setPin("");
    if (result.ok) return props.onUnlocked();
    setWait(result.waitMs);
    setProblem(t("lock.wrong", { count: String(result.failures) }));
    input.current?.focus();
  };

  const seconds = Math.ceil(wait / 1000);
  return (
    <main class="lock-screen" id="main">
      <h1>{t("lock.title")}</h1>
      <p>{t("lock.help")}</p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label for="lock-pin">{t("lock.pin")}</label>
        <input
          ref={input}
          id="lock-pin"
          type="password"
          inputMode="numeric"
          autoComplete="off"
          maxLength={8}
          value={pin}
          disabled={wait > 0}
          aria-describedby={problem || wait > 0 ? "lock-problem" : undefined}
          onInput={(e) => setPin(e.currentTarget.value.replace(/\D/g, ""))}
        />{" "}
        <button type="submit" class="button primary" disabled={busy || wait > 0}>
          {busy ? t("lock.checking") : t("lock.unlock")}
        </button>
      </form>
      {problem || wait > 0 ? (
        <p class="problem" id="lock-problem" role="alert">
          {problem}
          {wait > 0 ? ` ${t("lock.wait", { seconds: String(seconds) })}` : ""}
        </p>
      ) : null}
      {forgot ? (
        <div class="lock-forgot" role="group" aria-labelledby="lock-forgot-title">
          <h2 id="lock-forgot-title">{t("lock.forgotTitle")}</h2>
          <p>{t("lock.forgotHelp")}</p>
          <button type="button" class="button danger" onClick={() => void props.onReset()}>
            {t("lock.reset")}
          </button>{" "}
          <button type="button" class="button" onClick={() => setForgot(false)}>
            {t("lock.cancel")}
          </button>
        </div>
      ) : (
        <button type="button" class="button link" onClick={() => setForgot(true)}>
          {t("lock.forgot")}
        </button>
      )}
    </main>
  );
}
