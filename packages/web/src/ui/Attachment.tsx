// A file message: an image shows its thumbnail first, then the decrypted picture (an object URL;
// nothing from other origins), opening the full-screen viewer; another file is a download button
// with its name and size. A location is coordinates plus a plain map link (opened only on click).
import type { ChatMessage } from "@momedo/core";
import { MomedoError } from "@momedo/protocol";
import { useEffect, useRef, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import { loadFile } from "../files/transfer.js";
import type { Language, Translate } from "../i18n/language.js";
import type { IdbStore } from "../store/idbStore.js";
import { ImageViewer } from "./ImageViewer.js";

/** Decrypted files of this page's life, by message ID (object URLs are kept while the page lives). */
const loaded = new Map<string, Promise<string>>();

function objectUrl(client: WebClient, store: IdbStore, message: ChatMessage): Promise<string> {
  let found = loaded.get(message.id);
  if (!found) {
    found = loadFile(client.messenger, store, message).then((blob) => URL.createObjectURL(blob));
    found.catch(() => loaded.delete(message.id));
    loaded.set(message.id, found);
  }
  return found;
}

export function formatSize(bytes: number, language: Language): string {
  const n = new Intl.NumberFormat(language === "de" ? "de-DE" : "en-GB", { maximumFractionDigits: 1 });
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${n.format(bytes / 1024)} KB`;
  return `${n.format(bytes / 1024 / 1024)} MB`;
}

function coordinate(value: number): string {
  return value.toFixed(5);
}

export function mapLink(lat: number, lon: number): string {
  const la = coordinate(lat);
  const lo = coordinate(lon);
  return `https://www.openstreetmap.org/?mlat=${la}&mlon=${lo}#map=17/${la}/${lo}`;
}

export function Attachment(props: { client: WebClient; store: IdbStore; message: ChatMessage; t: Translate; language: Language }) {
  const { client, store, message, t } = props;
  const file = message.file!;
  const image = file.mediaType.startsWith("image/");
  const [url, setUrl] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState("");
  const [viewing, setViewing] = useState(false);
  const [busy, setBusy] = useState(false);
  const opener = useRef<HTMLButtonElement>(null);
  const closeViewer = () => {
    setViewing(false);
    // Back to the image that opened the viewer (after the dialog left the page).
    requestAnimationFrame(() => opener.current?.focus());
  };

  const describe = (error: unknown) =>
    error instanceof MomedoError && error.code === "file_tampered"
      ? t("file.tampered")
      : error instanceof MomedoError && error.code === "blob_not_found"
        ? t("file.gone")
        : t("file.failed", { error: error instanceof Error ? error.message : String(error) });

  useEffect(() => {
    if (!image) return;
    let live = true;
    objectUrl(client, store, message).then(
      (u) => live && setUrl(u),
      (error: unknown) => live && setProblem(describe(error)),
    );
    return () => {
      live = false;
    };
  }, [message.id, client.connection]);

  const download = async () => {
    setBusy(true);
    try {
      const u = await objectUrl(client, store, message);
      const a = document.createElement("a");
      a.href = u;
      a.download = file.name;
      document.body.append(a);
      a.click();
      a.remove();
      setProblem("");
    } catch (error) {
      setProblem(describe(error));
    } finally {
      setBusy(false);
    }
  };

  const size = formatSize(file.size, props.language);
  const thumbnail = file.thumbnail ? `data:image/jpeg;base64,${file.thumbnail}` : undefined;
  const shown = url ?? (problem ? undefined : thumbnail);
  const aspect = file.width && file.height ? `${file.width} / ${file.height}` : undefined;
  return (
    <div class="attachment">
      {image ? (
        shown ? (
          <button
            ref={opener}
            type="button"
            class="image-open"
            disabled={!url}
            aria-label={t("file.openImage", { name: file.name })}
            style={{ display: "block", padding: "0", border: "0", background: "none", cursor: url ? "zoom-in" : "progress" }}
            onClick={() => url && setViewing(true)}
          >
            <img
              class={url ? "image" : "image thumbnail"}
              src={shown}
              alt={file.name}
              width={file.width}
              height={file.height}
              style={{ display: "block", maxWidth: "min(100%, 320px)", width: "100%", height: "auto", ...(aspect ? { aspectRatio: aspect } : {}), borderRadius: "6px" }}
            />
          </button>
        ) : null
      ) : (
        <button type="button" class="button download" disabled={busy} onClick={() => void download()}>
          {t("file.download", { name: file.name, size })}
        </button>
      )}
      {image && url ? (
        <p class="file-meta">
          <a href={url} download={file.name}>
            {t("file.save", { name: file.name, size })}
          </a>
        </p>
      ) : null}
      {problem ? (
        <p class="problem file-problem" role="status">
          {problem}
        </p>
      ) : null}
      {file.location ? (
        <p class="location">
          <span>{t("location.at", { lat: coordinate(file.location.lat), lon: coordinate(file.location.lon) })}</span>
          {file.location.accuracy !== undefined ? <span> {t("location.accuracy", { metres: String(Math.round(file.location.accuracy)) })}</span> : null}{" "}
          <a href={mapLink(file.location.lat, file.location.lon)} target="_blank" rel="noopener noreferrer">
            {t("location.map")}
          </a>
        </p>
      ) : null}
      {file.takenAt !== undefined ? (
        <p class="taken">
          {t("file.takenAt", {
            time: new Date(file.takenAt).toLocaleString(props.language === "de" ? "de-DE" : "en-GB", { dateStyle: "medium", timeStyle: "short" }),
          })}
        </p>
      ) : null}
      {viewing && url ? <ImageViewer t={t} url={url} name={file.name} onClose={closeViewer} /> : null}
    </div>
  );
}
