// Search in this device's local history (the texts are unsealed on this device only).
import type { ChatMessage } from "@momedo/core";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Language, Translate } from "../i18n/language.js";
import type { IdbStore } from "../store/idbStore.js";
import { preview, type Names } from "./chatMeta.js";
import { shortWhen } from "./time.js";

export function SearchPanel(props: { t: Translate; store: IdbStore; names: Names; language: Language; onClose: () => void; onOpen: (found: ChatMessage) => void }) {
  const { t } = props;
  const [query, setQuery] = useState("");
  const [found, setFound] = useState<ChatMessage[] | undefined>(undefined);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setFound(await props.store.search(query));
  };

  return (
    <>
      <div class="panel-head">
        <h2 id="panel-search">{t("search.heading")}</h2>
        <button type="button" class="button" onClick={props.onClose}>
          {t("search.close")}
        </button>
      </div>
      <form class="search" role="search" onSubmit={(e) => void submit(e)}>
        <label for="search-query">{t("search.label")}</label>
        <div class="row">
          <input id="search-query" ref={input} type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
          <button type="submit" class="button primary">
            {t("search.submit")}
          </button>
        </div>
      </form>
      <p class="muted" role="status" id="search-status">
        {found === undefined ? "" : found.length === 0 ? t("search.none") : t("search.count", { count: String(found.length) })}
      </p>
      {found && found.length > 0 ? (
        <ul class="chats found" aria-labelledby="panel-search">
          {found.map((m) => (
            <li key={`${m.chat}:${m.id}`}>
              <button type="button" class="chat-row" onClick={() => props.onOpen(m)}>
                <span class="chat-main">
                  <span class="chat-name">{props.names.chat(m.chat).name}</span>
                  <span class="chat-last">
                    {props.names.person(m.from)}: {preview(m, t)}
                  </span>
                </span>
                <span class="chat-side">
                  <span class="chat-time">{shortWhen(m.sentAt, props.language)}</span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </>
  );
}
