// Turns notifications for this device on or off. The server's wake-ups carry no content (the
// content is end-to-end encrypted); the phone shows only "new message". Asked only on a click.
import { useEffect, useState } from "preact/hooks";
import type { Messenger } from "@momedo/client/browser";
import type { Translate } from "../i18n/language.js";
import { disablePush, enablePush, pushState, type PushState } from "../pwa.js";

export function NotificationsSwitch(props: { t: Translate; messenger: Messenger; online: boolean }) {
  const { t } = props;
  const [state, setState] = useState<PushState | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | undefined>(undefined);

  useEffect(() => {
    pushState().then(setState, () => setState("unsupported"));
  }, []);

  if (state === undefined || state === "unsupported") return null;
  const toggle = async () => {
    setBusy(true);
    setProblem(undefined);
    try {
      setState(state === "on" ? await disablePush(props.messenger) : await enablePush(props.messenger));
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="notifications">
      <p id="notifications-state">{t(`notifications.${state}`)}</p>
      {state === "denied" ? null : (
        <button
          type="button"
          class="button"
          aria-describedby="notifications-state"
          disabled={busy || !props.online}
          onClick={() => void toggle()}
        >
          {t(state === "on" ? "notifications.turnOff" : "notifications.turnOn")}
        </button>
      )}
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
    </div>
  );
}
