// Whether this device is connected, and how many messages wait for the connection.
import type { ConnectionState } from "../client.js";
import type { Translate } from "../i18n/language.js";

export function ConnectionStatus(props: { t: Translate; state: ConnectionState; queued: number }) {
  const { t, state, queued } = props;
  const text =
    state === "online"
      ? t("status.online")
      : queued === 1
        ? t("status.queuedOne")
        : queued > 1
          ? t("status.queued", { count: String(queued) })
          : state === "connecting"
            ? t("status.connecting")
            : t("status.offline");
  return (
    <p class={`connection ${state}`} role="status" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {text}
    </p>
  );
}
