// The messenger once this browser is a device: the chats list (or the new-conversation and
// search panels) beside the open chat on wide screens, one after the other on phones; the
// connection's state and new messages are announced to screen readers.
import type { ChatMessage } from "@momedo/core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { WebClient } from "../client.js";
import type { Language, Translate } from "../i18n/language.js";
import { renewPush } from "../pwa.js";
import type { IdbStore } from "../store/idbStore.js";
import { AppLock } from "../lock/appLock.js";
import { AppLockSettings } from "./AppLockSettings.js";
import { ChatList, type ChatRow } from "./ChatList.js";
import { names, preview, type GroupEntry, type Person } from "./chatMeta.js";
import { ConnectionStatus } from "./ConnectionStatus.js";
import { DevicesButton } from "./Devices.js";
import { LanguageSwitch } from "./LanguageSwitch.js";
import { LockScreen } from "./LockScreen.js";
import { NewChat } from "./NewChat.js";
import { NotificationsSwitch } from "./NotificationsSwitch.js";
import { SearchPanel } from "./SearchPanel.js";
import { Timeline } from "./Timeline.js";

type Panel = "chats" | "new" | "search";

export interface MessengerProps {
  client: WebClient;
  store: IdbStore;
  t: Translate;
  language: Language;
  welcome: boolean;
  alreadyEnrolled: boolean;
  onSwitchLanguage: () => void;
}

export function Messenger(props: MessengerProps) {
  const { client, store, t } = props;
  const me = client.me;
  const [rows, setRows] = useState<ChatRow[] | undefined>(undefined);
  const [people, setPeople] = useState<Person[] | undefined>(undefined);
  const [groups, setGroups] = useState<Map<string, GroupEntry>>(new Map());
  const [open, setOpen] = useState<string | undefined>(undefined);
  /** A search hit to show in the open chat. */
  const [hit, setHit] = useState<ChatMessage | undefined>(undefined);
  const [panel, setPanel] = useState<Panel>("chats");
  const [version, setVersion] = useState(0);
  const [connection, setConnection] = useState(client.connection);
  const [browserOffline, setBrowserOffline] = useState(!navigator.onLine);
  const [queued, setQueued] = useState(client.pending.length);
  const [failure, setFailure] = useState<string | undefined>(undefined);
  const [announcement, setAnnouncement] = useState("");
  const [welcome, setWelcome] = useState(props.welcome || props.alreadyEnrolled);
  /** The display name colleagues see, changeable on the welcome: shown, being edited, what went wrong. */
  const [shownName, setShownName] = useState(me.name);
  const [naming, setNaming] = useState<string | undefined>(undefined);
  const [nameProblem, setNameProblem] = useState("");
  const lastSeen = useRef<Map<string, string> | undefined>(undefined);
  const reloading = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const openRef = useRef(open);
  openRef.current = open;
  /** The app lock (loaded before anything is shown) and whether the PIN is asked now. */
  const [lock, setLock] = useState<AppLock | undefined>(undefined);
  const [locked, setLocked] = useState(false);

  useEffect(() => {
    void AppLock.load(store).then((loaded) => {
      setLock(loaded);
      setLocked(loaded.enabled);
    });
  }, []);

  // Back from the background after the chosen time: locked again.
  useEffect(() => {
    if (!lock) return;
    let hiddenAt = 0;
    const changed = () => {
      if (!lock.enabled) return;
      if (document.visibilityState === "hidden") {
        hiddenAt = Date.now();
        if (lock.lockAfter === 0) setLocked(true);
      } else if (hiddenAt > 0 && Date.now() - hiddenAt >= lock.lockAfter) setLocked(true);
    };
    document.addEventListener("visibilitychange", changed);
    return () => document.removeEventListener("visibilitychange", changed);
  }, [lock]);

  /** Forgot the PIN: this browser's device data is deleted; it is linked or enrolled again. */
  const resetBrowser = async () => {
    await client.close().catch(() => undefined);
    store.close();
    await new Promise<void>((done) => {
      const request = indexedDB.deleteDatabase("momedo");
      request.onsuccess = request.onerror = request.onblocked = () => done();
    });
    location.assign("/");
  };

  const named = useMemo(() => names(t, me.user, people ?? [], groups, (user) => client.directChat(user)), [t, people, groups]);
  // The client's listener outlives renders: it reads the current names and language through this.
  const current = useRef({ named, t });
  current.current = { named, t };

  const loadGroups = async () => {
    if (client.connection !== "online") return;
    try {
      setGroups(new Map((await client.groups()).map((g) => [g.group, g])));
    } catch {
      // Offline again: the names come with the next connection.
    }
  };

  const loadPeople = async () => {
    if (client.connection !== "online") return;
    try {
      setPeople((await client.directory()).people);
    } catch {
      // As above.
    }
  };

  const loadChats = async () => {
    const summaries = await store.chats();
    const seen = lastSeen.current;
    const next = new Map<string, string>();
    for (const s of summaries) {
      next.set(s.chat, s.last.id);
      // New from someone else since the last look: say so (the open chat says it itself).
      if (seen && seen.get(s.chat) !== s.last.id && !s.last.outgoing && s.last.fromDevice !== me.device && s.chat !== openRef.current) {
        const { named: now, t: say } = current.current;
        setAnnouncement(say("chat.newMessage", { name: now.person(s.last.from), text: preview(s.last, say) }));
      }
    }
    lastSeen.current = next;
    setRows(summaries.map((s) => ({ chat: s.chat, last: s.last, unread: s.unread })));
  };

  const refresh = () => {
    clearTimeout(reloading.current);
    reloading.current = setTimeout(() => {
      void loadChats();
      setVersion((v) => v + 1);
    }, 30);
  };

  useEffect(() => {
    void loadChats().then(() => performance.mark("momedo:chats-shown"));
    let was = client.connection;
    const stop = client.subscribe(() => {
      setConnection(client.connection);
      setQueued(client.pending.length);
      if (client.lastError) setFailure(client.lastError.message);
      if (client.connection === "online" && was !== "online") {
        void loadGroups();
        void loadPeople();
        // Browsers may renew a push subscription; the server learns the current one at each connection.
        void renewPush(client.messenger).catch(() => undefined);
      }
      was = client.connection;
      refresh();
    });
    void loadGroups();
    void loadPeople();
    // The browser knows first when the network goes and comes back: a socket on a dead network
    // can look open for minutes, so it is closed at once (sends wait in the outbox), and the
    // connection is made again as soon as the network is back, without waiting out the backoff.
    let closing = Promise.resolve();
    const offline = () => {
      setBrowserOffline(true);
      closing = client.close().catch(() => undefined);
    };
    const online = () => {
      setBrowserOffline(false);
      void closing.then(() => client.connect()).catch(() => undefined);
    };
    addEventListener("offline", offline);
    addEventListener("online", online);
    return () => {
      stop();
      removeEventListener("offline", offline);
      removeEventListener("online", online);
    };
  }, []);

  // A group someone else made appears with its first message: fetch its name then (once per group).
  const asked = useRef(new Set<string>());
  useEffect(() => {
    const unknown = (rows ?? []).filter((r) => r.chat.startsWith("g.") && !groups.has(r.chat) && !asked.current.has(r.chat));
    if (unknown.length === 0 || client.connection !== "online") return;
    for (const r of unknown) asked.current.add(r.chat);
    void loadGroups();
  }, [rows, connection]);

  const allRows = useMemo(() => {
    const listed = new Set((rows ?? []).map((r) => r.chat));
    const empty = [...groups.values()].filter((g) => g.kind !== "direct" && !listed.has(g.group)).map((g) => ({ chat: g.group, unread: 0 }));
    return [...(rows ?? []), ...empty];
  }, [rows, groups]);

  const openChat = (chat: string, found?: ChatMessage) => {
    setHit(found);
    setOpen(chat);
    setPanel("chats");
  };

  const created = async (chat: string) => {
    await loadGroups();
    openChat(chat);
  };

  if (!lock) return <p class="muted">{t("chat.loading")}</p>;
  if (locked) return <LockScreen t={t} lock={lock} onUnlocked={() => setLocked(false)} onReset={resetBrowser} />;

  return (
    <div class="app" data-view={open ? "chat" : "list"}>
      <a class="skip" href="#main">
        {t("skip")}
      </a>
      <header class="topbar">
        <h1 class="brand">{t("app.title")}</h1>
        <ConnectionStatus t={t} state={browserOffline ? "offline" : connection} queued={queued} />
        <DevicesButton client={client} t={t} language={props.language} />
        <LanguageSwitch t={t} language={props.language} onSwitch={props.onSwitchLanguage} />
      </header>
      {failure ? (
        <p class="banner problem" role="alert">
          {t("status.failed", { error: failure })}
        </p>
      ) : null}
      <div class="panes">
        <section class="sidebar" aria-labelledby={`panel-${panel}`}>
          {welcome ? (
            <div class="welcome" role="status">
              <p class="welcome-title">{t("welcome", { name: me.name })}</p>
              <p>{props.alreadyEnrolled ? t("join.alreadyEnrolled") : t("welcome.text", { organization: client.engine.identity.organization })}</p>
              {naming === undefined ? (
                <p>
                  {t("name.shown", { name: shownName })}{" "}
                  <button type="button" class="button" onClick={() => setNaming(shownName)}>
                    {t("name.change")}
                  </button>
                </p>
              ) : (
                <form
                  onSubmit={(e) => {
                    e.preventDefault();
                    client
                      .rename(naming)
                      .then((name) => {
                        setShownName(name);
                        setNaming(undefined);
                        setNameProblem("");
                        void loadPeople();
                      })
                      .catch((error: unknown) => setNameProblem(t("name.failed", { error: error instanceof Error ? error.message : String(error) })));
                  }}
                >
                  <label for="display-name">{t("name.label")}</label>{" "}
                  <input id="display-name" type="text" maxLength={100} required value={naming} onInput={(e) => setNaming(e.currentTarget.value)} />{" "}
                  <button type="submit" class="button primary">
                    {t("name.save")}
                  </button>{" "}
                  <button type="button" class="button" onClick={() => setNaming(undefined)}>
                    {t("name.cancel")}
                  </button>
                  {nameProblem ? <p class="problem">{nameProblem}</p> : null}
                </form>
              )}
              <button type="button" class="button" onClick={() => setWelcome(false)}>
                {t("welcome.close")}
              </button>
            </div>
          ) : null}
          {panel === "new" ? (
            <NewChat
              t={t}
              client={client}
              me={me.user}
              people={people}
              online={connection === "online" && !browserOffline}
              onClose={() => setPanel("chats")}
              onPerson={(user) => openChat(client.directChat(user))}
              onCreated={(chat) => void created(chat)}
            />
          ) : panel === "search" ? (
            <SearchPanel t={t} store={store} names={named} language={props.language} onClose={() => setPanel("chats")} onOpen={(m) => openChat(m.chat, m)} />
          ) : (
            <ChatList
              t={t}
              language={props.language}
              rows={rows ? allRows : undefined}
              names={named}
              open={open}
              onOpen={(chat) => openChat(chat)}
              onNew={() => setPanel("new")}
              onSearch={() => setPanel("search")}
            />
          )}
          {panel === "chats" ? (
            <>
              <NotificationsSwitch t={t} messenger={client.messenger} online={connection === "online" && !browserOffline} />
              <AppLockSettings t={t} lock={lock} onLockNow={() => setLocked(true)} />
            </>
          ) : null}
        </section>
        <main class="conversation" id="main" tabIndex={-1}>
          {open ? (
            <Timeline
              key={`${open}:${hit?.id ?? ""}`}
              hit={hit}
              client={client}
              store={store}
              meta={named.chat(open)}
              names={named}
              t={t}
              language={props.language}
              version={version}
              onBack={() => setOpen(undefined)}
              onRead={() => void loadChats()}
              onAnnounce={setAnnouncement}
            />
          ) : (
            <p class="placeholder">{t("chat.noneSelected")}</p>
          )}
        </main>
      </div>
      <div class="sr-only" aria-live="polite" aria-atomic="true">
        {announcement}
      </div>
    </div>
  );
}
