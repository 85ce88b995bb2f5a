// Scanning a QR code with the camera (or from a photo of it): shows the live picture, reports the
// first code it reads once and turns the camera off. Escape or "Abbrechen" closes it; when the
// camera is refused or missing it says so, and the person can still pick a photo or type the code.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { MessageKey } from "../i18n/de.js";
import type { Translate } from "../i18n/language.js";
import { cameraProblem, openCamera, stopCamera, type CameraProblem } from "../scan/camera.js";
import { loadQrReader, type QrReader } from "../scan/qrReader.js";

const FRAME_MS = 200;

const PROBLEMS: Record<CameraProblem, MessageKey> = { denied: "scan.denied", missing: "scan.noCamera", failed: "scan.cameraFailed" };

type Camera = { kind: "starting" } | { kind: "looking" } | { kind: "problem"; key: MessageKey };

export function QrScanner(props: { t: Translate; id: string; title: string; level: 2 | 3; onCode: (text: string) => void; onClose: () => void }) {
  const { t } = props;
  const [camera, setCamera] = useState<Camera>({ kind: "starting" });
  const [photoProblem, setPhotoProblem] = useState<MessageKey | undefined>(undefined);
  const video = useRef<HTMLVideoElement>(null);
  const photo = useRef<HTMLInputElement>(null);
  const stream = useRef<MediaStream | undefined>(undefined);
  const done = useRef(false);
  const reader = useMemo<Promise<QrReader>>(() => loadQrReader(), []);
  // The latest callbacks, for the frame loop that started with the first ones.
  const callbacks = useRef(props);
  callbacks.current = props;

  /** Turns the camera off at once (an effect's cleanup may run a frame later). */
  const stop = () => {
    done.current = true;
    if (stream.current) stopCamera(stream.current);
  };
  const finish = (text: string) => {
    if (done.current) return;
    stop();
    callbacks.current.onCode(text);
  };
  const close = () => {
    stop();
    callbacks.current.onClose();
  };

  useEffect(() => {
    const run = async () => {
      let qr: QrReader;
      try {
        qr = await reader;
      } catch {
        if (!done.current) setCamera({ kind: "problem", key: "scan.readerFailed" });
        return;
      }
      try {
        stream.current = await openCamera();
      } catch (error) {
        if (!done.current) setCamera({ kind: "problem", key: PROBLEMS[cameraProblem(error)] });
        return;
      }
      if (done.current) return stopCamera(stream.current);
      const v = video.current!;
      v.srcObject = stream.current;
      await v.play().catch(() => undefined);
      setCamera({ kind: "looking" });
      while (!done.current) {
        await new Promise((resolve) => setTimeout(resolve, FRAME_MS));
        if (done.current || v.readyState < HTMLMediaElement.HAVE_CURRENT_DATA) continue;
        const text = await qr.read(v).catch(() => undefined);
        if (text) finish(text);
      }
    };
    void run();
    const escape = (event: KeyboardEvent) => {
      if (event.key !== "Escape") return;
      // Closes the scanner only, not a dialog around it.
      event.preventDefault();
      close();
    };
    document.addEventListener("keydown", escape);
    return () => {
      document.removeEventListener("keydown", escape);
      stop();
    };
  }, []);

  const readPhoto = async () => {
    const file = photo.current?.files?.[0];
    if (!file) return;
    photo.current!.value = "";
    setPhotoProblem(undefined);
    try {
      const bitmap = await createImageBitmap(file);
      const text = await (await reader).read(bitmap);
      bitmap.close();
      if (text) finish(text);
      else setPhotoProblem("scan.photoNone");
    } catch {
      setPhotoProblem("scan.photoUnreadable");
    }
  };

  const Heading = props.level === 2 ? "h2" : "h3";
  const titleId = `${props.id}-title`;
  return (
    <section class="qr-scanner" id={props.id} aria-labelledby={titleId}>
      <Heading id={titleId}>{props.title}</Heading>
      <video ref={video} class="qr-video" muted playsInline aria-label={t("scan.video")} hidden={camera.kind === "problem"} />
      <p role="status" class={camera.kind === "problem" ? "qr-status problem" : "qr-status"}>
        {camera.kind === "problem" ? t(camera.key) : camera.kind === "starting" ? t("scan.starting") : t("scan.looking")}
      </p>
      {photoProblem ? (
        <p role="alert" class="qr-status problem">
          {t(photoProblem)}
        </p>
      ) : null}
      <div class="qr-actions">
        <input ref={photo} type="file" accept="image/*" hidden onChange={() => void readPhoto()} />
        <button type="button" class="button qr-photo" onClick={() => photo.current?.click()}>
          {t("scan.photo")}
        </button>
        <button type="button" class="button qr-cancel" onClick={close}>
          {t("scan.cancel")}
        </button>
      </div>
    </section>
  );
}
