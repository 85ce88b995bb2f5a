// A message's menu: reply to it; on one's own messages also edit it and delete it for everyone
// (after a confirmation). What happens is up to the timeline; this only asks.
import type { ChatMessage } from "@momedo/core";
import { useState } from "preact/hooks";
import type { Translate } from "../i18n/language.js";

export function MessageActions(props: {
  message: ChatMessage;
  own: boolean;
  t: Translate;
  onReply: () => void;
  onEdit: (text: string) => Promise<void>;
  onDelete: () => Promise<void>;
}) {
  const { message: m, t } = props;
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<"menu" | "edit" | "delete">("menu");
  const [text, setText] = useState(m.text);
  const menu = `actions-${m.id}`;
  const close = () => {
    setOpen(false);
    setMode("menu");
  };

  if (m.deleted) return null;
  return (
    <div class="message-actions" onKeyDown={(e) => e.key === "Escape" && close()}>
      <button type="button" class="react" aria-expanded={open} aria-controls={open ? menu : undefined} onClick={() => (open ? close() : setOpen(true))}>
        {t("msg.actions")}
      </button>
      {open ? (
        <div class="picker" id={menu} role="group" aria-label={t("msg.actions")}>
          {mode === "menu" ? (
            <>
              <button
                type="button"
                onClick={() => {
                  close();
                  props.onReply();
                }}
              >
                {t("msg.reply")}
              </button>
              {props.own && m.type === "text" ? (
                <button
                  type="button"
                  onClick={() => {
                    setText(m.text);
                    setMode("edit");
                  }}
                >
                  {t("msg.edit")}
                </button>
              ) : null}
              {props.own ? (
                <button type="button" onClick={() => setMode("delete")}>
                  {t("msg.delete")}
                </button>
              ) : null}
            </>
          ) : mode === "edit" ? (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                const value = text.trim();
                if (!value || value === m.text) return close();
                close();
                void props.onEdit(value);
              }}
            >
              <label>
                {t("msg.editLabel")}
                <input type="text" value={text} autoFocus onInput={(e) => setText(e.currentTarget.value)} />
              </label>
              <button type="submit">{t("msg.save")}</button>
              <button type="button" onClick={close}>
                {t("msg.cancel")}
              </button>
            </form>
          ) : (
            <div role="alertdialog" aria-label={t("msg.confirmDelete")}>
              <p>{t("msg.confirmDelete")}</p>
              <button
                type="button"
                onClick={() => {
                  close();
                  void props.onDelete();
                }}
              >
                {t("msg.confirmYes")}
              </button>
              <button type="button" autoFocus onClick={close}>
                {t("msg.cancel")}
              </button>
            </div>
          )}
        </div>
      ) : null}
    </div>
  );
}
