// What the screens call a chat and a person: names from the organisation directory and the
// server's group list, kinds and this person's role, resolved in one place.
import type { ChatMessage } from "@momedo/core";
import type { DirectoryListResult, GroupsListResult } from "@momedo/protocol";
import type { Translate } from "../i18n/language.js";

export type Person = DirectoryListResult["people"][number];
export type GroupEntry = GroupsListResult["groups"][number];
export type ChatKind = "direct" | "group" | "channel";

export interface ChatMeta {
  chat: string;
  name: string;
  kind: ChatKind;
  /** This person's role in a group or channel, once the server said it. */
  role?: GroupEntry["role"];
  /** The other person of a direct chat. */
  peer?: string;
}

export interface Names {
  /** This person's ID. */
  me: string;
  person(user: string): string;
  chat(chat: string): ChatMeta;
}

export function names(t: Translate, me: string, people: Person[], groups: Map<string, GroupEntry>, directChat: (user: string) => string): Names {
  const byUser = new Map(people.map((p) => [p.user, p]));
  const peers = new Map(people.filter((p) => p.user !== me).map((p) => [directChat(p.user), p.user]));
  const person = (user: string) => (user === me ? t("chats.you") : (byUser.get(user)?.name ?? t("person.unknown", { id: user })));
  return {
    me,
    person,
    chat(chat) {
      const group = groups.get(chat);
      if (group && group.kind !== "direct") return { chat, name: group.name || t("chat.unknown"), kind: group.kind, role: group.role };
      const peer = peers.get(chat);
      if (peer) return { chat, name: person(peer), kind: "direct", peer };
      return { chat, name: t("chat.unknown"), kind: chat.startsWith("g.") ? "group" : "direct" };
    },
  };
}

/** A short text for a message in a list or an announcement. */
export function preview(m: ChatMessage, t: Translate): string {
  if (m.type === "reaction") return t("chats.reacted", { emoji: m.text });
  if (m.type === "file") return t("chats.file", { name: m.text });
  if (m.type === "card") return t("chats.card", { title: m.text });
  if (m.type === "card_action") return t("chats.cardAction");
  return m.text;
}
