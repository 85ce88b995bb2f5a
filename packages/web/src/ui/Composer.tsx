// Writing a message: Enter sends, Shift+Enter starts a new line. A file or photo is attached
// with a button (a camera on phones); the current location goes with it only when ticked, and
// the browser asks for it only then.
import { useRef, useState } from "preact/hooks";
import type { FileLocation } from "@momedo/core";
import type { Translate } from "../i18n/language.js";

export interface FileChoice {
  file: File;
  original: boolean;
  location?: FileLocation;
  takenAt?: number;
}

export function Composer(props: { t: Translate; name: string; onSend: (text: string) => Promise<void>; onSendFile?: (choice: FileChoice) => Promise<void> }) {
  const { t } = props;
  const [text, setText] = useState("");
  const [withLocation, setWithLocation] = useState(false);
  const [location, setLocation] = useState<FileLocation | undefined>(undefined);
  const [original, setOriginal] = useState(false);
  const [note, setNote] = useState("");
  const [sending, setSending] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const camera = useRef<HTMLInputElement>(null);

  const send = () => {
    const value = text.trim();
    if (!value) return;
    setText("");
    void props.onSend(value);
  };

  const askLocation = (on: boolean) => {
    setWithLocation(on);
    setLocation(undefined);
    if (!on) return setNote("");
    if (!("geolocation" in navigator)) {
      setWithLocation(false);
      return setNote(t("location.unavailable"));
    }
    setNote(t("location.asking"));
    navigator.geolocation.getCurrentPosition(
      (position) => {
        setLocation({ lat: position.coords.latitude, lon: position.coords.longitude, accuracy: Math.round(position.coords.accuracy) });
        setNote(t("location.ready"));
      },
      (error) => {
        setWithLocation(false);
        setNote(error.code === error.PERMISSION_DENIED ? t("location.denied") : t("location.unavailable"));
      },
      { enableHighAccuracy: true, timeout: 20_000, maximumAge: 60_000 },
    );
  };

  const chosen = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = "";
    if (!file || !props.onSendFile) return;
    if (withLocation && !location) return setNote(t("location.wait"));
    setSending(true);
    setNote(t("file.sending", { name: file.name }));
    try {
      await props.onSendFile({ file, original, ...(location ? { location, takenAt: Date.now() } : {}) });
      setNote(t("file.sent", { name: file.name }));
    } catch (error) {
      setNote(t("file.sendFailed", { error: error instanceof Error ? error.message : String(error) }));
    } finally {
      setSending(false);
    }
  };

  const small = { padding: "0.3rem 0.7rem", fontSize: "0.9rem" };
  const form = (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      <label for="composer-text" class="sr-only">
        {t("chat.composer", { name: props.name })}
      </label>
      <textarea
        id="composer-text"
        rows={2}
        value={text}
        placeholder={t("chat.composer", { name: props.name })}
        aria-describedby="composer-hint"
        onInput={(e) => setText(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            send();
          }
        }}
      />
      <p id="composer-hint" class="sr-only">
        {t("chat.composerHint")}
      </p>
      <button type="submit" class="button primary">
        {t("chat.send")}
      </button>
    </form>
  );
  if (!props.onSendFile) return form;
  return (
    <div class="composer-area">
      {form}
      <div class="attach" style={{ display: "flex", flexWrap: "wrap", gap: "0.25rem 0.75rem", alignItems: "center", padding: "0 1rem 0.6rem" }}>
        <input
          ref={picker}
          id="composer-file"
          type="file"
          accept="image/*,application/pdf,.pdf,.txt,.csv,.doc,.docx,.xls,.xlsx,.odt,.ods,.zip"
          class="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => void chosen(e.currentTarget)}
        />
        <input
          ref={camera}
          id="composer-camera"
          type="file"
          accept="image/*"
          capture="environment"
          class="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => void chosen(e.currentTarget)}
        />
        <button type="button" class="button attach-file" style={small} disabled={sending} onClick={() => picker.current?.click()}>
          {t("file.attach")}
        </button>
        <button type="button" class="button attach-photo" style={small} disabled={sending} onClick={() => camera.current?.click()}>
          {t("file.camera")}
        </button>
        <label>
          <input type="checkbox" id="composer-location" checked={withLocation} onChange={(e) => askLocation(e.currentTarget.checked)} /> {t("location.attach")}
        </label>
        <label>
          <input type="checkbox" id="composer-original" checked={original} onChange={(e) => setOriginal(e.currentTarget.checked)} /> {t("file.original")}
        </label>
        <p class="attach-note" role="status" style={{ margin: "0", flexBasis: "100%" }}>
          {note}
        </p>
      </div>
    </div>
  );
}
