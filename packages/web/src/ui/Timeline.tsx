// One chat's timeline: only a window of its messages is in the page (spacers stand in for the
// rest, so ten thousand messages scroll like a hundred), day separators, own messages right,
// sender names in groups, sending/sent, reactions, and the composer, which a channel's members
// (not its admins) do not get.
import type { ChatMessage } from "@momedo/core";
import { isDirectChatId, type GroupMemberInfo, type Role } from "@momedo/protocol";
import type { JSX } from "preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import type { OutboxEntry, WebClient } from "../client.js";
import type { Language, Translate } from "../i18n/language.js";
import type { IdbStore } from "../store/idbStore.js";
import { preview, type ChatKind, type ChatMeta, type Names } from "./chatMeta.js";
import { Attachment } from "./Attachment.js";
import { Card } from "./Card.js";
import { Composer, type FileChoice } from "./Composer.js";
import { MessageActions } from "./MessageActions.js";
import { Members } from "./Members.js";
import { prepareBrowserFile } from "../files/prepare.js";
import { clock, dayKey, dayLabel } from "./time.js";
import { VerifyBadge } from "./Verification.js";

/** Messages in the page at a time, how far one step moves the window, and a row's estimated height. */
const WINDOW = 80;
const STEP = 40;
const ROW_PX = 72;
const EMOJIS = ["👍", "❤️", "😂", "😮", "🙏"];
/** Messages that refer to another one and are shown under it, not as a row of their own. */
const REFERRING = new Set<ChatMessage["type"]>(["reaction", "card_action", "card_outcome", "edit", "delete"]);

interface Page {
  count: number;
  start: number;
  rows: ChatMessage[];
  reactions: Map<string, ChatMessage[]>;
  /** A card's actions and outcomes, by the card's ID. */
  cardSteps: Map<string, ChatMessage[]>;
  /** The messages that replies in the page answer, by ID. */
  quoted: Map<string, ChatMessage>;
}

export function Timeline(props: {
  client: WebClient;
  store: IdbStore;
  meta: ChatMeta;
  names: Names;
  t: Translate;
  language: Language;
  version: number;
  /** A message to show (a search hit) instead of the chat's end. */
  hit?: ChatMessage | undefined;
  onBack: () => void;
  onRead: () => void;
  onAnnounce: (text: string) => void;
}) {
  const { client, store, meta, names, t } = props;
  const chat = meta.chat;
  const me = client.me.user;
  const [page, setPage] = useState<Page | undefined>(undefined);
  const [info, setInfo] = useState<{ kind: ChatKind; role?: Role; members?: GroupMemberInfo[] }>({ kind: meta.kind, ...(meta.role ? { role: meta.role } : {}) });
  const [showMembers, setShowMembers] = useState(false);
  const [picking, setPicking] = useState<string | undefined>(undefined);
  const [replyingTo, setReplyingTo] = useState<ChatMessage | undefined>(undefined);
  const [problem, setProblem] = useState("");
  const scroller = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLOListElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const atEnd = useRef(true);
  const loading = useRef(false);
  const pageRef = useRef<Page | undefined>(undefined);
  const lastShown = useRef<string | undefined>(undefined);
  const hitShown = useRef(false);

  const load = async (from: number | "end") => {
    const count = await store.countMessages(chat);
    const start = from === "end" ? Math.max(0, count - WINDOW) : Math.max(0, Math.min(from, count - WINDOW));
    const rows = await store.messages(chat, start, WINDOW);
    const reactions = new Map<string, ChatMessage[]>();
    const cardSteps = new Map<string, ChatMessage[]>();
    await Promise.all(
      rows
        .filter((m) => !REFERRING.has(m.type))
        .map(async (m) => {
          const replies = await store.replies(chat, m.id);
          const found = replies.filter((r) => r.type === "reaction");
          if (found.length > 0) reactions.set(m.id, found);
          if (m.type === "card") cardSteps.set(m.id, replies.filter((r) => r.type === "card_action" || r.type === "card_outcome"));
        }),
    );
    const quoted = new Map<string, ChatMessage>();
    await Promise.all(
      rows.flatMap((m) => (m.replyTo ? [m.replyTo] : [])).map(async (id) => {
        const found = await store.loadMessage(chat, id);
        if (found) quoted.set(id, found);
      }),
    );
    const next = { count, start, rows, reactions, cardSteps, quoted };
    pageRef.current = next;
    setPage(next);
    const last = start + rows.length >= count ? rows.filter((m) => !REFERRING.has(m.type)).at(-1) : undefined;
    if (last && lastShown.current !== undefined && last.id !== lastShown.current && last.from !== me) {
      props.onAnnounce(t("chat.newMessage", { name: names.person(last.from), text: preview(last, t) }));
    }
    if (last) lastShown.current = last.id;
    if ((await store.markRead(chat)) > 0) props.onRead();
  };

  useEffect(() => {
    if (props.hit) {
      atEnd.current = false;
      void hitPosition(props.hit).then((at) => load(Math.max(0, at - WINDOW / 2)));
    } else {
      heading.current?.focus();
      void load("end").then(() => (lastShown.current ??= ""));
    }
    if (meta.kind !== "direct" && client.connection === "online") void refreshInfo().catch(() => undefined);
  }, []);

  /** The chat's kind, members and this person's role, from the server (after dropping the leaves of people who left). */
  const refreshInfo = async () => {
    await client.messenger.reconcile().catch(() => undefined);
    const r = await client.messenger.info(chat);
    setInfo({
      kind: r.kind === "channel" ? "channel" : r.kind === "direct" ? "direct" : "group",
      role: r.members.find((m) => m.user === me)?.role,
      members: r.members,
    });
  };

  // A role changed, someone left or joined: the composer and the members follow at once.
  useEffect(
    () =>
      client.onEvent((event) => {
        if ((event.type === "notice" || event.type === "changed") && event.chat === chat) void refreshInfo().catch(() => undefined);
      }),
    [chat],
  );

  useEffect(() => {
    if (meta.role) setInfo((i) => ({ ...i, kind: meta.kind, role: i.role ?? meta.role }));
  }, [meta.kind, meta.role]);

  // Something changed (a message, the outbox): reload the window where it is, or at the end.
  useEffect(() => {
    if (props.version === 0 || !pageRef.current) return;
    void load(atEnd.current ? "end" : pageRef.current.start);
  }, [props.version]);

  /** Where a message stands in the timeline: a binary search by send time over one-message pages. */
  const hitPosition = async (hit: ChatMessage) => {
    let low = 0;
    let high = await store.countMessages(chat);
    while (low < high) {
      const middle = (low + high) >> 1;
      const [m] = await store.messages(chat, middle, 1);
      if (m && m.sentAt < hit.sentAt) low = middle + 1;
      else high = middle;
    }
    return low;
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && atEnd.current) el.scrollTop = el.scrollHeight;
    const shown = props.hit && page && !hitShown.current ? el?.querySelector<HTMLElement>(`[data-id="${props.hit.id}"]`) : null;
    if (shown) {
      hitShown.current = true;
      shown.scrollIntoView({ block: "center" });
      shown.focus();
    }
  }, [page]);

  const onScroll = () => {
    const el = scroller.current;
    const ol = list.current;
    const current = pageRef.current;
    if (!el || !ol || !current) return;
    const top = el.scrollTop;
    const height = el.clientHeight;
    atEnd.current = top + height >= el.scrollHeight - 48;
    if (loading.current) return;
    const first = ol.offsetTop;
    const last = first + ol.offsetHeight;
    let next: number | undefined;
    // Jumped past what is in the page (scrollbar dragged, Home/End): estimate where from the row height.
    if (top + height < first || top > last) next = Math.floor(top / ROW_PX) - STEP / 2;
    else if (top < first + height && current.start > 0) next = current.start - STEP;
    else if (top + height > last - height && current.start + current.rows.length < current.count) next = current.start + STEP;
    if (next === undefined) return;
    loading.current = true;
    void load(Math.max(0, next)).finally(() => (loading.current = false));
  };

  const toChat = (to: string) => {
    if (to.startsWith("g.") || isDirectChatId(to)) return to;
    try {
      return client.directChat(to);
    } catch {
      return to;
    }
  };
  const atTheEnd = page ? page.start + page.rows.length >= page.count : false;
  const pending: OutboxEntry[] = atTheEnd ? client.pending.filter((e) => toChat(e.to) === chat) : [];
  const readOnly = info.kind === "channel" && info.role !== undefined && info.role !== "owner" && info.role !== "admin";
  const inGroup = info.kind !== "direct";

  const send = async (text: string) => {
    atEnd.current = true;
    const answered = replyingTo;
    if (!answered) return client.send(meta.peer ?? chat, text);
    setReplyingTo(undefined);
    await change(() => client.reply(chat, answered.id, text));
  };

  /** Queues a reply, an edit or a deletion (the outbox sends it, offline after reconnect) and shows the result. */
  const change = async (act: () => Promise<unknown>) => {
    try {
      await act();
      setProblem("");
    } catch (error) {
      setProblem(t("msg.failed", { error: error instanceof Error ? error.message : String(error) }));
    }
    await load(atEnd.current ? "end" : (pageRef.current?.start ?? "end"));
  };

  const sendFile = async (choice: FileChoice) => {
    atEnd.current = true;
    const prepared = await prepareBrowserFile(choice.file, { original: choice.original });
    await client.sendFile(chat, prepared, {
      ...(choice.location ? { location: choice.location } : {}),
      ...(choice.takenAt !== undefined ? { takenAt: choice.takenAt } : {}),
      ...(meta.peer ? { peer: meta.peer } : {}),
    });
    await load("end");
  };

  const react = async (target: string, emoji: string) => {
    setPicking(undefined);
    try {
      await client.react(chat, target, emoji);
      setProblem("");
    } catch (error) {
      setProblem(t("chat.reactFailed", { error: error instanceof Error ? error.message : String(error) }));
    }
  };

  const items: JSX.Element[] = [];
  if (page) {
    let day = "";
    for (const m of page.rows) {
      if (REFERRING.has(m.type)) continue;
      if (dayKey(m.sentAt) !== day) {
        day = dayKey(m.sentAt);
        items.push(
          <li key={`day-${day}`} class="day">
            <h3>{dayLabel(m.sentAt, props.language, t)}</h3>
          </li>,
        );
      }
      const own = m.from === me;
      const reactions = page.reactions.get(m.id) ?? [];
      const counted = new Map<string, number>();
      for (const r of reactions) counted.set(r.text, (counted.get(r.text) ?? 0) + 1);
      items.push(
        <li key={m.id} class={`msg${own ? " own" : ""}${props.hit?.id === m.id ? " hit" : ""}`} data-id={m.id} tabIndex={props.hit?.id === m.id ? -1 : undefined}>
          <div class="line">
            <div class="bubble">
              {own ? <span class="sr-only">{t("chats.you")}: </span> : inGroup ? <p class="sender">{names.person(m.from)}</p> : null}
              {m.replyTo ? <Quote quoted={page.quoted.get(m.replyTo)} names={names} t={t} /> : null}
              {m.deleted ? (
                <p class="text deleted">{t("msg.deleted")}</p>
              ) : m.type === "file" && m.file ? (
                <Attachment client={client} store={store} message={m} t={t} language={props.language} />
              ) : m.type === "card" && m.card ? (
                <Card
                  client={client}
                  message={m}
                  steps={page.cardSteps.get(m.id) ?? []}
                  names={names}
                  t={t}
                  onSent={() => void load(atEnd.current ? "end" : (pageRef.current?.start ?? "end"))}
                />
              ) : (
                <p class="text">{preview(m, t)}</p>
              )}
              <p class="meta">
                <time dateTime={new Date(m.sentAt).toISOString()}>{clock(m.sentAt, props.language)}</time>
                {m.edited && !m.deleted ? <span class="edited"> · {t("msg.edited")}</span> : null}
                {own ? <span class={`state${m.delivered ? " delivered" : ""}`}> · {t(m.delivered ? "chat.delivered" : "chat.sent")}</span> : null}
              </p>
            </div>
            <MessageActions
              message={m}
              own={own}
              t={t}
              onReply={() => setReplyingTo(m)}
              onEdit={(text) => change(() => client.edit(chat, m.id, text))}
              onDelete={() => change(() => client.deleteMessage(chat, m.id))}
            />
            <button
              type="button"
              class="react"
              aria-expanded={picking === m.id}
              aria-controls={picking === m.id ? `pick-${m.id}` : undefined}
              onClick={() => setPicking(picking === m.id ? undefined : m.id)}
            >
              {t("chat.react")}
            </button>
          </div>
          <div class="under">
            {counted.size > 0 ? (
              <ul class="reactions" aria-label={t("chat.reactions", { list: [...counted].map(([e, n]) => `${e} ${n}`).join(", ") })}>
                {[...counted].map(([emoji, n]) => (
                  <li key={emoji} aria-hidden="true">
                    {t("chat.reactionCount", { emoji, count: String(n) })}
                  </li>
                ))}
              </ul>
            ) : null}
            {picking === m.id ? (
              <div class="picker" id={`pick-${m.id}`} role="group" aria-label={t("chat.react")} onKeyDown={(e) => e.key === "Escape" && setPicking(undefined)}>
                {EMOJIS.map((emoji) => (
                  <button type="button" key={emoji} aria-label={t("chat.reactWith", { emoji })} onClick={() => void react(m.id, emoji)}>
                    {emoji}
                  </button>
                ))}
              </div>
            ) : null}
          </div>
        </li>,
      );
    }
    for (const e of pending) {
      items.push(
        <li key={e.key} class="msg own pending" data-pending={e.key}>
          <div class="bubble">
            <span class="sr-only">{t("chats.you")}: </span>
            <p class="text">{pendingText(e, t)}</p>
            <p class="meta">
              <time dateTime={new Date(e.queuedAt).toISOString()}>{clock(e.queuedAt, props.language)}</time>
              <span class="state"> · {t("chat.sending")}</span>
            </p>
          </div>
        </li>,
      );
    }
  }
  const above = page ? page.start * ROW_PX : 0;
  const below = page ? Math.max(0, page.count - page.start - page.rows.length) * ROW_PX : 0;

  return (
    <div class="chat">
      <div class="chat-head">
        <button type="button" class="button back" onClick={props.onBack}>
          <span aria-hidden="true">← </span>
          {t("chat.back")}
        </button>
        <h2 ref={heading} tabIndex={-1} id="chat-title">
          {meta.name}
        </h2>
        <span class="kind">{t(`kind.${info.kind}`)}</span>
        {meta.peer ? <VerifyBadge client={client} peer={meta.peer} name={meta.name} t={t} version={props.version} /> : null}
        {info.members && info.kind !== "direct" ? (
          <button
            type="button"
            class="button members-toggle"
            aria-expanded={showMembers}
            aria-controls="chat-members"
            onClick={() => {
              if (!showMembers) void refreshInfo().catch(() => undefined);
              setShowMembers(!showMembers);
            }}
          >
            {t("chat.members", { count: String(info.members.length) })}
          </button>
        ) : null}
      </div>
      {showMembers && info.members ? (
        <Members
          client={client}
          chat={chat}
          members={info.members}
          names={names}
          t={t}
          language={props.language}
          onChanged={() => refreshInfo().catch(() => undefined)}
          onLeft={props.onBack}
        />
      ) : null}
      <div class="scroller" ref={scroller} onScroll={onScroll} tabIndex={0} aria-labelledby="chat-title">
        <div class="spacer" style={{ height: `${above}px` }} />
        {page === undefined ? <p class="muted">{t("chat.loading")}</p> : items.length === 0 ? <p class="muted">{t("chat.empty")}</p> : null}
        <ol class="timeline" ref={list} aria-label={t("chat.messages")}>
          {items}
        </ol>
        <div class="spacer" style={{ height: `${below}px` }} />
      </div>
      {problem ? (
        <p class="problem" role="alert">
          {problem}
        </p>
      ) : null}
      {readOnly ? (
        <p class="channel-note" role="note">
          {t("chat.channelNote")}
        </p>
      ) : (
        <>
          {replyingTo ? (
            <div class="replying" role="status">
              <Quote quoted={replyingTo} names={names} t={t} />
              <button type="button" class="button" onClick={() => setReplyingTo(undefined)}>
                {t("msg.cancelReply")}
              </button>
            </div>
          ) : null}
          <Composer t={t} name={meta.name} onSend={send} onSendFile={sendFile} />
        </>
      )}
    </div>
  );
}

/** The message a reply answers, quoted above the reply's text. */
function Quote(props: { quoted: ChatMessage | undefined; names: Names; t: Translate }) {
  const { quoted, t } = props;
  if (!quoted) return <p class="quote">{t("msg.quoteMissing")}</p>;
  return (
    <blockquote class="quote">
      <span class="sr-only">{t("msg.replyTo")} </span>
      <cite>{props.names.person(quoted.from)}</cite>: {quoted.deleted ? t("msg.deleted") : preview(quoted, t)}
    </blockquote>
  );
}

/** What a waiting outbox entry shows in the chat. */
function pendingText(e: OutboxEntry, t: Translate): string {
  switch (e.kind) {
    case "edit":
      return t("outbox.edit", { text: e.text });
    case "delete":
      return t("outbox.delete");
    case "reaction":
      return t("outbox.reaction", { emoji: e.text });
    case "file":
      return t("outbox.file", { name: e.text });
    default:
      return e.text;
  }
}
