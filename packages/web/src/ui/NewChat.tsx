// A new conversation: a person found by name in the organisation directory, or a group or
// channel with people picked by name.
import { useEffect, useRef, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { Translate } from "../i18n/language.js";
import type { Person } from "./chatMeta.js";

export function NewChat(props: {
  t: Translate;
  client: WebClient;
  me: string;
  people: Person[] | undefined;
  online: boolean;
  onClose: () => void;
  onPerson: (user: string) => void;
  onCreated: (chat: string) => void;
}) {
  const { t } = props;
  const [query, setQuery] = useState("");
  const [groupName, setGroupName] = useState("");
  const [kind, setKind] = useState<"group" | "channel">("group");
  const [members, setMembers] = useState<Set<string>>(new Set());
  const [problem, setProblem] = useState("");
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const needle = query.trim().toLocaleLowerCase();
  const others = (props.people ?? []).filter((p) => p.user !== props.me);
  const matching = others.filter((p) => !needle || p.name.toLocaleLowerCase().includes(needle));

  const toggle = (user: string) => {
    const next = new Set(members);
    if (next.has(user)) next.delete(user);
    else next.add(user);
    setMembers(next);
  };

  const create = async (event: Event) => {
    event.preventDefault();
    if (!groupName.trim()) return setProblem(t("new.nameMissing"));
    if (members.size === 0) return setProblem(t("new.membersMissing"));
    setProblem("");
    setBusy(true);
    try {
      props.onCreated(await props.client.createGroup(groupName.trim(), [...members], kind));
    } catch (error) {
      setProblem(t("new.failed", { error: error instanceof Error ? error.message : String(error) }));
    } finally {
      setBusy(false);
    }
  };

  const directory =
    props.people === undefined ? (
      <p class="muted">{props.online ? t("new.loading") : t("new.offline")}</p>
    ) : null;

  return (
    <>
      <div class="panel-head">
        <h2 id="panel-new">{t("new.heading")}</h2>
        <button type="button" class="button" onClick={props.onClose}>
          {t("new.close")}
        </button>
      </div>
      <div class="field">
        <label for="people-search">{t("new.search")}</label>
        <input
          id="people-search"
          ref={input}
          type="search"
          autocomplete="off"
          aria-describedby="people-search-hint"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <p id="people-search-hint" class="hint">
          {t("new.searchHint")}
        </p>
      </div>
      {directory}
      <h3 id="people-heading">{t("new.people")}</h3>
      {props.people && matching.length === 0 ? <p class="muted">{t("new.noPeople")}</p> : null}
      <ul class="people" aria-labelledby="people-heading">
        {matching.map((p) => (
          <li key={p.user}>
            <button type="button" class="person" onClick={() => props.onPerson(p.user)}>
              <span class="avatar" aria-hidden="true">
                {p.name.slice(0, 1).toUpperCase()}
              </span>
              <span>
                <span class="sr-only">{t("new.write")} </span>
                {p.name}
                {p.class ? <span class="muted"> · {p.class}</span> : null}
              </span>
            </button>
          </li>
        ))}
      </ul>
      <form class="create" onSubmit={(e) => void create(e)} aria-labelledby="create-heading">
        <h3 id="create-heading">{t("new.groupHeading")}</h3>
        <div class="field">
          <label for="group-name">{t("new.groupName")}</label>
          <input id="group-name" type="text" value={groupName} onInput={(e) => setGroupName(e.currentTarget.value)} />
        </div>
        <fieldset>
          <legend>{t("new.kind")}</legend>
          <label class="choice">
            <input type="radio" name="kind" value="group" checked={kind === "group"} onChange={() => setKind("group")} />
            {t("new.kindGroup")}
          </label>
          <label class="choice">
            <input type="radio" name="kind" value="channel" checked={kind === "channel"} onChange={() => setKind("channel")} />
            {t("new.kindChannel")}
          </label>
        </fieldset>
        <fieldset>
          <legend>
            {t("new.members")} <span class="muted">({t("new.selected", { count: String(members.size) })})</span>
          </legend>
          {matching.map((p) => (
            <label class="choice" key={p.user}>
              <input type="checkbox" checked={members.has(p.user)} onChange={() => toggle(p.user)} />
              {p.name}
            </label>
          ))}
        </fieldset>
        {problem ? (
          <p class="problem" role="alert">
            {problem}
          </p>
        ) : null}
        <button type="submit" class="button primary" disabled={busy || !props.online}>
          {busy ? t("new.creating") : t("new.create")}
        </button>
      </form>
    </>
  );
}
