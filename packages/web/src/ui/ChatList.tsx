// Every chat with its name, kind, last message and unread count, latest activity first.
import type { ChatMessage } from "@momedo/core";
import type { Language, Translate } from "../i18n/language.js";
import { preview, type Names } from "./chatMeta.js";
import { shortWhen } from "./time.js";

export interface ChatRow {
  chat: string;
  last?: ChatMessage;
  unread: number;
}

export function ChatList(props: {
  t: Translate;
  language: Language;
  rows: ChatRow[] | undefined;
  names: Names;
  open: string | undefined;
  onOpen: (chat: string) => void;
  onNew: () => void;
  onSearch: () => void;
}) {
  const { t, rows, names } = props;
  return (
    <>
      <div class="panel-head">
        <h2 id="panel-chats">{t("chats.heading")}</h2>
        <div class="actions">
          <button type="button" class="button" onClick={props.onSearch}>
            {t("chats.search")}
          </button>
          <button type="button" class="button primary" onClick={props.onNew}>
            {t("chats.new")}
          </button>
        </div>
      </div>
      {rows === undefined ? (
        <p class="muted">{t("chat.loading")}</p>
      ) : rows.length === 0 ? (
        <p class="muted">{t("chats.empty")}</p>
      ) : (
        <ul class="chats" aria-labelledby="panel-chats">
          {rows.map((row) => {
            const meta = names.chat(row.chat);
            const last = row.last;
            const own = last?.from === names.me;
            const sender = !last
              ? ""
              : last.type === "reaction"
                ? own
                  ? ""
                  : `${names.person(last.from)} `
                : own
                  ? `${t("chats.you")}: `
                  : meta.kind !== "direct"
                    ? `${names.person(last.from)}: `
                    : "";
            return (
              <li key={row.chat}>
                <button
                  type="button"
                  class="chat-row"
                  aria-current={props.open === row.chat ? "true" : undefined}
                  data-chat={row.chat}
                  onClick={() => props.onOpen(row.chat)}
                >
                  <span class="avatar" aria-hidden="true" data-kind={meta.kind}>
                    {meta.name.slice(0, 1).toUpperCase()}
                  </span>
                  <span class="chat-main">
                    <span class="chat-name">
                      {meta.name}
                      <span class="kind"> · {t(`kind.${meta.kind}`)}</span>
                    </span>
                    <span class="chat-last">{last ? (last.type === "reaction" && own ? t("chats.youReacted", { emoji: last.text }) : `${sender}${preview(last, t)}`) : ""}</span>
                  </span>
                  <span class="chat-side">
                    {last ? <span class="chat-time">{shortWhen(last.sentAt, props.language)}</span> : null}
                    {row.unread > 0 ? (
                      <span class="unread">
                        <span aria-hidden="true">{row.unread}</span>
                        <span class="sr-only">{t("chats.unread", { count: String(row.unread) })}</span>
                      </span>
                    ) : null}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
