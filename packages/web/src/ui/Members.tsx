// A group's or channel's members and their roles: owners and admins add people found by name in
// the directory, remove people and change roles (only what the server's policy allows); everyone
// may leave. Every change is followed by a fresh look at the server's member list.
import { errorMessage, MomedoError, type GroupMemberInfo, type Role } from "@momedo/protocol";
import { useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { Language, Translate } from "../i18n/language.js";
import type { Names, Person } from "./chatMeta.js";

const isManager = (role: Role | undefined) => role === "owner" || role === "admin";

/** The roles `actor` may give `target` (the server's checkRoleChange, seen from here). */
function roleChoices(actor: Role | undefined, target: Role, owners: number): Role[] {
  if (!isManager(actor)) return [];
  if (target === "owner") return actor === "owner" && owners > 1 ? ["admin", "member"] : [];
  const choices: Role[] = target === "admin" ? ["member"] : ["admin"];
  return actor === "owner" ? ["owner", ...choices] : choices;
}

export function Members(props: {
  client: WebClient;
  chat: string;
  members: GroupMemberInfo[];
  names: Names;
  t: Translate;
  language: Language;
  onChanged: () => Promise<void>;
  onLeft: () => void;
}) {
  const { client, chat, members, t } = props;
  const me = client.me.user;
  const mine = members.find((m) => m.user === me)?.role;
  const owners = members.filter((m) => m.role === "owner").length;
  const [asking, setAsking] = useState<string | undefined>(undefined);
  const [leaving, setLeaving] = useState(false);
  const [adding, setAdding] = useState(false);
  const [people, setPeople] = useState<Person[] | undefined>(undefined);
  const [query, setQuery] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState("");
  const [problem, setProblem] = useState("");

  const name = (user: string) => members.find((m) => m.user === user)?.name || props.names.person(user);
  const explain = (error: unknown) => (error instanceof MomedoError ? errorMessage(error.code, props.language) : error instanceof Error ? error.message : String(error));

  const act = async (work: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setProblem("");
    setMessage("");
    try {
      await work();
      setAsking(undefined);
      setMessage(done);
      await props.onChanged();
    } catch (error) {
      setProblem(t("members.failed", { error: explain(error) }));
    } finally {
      setBusy(false);
    }
  };

  const openAdding = async () => {
    setAdding(!adding);
    if (people) return;
    try {
      setPeople((await client.directory()).people);
    } catch (error) {
      setProblem(t("members.failed", { error: explain(error) }));
    }
  };

  const leave = async () => {
    setBusy(true);
    setProblem("");
    try {
      await client.messenger.leave(chat);
      props.onLeft();
    } catch (error) {
      setProblem(t("members.failed", { error: explain(error) }));
      setBusy(false);
    }
  };

  const present = new Set(members.map((m) => m.user));
  const needle = query.trim().toLocaleLowerCase();
  const candidates = (people ?? []).filter((p) => !present.has(p.user) && (!needle || p.name.toLocaleLowerCase().includes(needle)));
  const lastOwner = mine === "owner" && owners === 1 && members.length > 1;

  return (
    <div id="chat-members">
      <ul class="members" aria-label={t("chat.membersLabel")}>
        {members.map((m) => {
          const who = m.user === me ? t("chats.you") : name(m.user);
          const choices = m.user === me ? [] : roleChoices(mine, m.role, owners);
          const removable = m.user !== me && isManager(mine) && (m.role !== "owner" || mine === "owner");
          return (
            <li key={m.user}>
              <span>{who}</span>
              <span class="role">{t(`role.${m.role}`)}</span>
              {choices.length > 0 || removable ? (
                <span class="member-actions">
                  {choices.map((role) => (
                    <button type="button" class="button" key={role} disabled={busy} onClick={() => void act(() => client.messenger.setRole(chat, m.user, role), t("members.roleChanged", { name: who, role: t(`role.${role}`) }))}>
                      {t(`members.make.${role}`, { name: who })}
                    </button>
                  ))}
                  {removable && asking !== m.user ? (
                    <button type="button" class="button" disabled={busy} onClick={() => setAsking(m.user)}>
                      {t("members.remove", { name: who })}
                    </button>
                  ) : null}
                </span>
              ) : null}
              {asking === m.user ? (
                <span class="member-confirm" role="group" aria-label={t("members.confirmLabel", { name: who })}>
                  {t("members.confirmRemove", { name: who })}{" "}
                  <button type="button" class="button" disabled={busy} onClick={() => void act(() => client.messenger.removeMembers(chat, [m.user]), t("members.removed", { name: who }))}>
                    {t("members.yes")}
                  </button>{" "}
                  <button type="button" class="button" disabled={busy} onClick={() => setAsking(undefined)}>
                    {t("members.no")}
                  </button>
                </span>
              ) : null}
            </li>
          );
        })}
      </ul>
      <div class="members member-tools">
        {isManager(mine) ? (
          <button type="button" class="button" aria-expanded={adding} aria-controls={adding ? "members-add" : undefined} onClick={() => void openAdding()}>
            {t("members.add")}
          </button>
        ) : null}{" "}
        {leaving ? (
          lastOwner ? (
            <p role="alert">
              {t("members.handOver")}{" "}
              <button type="button" class="button" onClick={() => setLeaving(false)}>
                {t("members.no")}
              </button>
            </p>
          ) : (
            <span class="member-confirm" role="group" aria-label={t("members.leave")}>
              {t("members.confirmLeave")}{" "}
              <button type="button" class="button" disabled={busy} onClick={() => void leave()}>
                {t("members.yes")}
              </button>{" "}
              <button type="button" class="button" disabled={busy} onClick={() => setLeaving(false)}>
                {t("members.no")}
              </button>
            </span>
          )
        ) : (
          <button type="button" class="button" disabled={busy} onClick={() => setLeaving(true)}>
            {t("members.leave")}
          </button>
        )}
        {adding ? (
          <div id="members-add">
            <div class="field">
              <label for="members-search">{t("members.search")}</label>
              <input id="members-search" type="search" autocomplete="off" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
            </div>
            {people === undefined ? <p class="muted">{t("new.loading")}</p> : candidates.length === 0 ? <p class="muted">{t("new.noPeople")}</p> : null}
            <ul class="people" aria-label={t("members.candidates")}>
              {candidates.map((p) => (
                <li key={p.user}>
                  <button type="button" class="button" disabled={busy} onClick={() => void act(() => client.messenger.addPeople(chat, [p.user]), t("members.added", { name: p.name }))}>
                    {t("members.addPerson", { name: p.name })}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {message ? <p role="status">{message}</p> : null}
        {problem ? (
          <p class="problem" role="alert">
            {problem}
          </p>
        ) : null}
      </div>
    </div>
  );
}
