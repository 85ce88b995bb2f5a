// Writing a message: Enter sends, Shift+Enter starts a new line.
import { useState } from "preact/hooks";
import type { Translate } from "../i18n/language.js";

export function Composer(props: { t: Translate; name: string; onSend: (text: string) => Promise<void> }) {
  const { t } = props;
  const [text, setText] = useState("");

  const send = () => {
    const value = text.trim();
    if (!value) return;
    setText("");
    void props.onSend(value);
  };

  return (
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
}
