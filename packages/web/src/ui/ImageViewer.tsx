// The full-screen viewer: the decrypted image over everything, closed with Escape or the button;
// focus goes to the close button (the opener takes it back on close).
import { useEffect, useRef } from "preact/hooks";
import type { Translate } from "../i18n/language.js";

export function ImageViewer(props: { t: Translate; url: string; name: string; onClose: () => void }) {
  const { t } = props;
  const close = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    close.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.preventDefault();
        props.onClose();
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
    };
  }, []);
  return (
    <div
      class="image-viewer"
      role="dialog"
      aria-modal="true"
      aria-label={t("viewer.label", { name: props.name })}
      style={{ position: "fixed", inset: "0", zIndex: "100", background: "rgba(0,0,0,0.92)", display: "flex", flexDirection: "column", alignItems: "center", justifyContent: "center", padding: "1rem" }}
      onClick={(e) => e.target === e.currentTarget && props.onClose()}
      onKeyDown={(e) => {
        // Focus stays in the dialog: its only control is the close button.
        if (e.key === "Tab") {
          e.preventDefault();
          close.current?.focus();
        }
      }}
    >
      <button ref={close} type="button" class="button" style={{ alignSelf: "flex-end", marginBottom: "0.5rem" }} onClick={props.onClose}>
        {t("viewer.close")}
      </button>
      <img src={props.url} alt={props.name} style={{ maxWidth: "100%", maxHeight: "calc(100% - 4rem)", objectFit: "contain" }} />
    </div>
  );
}
