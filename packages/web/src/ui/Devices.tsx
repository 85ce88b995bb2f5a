// This person's devices (from the server), each removable after a confirmation: the device's
// leaf leaves every conversation, then the server revokes it. Opened from the top bar.
import { useEffect, useRef, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { Language, Translate } from "../i18n/language.js";
import { ApproveDevice } from "./ApproveDevice.js";

type Device = Awaited<ReturnType<WebClient["messenger"]["devices"]>>[number];

export function DevicesButton(props: { client: WebClient; t: Translate; language: Language }) {
  const [open, setOpen] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <>
      <button type="button" class="button devices-open" aria-haspopup="dialog" onClick={() => setOpen(true)}>
        {props.t("devices.open")}
      </button>
      <dialog ref={dialog} class="devices-dialog" aria-labelledby="devices-title" onClose={() => setOpen(false)}>
        {open ? <Devices {...props} onClose={() => setOpen(false)} /> : null}
      </dialog>
    </>
  );
}

export function Devices(props: { client: WebClient; t: Translate; language: Language; onClose: () => void }) {
  const { client, t } = props;
  const [devices, setDevices] = useState<Device[] | undefined>(undefined);
  const [asking, setAsking] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [problem, setProblem] = useState("");
  const date = (at: number) => new Date(at).toLocaleDateString(props.language === "de" ? "de-DE" : "en-GB");

  const load = async () => {
    try {
      setDevices(await client.messenger.devices());
      setProblem("");
    } catch (error) {
      setProblem(t("devices.loadFailed", { error: (error as Error).message }));
    }
  };
  useEffect(() => void load(), []);

  const remove = async (device: string) => {
    setBusy(true);
    try {
      const { groups } = await client.messenger.removeDevice(device);
      setMessage(t("devices.removed", { device, groups: String(groups) }));
      setAsking(undefined);
      await load();
    } catch (error) {
      setProblem(t("devices.removeFailed", { error: (error as Error).message }));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="devices-panel" aria-labelledby="devices-title">
      <h2 id="devices-title">{t("devices.title")}</h2>
      <p>{t("devices.help")}</p>
      {devices === undefined && !problem ? <p role="status">{t("devices.loading")}</p> : null}
      {devices ? (
        <ul class="devices-list" aria-label={t("devices.listLabel")}>
          {devices.map((d) => (
            <li key={d.device} class="device-row" data-device={d.device}>
              <span class="device-name">
                {d.current ? t("devices.this", { device: d.device }) : t("devices.other", { device: d.device })}
              </span>
              {" · "}
              <span class="device-since">{t("devices.since", { date: date(d.createdAt) })}</span>
              {d.lastSeen ? (
                <>
                  {" · "}
                  <span class="device-seen">{t("devices.lastSeen", { date: date(d.lastSeen) })}</span>
                </>
              ) : null}{" "}
              {d.current ? null : asking === d.device ? (
                <div class="device-confirm" role="group" aria-label={t("devices.confirmLabel", { device: d.device })}>
                  <p>{t("devices.confirm", { device: d.device })}</p>
                  <button type="button" class="button" disabled={busy} onClick={() => void remove(d.device)}>
                    {t("devices.confirmYes")}
                  </button>{" "}
                  <button type="button" class="button" disabled={busy} onClick={() => setAsking(undefined)}>
                    {t("devices.confirmNo")}
                  </button>
                </div>
              ) : (
                <button type="button" class="button" onClick={() => setAsking(d.device)}>
                  {t("devices.remove", { device: d.device })}
                </button>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {message ? <p role="status">{message}</p> : null}
      <ApproveDevice client={client} t={t} onApproved={() => void load()} />
      {problem ? (
        <p class="banner problem" role="alert">
          {problem}
        </p>
      ) : null}
      <button type="button" class="button" onClick={props.onClose}>
        {t("devices.close")}
      </button>
    </section>
  );
}
