// The momedo admin console: one ES module, no build step, no dependency. The page runs under a
// strict Content-Security-Policy, so every element is built here with the DOM API and every
// style comes from console.css.

const API = "/admin/api";
const LANG_KEY = "momedo.console.lang";
const REFRESH_MS = 30_000;
const MIN_PASSWORD = 10;

const catalogues = {
  de: {
    "app.sub": "Verwaltung",
    "app.title": "momedo – Verwaltung",
    "skip": "Zum Inhalt springen",
    "lang.switch": "English",
    "nav.label": "Bereiche",
    "nav.overview": "Übersicht",
    "nav.people": "Personen",
    "nav.groups": "Gruppen",
    "nav.policy": "Regeln",
    "nav.audit": "Protokoll",
    "nav.security": "Sicherheit",
    "logout": "Abmelden",
    "loggedOut": "Sie sind abgemeldet.",
    "sessionExpired": "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.",
    "error.network": "Der Server ist nicht erreichbar. Bitte prüfen Sie die Verbindung und versuchen Sie es erneut.",
    "error.unknown": "Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.",
    "error.prefix": "Fehler: ",
    "cancel": "Abbrechen",
    "save": "Speichern",
    "copy": "Kopieren",
    "copied": "In die Zwischenablage kopiert.",
    "copyFailed": "Kopieren ging nicht. Der Text ist markiert – kopieren Sie ihn mit Strg+C.",
    "none": "–",
    "required": "Bitte ausfüllen.",
    "password.short": "Das Passwort braucht mindestens {n} Zeichen.",
    "password.mismatch": "Die beiden Passwörter sind nicht gleich.",
    "password.hint": "Mindestens {n} Zeichen. Ein Satz, den Sie sich merken können, ist ideal.",

    "setup.title": "momedo einrichten",
    "setup.intro": "Willkommen! Geben Sie den Namen Ihrer Schule oder Gemeinde ein und legen Sie das Passwort für die Verwaltung fest. Nur wer dieses Passwort kennt, kann Personen hinzufügen oder entfernen.",
    "setup.org": "Name der Organisation",
    "setup.orgHint": "Zum Beispiel „Gesamtschule Nord“ oder „Gemeinde Lindenau“. Er steht auf den Handouts.",
    "setup.password": "Passwort für die Verwaltung",
    "setup.repeat": "Passwort wiederholen",
    "setup.submit": "Einrichten und anmelden",
    "setup.done": "Eingerichtet. Sie sind angemeldet.",
    "setup.noCode": "Für die Einrichtung brauchen Sie den Einrichtungs-Link. Der Server zeigt ihn beim Start an. Sie können auch auf dem Server diesen Befehl ausführen:",
    "setup.title.missing": "Einrichtungs-Link fehlt",

    "login.title": "Anmelden",
    "login.intro": "Melden Sie sich mit dem Passwort der Verwaltung an.",
    "login.password": "Passwort",
    "login.totp": "Code aus der Authenticator-App",
    "login.totpHint": "6 Ziffern. Der Code wechselt alle 30 Sekunden.",
    "login.submit": "Anmelden",
    "login.forgot": "Passwort vergessen? Auf dem Server erstellt dieser Befehl einen neuen Einrichtungs-Link:",

    "overview.title": "Übersicht",
    "overview.people": "Personen",
    "overview.devices": "Geräte",
    "overview.connected": "Jetzt verbunden",
    "overview.backlog": "Wartende Nachrichten",
    "overview.backlogHint": "noch nicht abgeholt",
    "overview.storage": "Speicher belegt",
    "overview.messages": "Nachrichten pro Stunde",
    "overview.connectedChart": "Verbundene Geräte pro Stunde (Höchstwert)",
    "overview.last48": "Letzte 48 Stunden",
    "overview.updated": "Stand: {time}. Wird alle 30 Sekunden aktualisiert.",
    "overview.table": "Werte als Tabelle",
    "overview.tableCaption": "Nachrichten und verbundene Geräte pro Stunde, letzte 48 Stunden",
    "overview.hour": "Stunde",
    "overview.messagesShort": "Nachrichten",
    "overview.connectedShort": "Verbundene Geräte",
    "overview.chartSummaryMessages": "Nachrichten pro Stunde in den letzten 48 Stunden: zusammen {total}, am meisten {max} (Stunde ab {at}).",
    "overview.chartSummaryConnected": "Verbundene Geräte pro Stunde in den letzten 48 Stunden: höchstens {max} (Stunde ab {at}), zuletzt {last}.",
    "overview.chartEmpty": "In den letzten 48 Stunden gab es keine Werte.",
    "overview.hourLabel": "{h} Uhr",

    "people.title": "Personen",
    "people.count": "{people}, {devices}",
    "n.people.one": "1 Person",
    "n.people": "{n} Personen",
    "n.devices.one": "1 Gerät",
    "n.devices": "{n} Geräte",
    "people.add": "Eine Person hinzufügen",
    "people.name": "Name",
    "people.role": "Rolle",
    "people.class": "Klasse",
    "people.classHint": "Zum Beispiel 7b. Leer lassen, wenn die Person zu keiner Klasse gehört.",
    "people.addSubmit": "Hinzufügen und Einladung erstellen",
    "people.added": "{name} wurde hinzugefügt.",
    "people.invite": "Einladung für {name}",
    "people.inviteHint": "Geben Sie diesen Link nur dieser Person. Er gilt für ein Gerät. Auf einem Handout (PDF) steht er zusätzlich als QR-Code.",
    "people.inviteLabel": "Einladungs-Link",
    "people.inviteVoid": "Frühere, noch nicht benutzte Einladungen von {name} gelten ab jetzt nicht mehr.",
    "people.import": "Klassenliste importieren (CSV)",
    "people.importIntro": "Eine Tabelle mit den Spalten name, klasse und rolle (Schüler, Lehrer oder Mitglied), als CSV gespeichert, zum Beispiel aus Excel oder dem Schulverwaltungsprogramm. Eine Person je Zeile.",
    "people.importFile": "CSV-Datei auswählen",
    "people.importPaste": "… oder Liste hier einfügen",
    "people.importPreview": "Vorschau anzeigen",
    "people.importEmpty": "Bitte wählen Sie eine Datei oder fügen Sie eine Liste ein.",
    "people.previewCaption": "Vorschau: {valid} in Ordnung, {invalid} mit Fehlern",
    "n.rows.one": "1 Zeile",
    "n.rows": "{n} Zeilen",
    "people.previewLine": "Zeile",
    "people.previewCheck": "Prüfung",
    "people.previewOk": "in Ordnung",
    "people.previewErrors": "Diese Zeilen werden nicht importiert:",
    "people.previewErrorLine": "Zeile {line}: {error}",
    "people.previewFix": "Sie können die Liste korrigieren und die Vorschau erneut anzeigen, oder nur die gültigen Zeilen importieren.",
    "people.importCommit": "{n} Personen importieren",
    "people.importCommitOne": "1 Person importieren",
    "people.importNone": "Keine Zeile ist gültig. Bitte korrigieren Sie die Liste.",
    "people.imported": "Importiert: {people}.",
    "people.skipped": "Ausgelassen wegen Fehlern: Zeile {lines}.",
    "people.importedNext": "Nächster Schritt: Handouts drucken und austeilen. Jedes Handout enthält den persönlichen QR-Code.",
    "people.handouts": "Handouts nach Klasse",
    "people.handoutsIntro": "Ein PDF mit einer Seite je Person: Name, QR-Code, Einladungs-Link und drei Schritte zum Mitmachen.",
    "people.handoutsWarn": "Achtung: Jeder Download erstellt neue Einladungen. Ältere, noch nicht benutzte Einladungen dieser Personen gelten dann nicht mehr – teilen Sie nur die zuletzt geladenen Handouts aus.",
    "people.handoutsButton": "Handouts (PDF) für {class}",
    "people.handoutsNone": "Noch keine Klasse. Geben Sie Personen eine Klasse, um Handouts je Klasse zu erstellen.",
    "people.handoutsLoading": "Handouts für {class} werden erstellt …",
    "people.handoutsDone": "Handouts für {class} heruntergeladen ({n} KB).",
    "people.list": "Liste der Personen",
    "people.filter": "Nach Klasse filtern",
    "people.filterAll": "Alle Klassen",
    "people.filterNoClass": "Ohne Klasse",
    "people.tableCaption": "Alle Personen ({n})",
    "people.tableCaptionClass": "Klasse {class} ({n})",
    "people.id": "ID",
    "people.devices": "Geräte",
    "people.groups": "Gruppen",
    "people.actions": "Aktionen",
    "people.noDevices": "noch kein Gerät angemeldet",
    "people.device": "Gerät",
    "people.fingerprint": "Schlüssel",
    "people.lastSeen": "zuletzt online {time}",
    "people.neverSeen": "noch nie online",
    "people.revoked": "gesperrt",
    "people.revoke": "Gerät sperren",
    "people.revokeLabel": "Gerät {device} von {name} sperren",
    "people.revokeTitle": "Gerät sperren?",
    "people.revokeText": "Das Gerät {device} von {name} kann danach keine Nachrichten mehr senden oder empfangen. Das lässt sich nicht rückgängig machen; die Person kann sich mit einer neuen Einladung wieder anmelden.",
    "people.revoked.done": "Das Gerät wurde gesperrt.",
    "people.newInvite": "Neue Einladung",
    "people.newInviteLabel": "Neue Einladung für {name}",
    "people.remove": "Entfernen",
    "people.removeLabel": "{name} entfernen",
    "people.removeTitle": "Person entfernen?",
    "people.removeText": "{name} ({id}) wird mit allen Geräten entfernt und kann momedo auf diesem Server nicht mehr nutzen. Das lässt sich nicht rückgängig machen.",
    "people.removed": "{name} wurde entfernt.",
    "people.empty": "Noch niemand. Fügen Sie eine Person hinzu oder importieren Sie eine Klassenliste.",
    "people.emptyFilter": "In dieser Klasse ist niemand.",
    "role.pupil": "Schüler/in",
    "role.staff": "Lehrkraft / Personal",
    "role.member": "Mitglied",
    "role.bot": "Bot (Programm)",
    "kind.group": "Gruppe",
    "kind.channel": "Kanal",
    "kind.direct": "Direktchat",
    "grouprole.admin": "Admin",
    "grouprole.member": "Mitglied",
    "grouprole.owner": "Inhaber/in",

    "groups.title": "Gruppen und Kanäle",
    "groups.intro": "Welche Gruppen und Kanäle es gibt und wer darin ist. Die Inhalte sind Ende-zu-Ende-verschlüsselt; der Server und die Verwaltung können sie nicht lesen. Direktchats zwischen zwei Personen werden hier nicht gezeigt.",
    "groups.caption": "Gruppen und Kanäle ({n})",
    "groups.name": "Name",
    "groups.kind": "Art",
    "groups.members": "Mitglieder und Rollen",
    "groups.status": "Stand",
    "groups.plan": "Gruppe oder Kanal planen",
    "groups.planIntro": "Zum Beispiel ein Kanal für jede Klasse. Der Server kann eine verschlüsselte Gruppe nicht selbst anlegen: Das Gerät der Inhaberin oder des Inhabers legt sie bei der nächsten Anmeldung an und nimmt alle auf, die schon ein Gerät haben. Die anderen kommen dazu, sobald sie sich angemeldet haben.",
    "groups.channelText": "Nur Inhaber/in und Admins schreiben, alle lesen. Für Ankündigungen.",
    "groups.groupText": "Alle Mitglieder schreiben. Für Zusammenarbeit.",
    "groups.owner": "Inhaber/in",
    "groups.ownerHint": "Legt die Gruppe mit dem eigenen Gerät an und verwaltet sie.",
    "groups.ownerChoose": "Bitte wählen …",
    "groups.ownerMissing": "Bitte wählen Sie, wem die Gruppe gehört.",
    "groups.class": "Mitglieder: eine Klasse",
    "groups.classHint": "Alle Personen dieser Klasse werden Mitglied.",
    "groups.classNone": "keine Klasse",
    "groups.planSubmit": "Planen",
    "groups.planned.done": "„{name}“ ist geplant.",
    "groups.active": "aktiv",
    "groups.activeDevices": "aktiv, {devices}",
    "groups.planned": "geplant – entsteht, sobald {owner} sich anmeldet",
    "groups.waiting": "Kommen dazu, sobald sie ein Gerät angemeldet haben:",
    "groups.waitingCount": "{people} kommen dazu, sobald sie ein Gerät angemeldet haben",
    "groups.plannedMembers": "Dazu kommen:",
    "groups.plannedMembersCount": "Dazu kommen {people}",
    "groups.empty": "Noch keine Gruppe oder kein Kanal.",
    "groups.unnamed": "(ohne Namen)",

    "policy.title": "Regeln für Kontakte",
    "policy.intro": "Wer wen im Verzeichnis sieht und anschreiben darf. Der Server setzt diese Regel durch, nicht die App.",
    "policy.legend": "Verzeichnis",
    "policy.open": "Offen",
    "policy.openText": "Alle sehen alle und können alle anschreiben. Passend für eine Gemeinde, einen Verein oder ein Kollegium.",
    "policy.school": "Schule",
    "policy.schoolText": "Lehrkräfte, Personal und Mitglieder sehen alle und können alle anschreiben. Schülerinnen und Schüler sehen und erreichen nur Lehrkräfte, Personal, Mitglieder und die eigene Klasse.",
    "policy.note": "Bestehende Unterhaltungen bleiben bestehen, wenn Sie die Regel ändern.",
    "policy.saved": "Die Regel wurde gespeichert.",

    "audit.title": "Protokoll",
    "audit.intro": "Jede Änderung in der Verwaltung, über diese Seite oder die Kommandozeile des Servers. Die neuesten zuerst.",
    "audit.caption": "Letzte Änderungen ({n})",
    "audit.at": "Zeit",
    "audit.actor": "Durch",
    "audit.action": "Aktion",
    "audit.detail": "Einzelheiten",
    "audit.empty": "Noch keine Einträge.",
    "actor.console": "Verwaltungsseite",
    "actor.cli": "Kommandozeile",
    "action.setup": "Eingerichtet",
    "action.login": "Angemeldet",
    "action.change-password": "Passwort geändert",
    "action.totp-on": "Zweiter Faktor eingeschaltet",
    "action.totp-off": "Zweiter Faktor ausgeschaltet",
    "action.add-person": "Person hinzugefügt",
    "action.new-invite": "Neue Einladung",
    "action.remove-person": "Person entfernt",
    "action.revoke-device": "Gerät gesperrt",
    "action.set-policy": "Regel geändert",
    "action.handouts": "Handouts erstellt",
    "action.import": "Liste importiert",
    "action.plan-group": "Gruppe geplant",

    "security.title": "Sicherheit",
    "security.password": "Passwort ändern",
    "security.current": "Jetziges Passwort",
    "security.new": "Neues Passwort",
    "security.repeat": "Neues Passwort wiederholen",
    "security.passwordSubmit": "Passwort ändern",
    "security.passwordDone": "Das Passwort wurde geändert.",
    "security.totp": "Zweiter Faktor (Authenticator-App)",
    "security.totpOffText": "Zusätzlich zum Passwort wird bei der Anmeldung ein Code aus einer App abgefragt (zum Beispiel FreeOTP, Aegis oder Google Authenticator). So reicht ein erratenes Passwort nicht.",
    "security.totpOnText": "Der zweite Faktor ist eingeschaltet. Bei der Anmeldung wird ein Code aus der Authenticator-App abgefragt.",
    "security.totpBegin": "Zweiten Faktor einschalten",
    "security.totpScan": "Scannen Sie den QR-Code mit der Authenticator-App, oder geben Sie den Schlüssel von Hand ein. Geben Sie dann den Code ein, den die App zeigt.",
    "security.totpQr": "QR-Code für die Authenticator-App",
    "security.totpSecret": "Schlüssel zum Eintippen",
    "security.totpCode": "Code aus der App",
    "security.totpConfirm": "Bestätigen und einschalten",
    "security.totpOn": "Der zweite Faktor ist eingeschaltet.",
    "security.totpOffCode": "Code aus der App, zum Ausschalten",
    "security.totpOff": "Zweiten Faktor ausschalten",
    "security.totpOffDone": "Der zweite Faktor ist ausgeschaltet.",
    "security.codeFormat": "Bitte die 6 Ziffern aus der App eingeben.",
  },
  en: {
    "app.sub": "Administration",
    "app.title": "momedo – Administration",
    "skip": "Skip to content",
    "lang.switch": "Deutsch",
    "nav.label": "Sections",
    "nav.overview": "Overview",
    "nav.people": "People",
    "nav.groups": "Groups",
    "nav.policy": "Policy",
    "nav.audit": "Audit log",
    "nav.security": "Security",
    "logout": "Log out",
    "loggedOut": "You are logged out.",
    "sessionExpired": "Your session has expired. Please log in again.",
    "error.network": "The server cannot be reached. Please check the connection and try again.",
    "error.unknown": "Something went wrong. Please try again.",
    "error.prefix": "Error: ",
    "cancel": "Cancel",
    "save": "Save",
    "copy": "Copy",
    "copied": "Copied to the clipboard.",
    "copyFailed": "Copying did not work. The text is selected – copy it with Ctrl+C.",
    "none": "–",
    "required": "Please fill in.",
    "password.short": "The password needs at least {n} characters.",
    "password.mismatch": "The two passwords are not the same.",
    "password.hint": "At least {n} characters. A sentence you can remember is ideal.",

    "setup.title": "Set up momedo",
    "setup.intro": "Welcome! Enter the name of your school or town and choose the password for the administration. Only someone who knows this password can add or remove people.",
    "setup.org": "Name of the organisation",
    "setup.orgHint": "For example “Northside Comprehensive” or “Town of Lindenau”. It is printed on the handouts.",
    "setup.password": "Administration password",
    "setup.repeat": "Repeat the password",
    "setup.submit": "Set up and log in",
    "setup.done": "Set up. You are logged in.",
    "setup.noCode": "Setting up needs the set-up link. The server prints it when it starts. You can also run this command on the server:",
    "setup.title.missing": "Set-up link missing",

    "login.title": "Log in",
    "login.intro": "Log in with the administration password.",
    "login.password": "Password",
    "login.totp": "Code from the authenticator app",
    "login.totpHint": "6 digits. The code changes every 30 seconds.",
    "login.submit": "Log in",
    "login.forgot": "Forgot the password? On the server, this command makes a new set-up link:",

    "overview.title": "Overview",
    "overview.people": "People",
    "overview.devices": "Devices",
    "overview.connected": "Connected now",
    "overview.backlog": "Waiting messages",
    "overview.backlogHint": "not yet picked up",
    "overview.storage": "Storage used",
    "overview.messages": "Messages per hour",
    "overview.connectedChart": "Connected devices per hour (peak)",
    "overview.last48": "Last 48 hours",
    "overview.updated": "As of {time}. Refreshes every 30 seconds.",
    "overview.table": "Figures as a table",
    "overview.tableCaption": "Messages and connected devices per hour, last 48 hours",
    "overview.hour": "Hour",
    "overview.messagesShort": "Messages",
    "overview.connectedShort": "Connected devices",
    "overview.chartSummaryMessages": "Messages per hour in the last 48 hours: {total} in total, at most {max} (hour from {at}).",
    "overview.chartSummaryConnected": "Connected devices per hour in the last 48 hours: at most {max} (hour from {at}), latest {last}.",
    "overview.chartEmpty": "No figures in the last 48 hours.",
    "overview.hourLabel": "{hh}:00",

    "people.title": "People",
    "people.count": "{people}, {devices}",
    "n.people.one": "1 person",
    "n.people": "{n} people",
    "n.devices.one": "1 device",
    "n.devices": "{n} devices",
    "people.add": "Add one person",
    "people.name": "Name",
    "people.role": "Role",
    "people.class": "Class",
    "people.classHint": "For example 7b. Leave empty if the person belongs to no class.",
    "people.addSubmit": "Add and create an invite",
    "people.added": "{name} was added.",
    "people.invite": "Invite for {name}",
    "people.inviteHint": "Give this link only to this person. It is good for one device. A handout (PDF) also shows it as a QR code.",
    "people.inviteLabel": "Invite link",
    "people.inviteVoid": "Earlier unused invites of {name} no longer work from now on.",
    "people.import": "Import a class list (CSV)",
    "people.importIntro": "A table with the columns name, class and role (pupil, teacher or member), saved as CSV, for example from Excel or the school's management software. One person per line.",
    "people.importFile": "Choose a CSV file",
    "people.importPaste": "… or paste the list here",
    "people.importPreview": "Show preview",
    "people.importEmpty": "Please choose a file or paste a list.",
    "people.previewCaption": "Preview: {valid} fine, {invalid} with errors",
    "n.rows.one": "1 row",
    "n.rows": "{n} rows",
    "people.previewLine": "Line",
    "people.previewCheck": "Check",
    "people.previewOk": "fine",
    "people.previewErrors": "These rows will not be imported:",
    "people.previewErrorLine": "Line {line}: {error}",
    "people.previewFix": "You can correct the list and show the preview again, or import only the valid rows.",
    "people.importCommit": "Import {n} people",
    "people.importCommitOne": "Import 1 person",
    "people.importNone": "No row is valid. Please correct the list.",
    "people.imported": "Imported: {people}.",
    "people.skipped": "Skipped because of errors: line {lines}.",
    "people.importedNext": "Next step: print the handouts and hand them out. Each handout carries the personal QR code.",
    "people.handouts": "Handouts by class",
    "people.handoutsIntro": "A PDF with one page per person: name, QR code, invite link and three steps to join.",
    "people.handoutsWarn": "Note: every download creates new invites. Older unused invites of these people stop working – hand out only the handouts downloaded last.",
    "people.handoutsButton": "Handouts (PDF) for {class}",
    "people.handoutsNone": "No class yet. Give people a class to make handouts per class.",
    "people.handoutsLoading": "Creating the handouts for {class} …",
    "people.handoutsDone": "Handouts for {class} downloaded ({n} KB).",
    "people.list": "List of people",
    "people.filter": "Filter by class",
    "people.filterAll": "All classes",
    "people.filterNoClass": "No class",
    "people.tableCaption": "Everyone ({n})",
    "people.tableCaptionClass": "Class {class} ({n})",
    "people.id": "ID",
    "people.devices": "Devices",
    "people.groups": "Groups",
    "people.actions": "Actions",
    "people.noDevices": "no device enrolled yet",
    "people.device": "Device",
    "people.fingerprint": "Key",
    "people.lastSeen": "last seen {time}",
    "people.neverSeen": "never seen",
    "people.revoked": "revoked",
    "people.revoke": "Revoke device",
    "people.revokeLabel": "Revoke device {device} of {name}",
    "people.revokeTitle": "Revoke the device?",
    "people.revokeText": "Device {device} of {name} will no longer send or receive messages. This cannot be undone; the person can enroll again with a new invite.",
    "people.revoked.done": "The device was revoked.",
    "people.newInvite": "New invite",
    "people.newInviteLabel": "New invite for {name}",
    "people.remove": "Remove",
    "people.removeLabel": "Remove {name}",
    "people.removeTitle": "Remove the person?",
    "people.removeText": "{name} ({id}) is removed with all devices and can no longer use momedo on this server. This cannot be undone.",
    "people.removed": "{name} was removed.",
    "people.empty": "Nobody yet. Add a person or import a class list.",
    "people.emptyFilter": "Nobody in this class.",
    "role.pupil": "Pupil",
    "role.staff": "Teacher / staff",
    "role.member": "Member",
    "role.bot": "Bot (program)",
    "kind.group": "Group",
    "kind.channel": "Channel",
    "kind.direct": "Direct chat",
    "grouprole.admin": "admin",
    "grouprole.member": "member",
    "grouprole.owner": "owner",

    "groups.title": "Groups and channels",
    "groups.intro": "Which groups and channels exist and who is in them. Their contents are end-to-end encrypted; neither the server nor the administration can read them. Direct chats between two people are not shown here.",
    "groups.caption": "Groups and channels ({n})",
    "groups.name": "Name",
    "groups.kind": "Kind",
    "groups.members": "Members and roles",
    "groups.status": "State",
    "groups.plan": "Plan a group or channel",
    "groups.planIntro": "For example one channel per class. The server cannot create an encrypted group itself: the owner's device creates it at its next sign-in, with everyone who already has a device. The others join once they have enrolled.",
    "groups.channelText": "Only the owner and admins write, everyone reads. For announcements.",
    "groups.groupText": "All members write. For working together.",
    "groups.owner": "Owner",
    "groups.ownerHint": "Creates the group with their own device and manages it.",
    "groups.ownerChoose": "Please choose …",
    "groups.ownerMissing": "Please choose who owns the group.",
    "groups.class": "Members: a class",
    "groups.classHint": "Everyone in this class becomes a member.",
    "groups.classNone": "no class",
    "groups.planSubmit": "Plan",
    "groups.planned.done": "“{name}” is planned.",
    "groups.active": "active",
    "groups.activeDevices": "active, {devices}",
    "groups.planned": "planned – created once {owner} enrolls",
    "groups.waiting": "Join once they have enrolled a device:",
    "groups.waitingCount": "{people} join once they have enrolled a device",
    "groups.plannedMembers": "Joining:",
    "groups.plannedMembersCount": "{people} joining",
    "groups.empty": "No group or channel yet.",
    "groups.unnamed": "(no name)",

    "policy.title": "Contact policy",
    "policy.intro": "Who sees whom in the directory and may write to whom. The server enforces this policy, not the app.",
    "policy.legend": "Directory",
    "policy.open": "Open",
    "policy.openText": "Everyone sees everyone and can write to everyone. Suits a town, a club or a staff room.",
    "policy.school": "School",
    "policy.schoolText": "Teachers, staff and members see everyone and can write to everyone. Pupils see and reach only teachers, staff, members and their own class.",
    "policy.note": "Existing conversations stay when you change the policy.",
    "policy.saved": "The policy was saved.",

    "audit.title": "Audit log",
    "audit.intro": "Every change to the administration, through this console or the server's command line. Newest first.",
    "audit.caption": "Recent changes ({n})",
    "audit.at": "Time",
    "audit.actor": "By",
    "audit.action": "Action",
    "audit.detail": "Details",
    "audit.empty": "No entries yet.",
    "actor.console": "Console",
    "actor.cli": "Command line",
    "action.setup": "Set up",
    "action.login": "Logged in",
    "action.change-password": "Password changed",
    "action.totp-on": "Second factor on",
    "action.totp-off": "Second factor off",
    "action.add-person": "Person added",
    "action.new-invite": "New invite",
    "action.remove-person": "Person removed",
    "action.revoke-device": "Device revoked",
    "action.set-policy": "Policy changed",
    "action.handouts": "Handouts made",
    "action.import": "List imported",
    "action.plan-group": "Group planned",

    "security.title": "Security",
    "security.password": "Change the password",
    "security.current": "Current password",
    "security.new": "New password",
    "security.repeat": "Repeat the new password",
    "security.passwordSubmit": "Change the password",
    "security.passwordDone": "The password was changed.",
    "security.totp": "Second factor (authenticator app)",
    "security.totpOffText": "Besides the password, logging in asks for a code from an app (for example FreeOTP, Aegis or Google Authenticator). Then a guessed password is not enough.",
    "security.totpOnText": "The second factor is on. Logging in asks for a code from the authenticator app.",
    "security.totpBegin": "Switch on the second factor",
    "security.totpScan": "Scan the QR code with the authenticator app, or type in the key. Then enter the code the app shows.",
    "security.totpQr": "QR code for the authenticator app",
    "security.totpSecret": "Key to type in",
    "security.totpCode": "Code from the app",
    "security.totpConfirm": "Confirm and switch on",
    "security.totpOn": "The second factor is on.",
    "security.totpOffCode": "Code from the app, to switch off",
    "security.totpOff": "Switch off the second factor",
    "security.totpOffDone": "The second factor is off.",
    "security.codeFormat": "Please enter the 6 digits from the app.",
  },
};

let lang = localStorage.getItem(LANG_KEY) === "en" ? "en" : "de";

/** A count with its noun: "1 Person", "28 Personen". */
function count(noun, n) {
  return t(n === 1 ? `n.${noun}.one` : `n.${noun}`, { n: number(n) });
}

function t(key, vars = {}) {
  const text = catalogues[lang][key] ?? catalogues.de[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** The API's messages read "German / English"; show the half in the chosen language. */
function localMessage(message) {
  const parts = String(message ?? "").split(" / ");
  if (parts.length === 2) return (lang === "de" ? parts[0] : parts[1]).trim();
  return String(message ?? "");
}

// ---------------------------------------------------------------- DOM building

function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  applyProps(node, props);
  append(node, children);
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

function applyProps(node, props) {
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
}

const $ = (id) => document.getElementById(id);

let fieldCount = 0;
/** A labelled form field with an optional hint and a slot for its error message. */
function field(label, control, hint) {
  const id = control.id || `f${++fieldCount}`;
  control.id = id;
  const hintNode = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  control.setAttribute("aria-describedby", [hintNode?.id, error.id].filter(Boolean).join(" "));
  return h("div", { class: "field" }, h("label", { for: id, text: label }), hintNode, control, error);
}

function setFieldError(control, message) {
  const error = $(`${control.id}-error`);
  if (message) {
    control.setAttribute("aria-invalid", "true");
    error.textContent = message;
    error.hidden = false;
  } else {
    control.removeAttribute("aria-invalid");
    error.textContent = "";
    error.hidden = true;
  }
}

/** Checks the fields in order; marks each failing one and focuses the first. */
function validate(checks) {
  let first = null;
  for (const [control, message] of checks) {
    setFieldError(control, message || null);
    if (message && !first) first = control;
  }
  first?.focus();
  return first === null;
}

// ---------------------------------------------------------------- status messages

function announce(text) {
  $("alert").textContent = "";
  $("status").textContent = text;
}

function showError(error) {
  $("status").textContent = "";
  const message = error instanceof ApiError ? error.message : t("error.unknown");
  $("alert").textContent = "";
  // A fresh text node each time, so a repeated error is read out again.
  setTimeout(() => ($("alert").textContent = t("error.prefix") + message), 50);
}

function clearMessages() {
  $("status").textContent = "";
  $("alert").textContent = "";
}

// ---------------------------------------------------------------- API

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const state = { session: null, setupCode: null, refresh: null, redrawOverview: null, returnTo: null, filter: "", totpAsked: false };

async function request(path, { method = "GET", body } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (method !== "GET") {
    init.headers["Content-Type"] = "application/json";
    if (state.session?.csrf) init.headers["X-CSRF-Token"] = state.session.csrf;
    init.body = JSON.stringify(body ?? {});
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, "network", t("error.network"));
  }
  if (response.ok) return response;
  const data = await response.json().catch(() => null);
  const error = new ApiError(response.status, data?.code ?? `http_${response.status}`, errorText(data));
  if (error.code === "admin_auth" && state.session?.loggedIn) {
    state.session = { ...state.session, loggedIn: false, csrf: undefined };
    state.returnTo = currentSection();
    history.replaceState(null, "", "#login");
    route().then(() => announce(t("sessionExpired")));
  }
  throw error;
}

/** The server's message in the chosen language, with its detail when that is a sentence. */
function errorText(data) {
  if (!data?.message) return t("error.unknown");
  const detail = typeof data.detail === "string" && /\s/.test(data.detail) ? ` (${localMessage(data.detail)})` : "";
  return localMessage(data.message) + detail;
}

async function api(path, options) {
  const response = await request(path, options);
  const type = response.headers.get("Content-Type") ?? "";
  return type.includes("json") ? response.json() : null;
}

async function loadSession() {
  state.session = await api("/session");
  renderChrome();
  return state.session;
}

// ---------------------------------------------------------------- formatting

const locale = () => (lang === "de" ? "de-DE" : "en-GB");
const number = (n) => new Intl.NumberFormat(locale()).format(Number(n ?? 0));

/** The API's times are milliseconds since 1970. */
function toDate(value) {
  if (value === null || value === undefined || value === "") return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

function dateTime(value) {
  const date = toDate(value);
  if (!date) return t("none");
  return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

function bytes(n) {
  const units = lang === "de" ? ["Bytes", "KB", "MB", "GB", "TB"] : ["bytes", "KB", "MB", "GB", "TB"];
  let value = Number(n ?? 0);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** A key fingerprint in groups of four, so it can be read out and compared on the phone. */
function groupedFingerprint(fp) {
  const text = String(fp ?? "");
  return text.includes(" ") ? text : (text.match(/.{1,4}/g) ?? []).join(" ");
}

const labelOr = (key, fallback) => (catalogues[lang][key] ? t(key) : String(fallback ?? ""));
const roleLabel = (role) => (catalogues[lang][`role.${role}`] ? t(`role.${role}`) : String(role ?? t("none")));
const kindLabel = (kind) => (catalogues[lang][`kind.${kind}`] ? t(`kind.${kind}`) : String(kind ?? ""));
const groupRoleLabel = (role) => (catalogues[lang][`grouprole.${role}`] ? t(`grouprole.${role}`) : String(role ?? ""));

// ---------------------------------------------------------------- chrome and routing

const SECTIONS = ["overview", "people", "groups", "policy", "audit", "security"];

function renderChrome() {
  document.documentElement.lang = lang;
  document.title = t("app.title");
  $("skip").textContent = t("skip");
  $("brand-sub").textContent = t("app.sub");
  $("lang").textContent = t("lang.switch");
  $("lang").lang = lang === "de" ? "en" : "de";
  $("logout").textContent = t("logout");
  const loggedIn = Boolean(state.session?.loggedIn);
  $("logout").hidden = !loggedIn;
  // Before set-up the name is only the default; it means nothing yet.
  $("org").textContent = state.session && !state.session.setupNeeded ? (state.session.organization ?? "") : "";
  $("nav").hidden = !loggedIn;
  $("nav").setAttribute("aria-label", t("nav.label"));
  const current = currentSection();
  $("nav-list").replaceChildren(
    ...SECTIONS.map((name) =>
      h(
        "li",
        {},
        h("a", {
          href: `#${name}`,
          text: t(`nav.${name}`),
          "aria-current": name === current ? "page" : undefined,
          // The link of the open page reloads it (no hashchange fires).
          onclick: () => name === currentSection() && route(),
        }),
      ),
    ),
  );
}

function currentSection() {
  const name = location.hash.slice(1);
  return SECTIONS.includes(name) ? name : "overview";
}

/** Replaces the view and moves focus to its heading, so a screen reader hears where it is. */
function show(title, ...content) {
  const heading = h("h1", { tabindex: "-1", text: title });
  $("view").replaceChildren(heading, ...content);
  heading.focus({ preventScroll: true });
  window.scrollTo(0, 0);
  return heading;
}

let routing = Promise.resolve();
function route() {
  routing = routing.then(routeNow, routeNow);
  return routing;
}

async function routeNow() {
  clearInterval(state.refresh);
  state.refresh = null;
  const hash = location.hash.slice(1);
  if (hash.startsWith("setup=")) {
    // The code leaves the address bar at once: it should not stay in history or on screen.
    state.setupCode = decodeURIComponent(hash.slice("setup=".length));
    history.replaceState(null, "", "#setup");
  }
  let session = state.session;
  try {
    if (!session) session = await loadSession();
  } catch (error) {
    show(t("app.title"));
    showError(error);
    return;
  }
  if (state.setupCode || session.setupNeeded) {
    if (state.setupCode) return setupView();
    return setupMissingView();
  }
  if (!session.loggedIn) return loginView();
  if (hash === "login" || hash === "setup" || hash === "") {
    history.replaceState(null, "", "#overview");
  }
  renderChrome();
  const section = currentSection();
  const views = { overview: overviewView, people: peopleView, groups: groupsView, policy: policyView, audit: auditView, security: securityView };
  try {
    await views[section]();
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "admin_auth")) showError(error);
  }
}

// ---------------------------------------------------------------- set-up and login

function setupView() {
  renderChrome();
  const org = h("input", { type: "text", name: "organization", autocomplete: "organization", required: true, maxlength: "120", value: state.session?.setupNeeded ? "" : (state.session?.organization ?? "") });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: String(MIN_PASSWORD) });
  const repeat = h("input", { type: "password", name: "repeat", autocomplete: "new-password", required: true, minlength: String(MIN_PASSWORD) });
  const submit = h("button", { type: "submit", class: "primary", text: t("setup.submit") });
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    usernameField(),
    field(t("setup.org"), org, t("setup.orgHint")),
    field(t("setup.password"), password, t("password.hint", { n: MIN_PASSWORD })),
    field(t("setup.repeat"), repeat),
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = validate([
      [org, org.value.trim() ? "" : t("required")],
      [password, password.value.length >= MIN_PASSWORD ? "" : t("password.short", { n: MIN_PASSWORD })],
      [repeat, repeat.value === password.value ? "" : t("password.mismatch")],
    ]);
    if (!ok) return;
    await busy(submit, async () => {
      await api("/setup", { method: "POST", body: { code: state.setupCode, organization: org.value.trim(), password: password.value } });
      state.setupCode = null;
      await loadSession();
      history.replaceState(null, "", "#overview");
      await route();
      announce(t("setup.done"));
    });
  });
  show(t("setup.title"), h("p", { class: "lead", text: t("setup.intro") }), form);
}

function setupMissingView() {
  renderChrome();
  show(
    t("setup.title.missing"),
    h("div", { class: "card narrow" }, h("p", { text: t("setup.noCode") }), h("pre", { class: "command" }, h("code", { text: "momedo-server admin setup-link" }))),
  );
}

function loginView() {
  renderChrome();
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const totp = h("input", { type: "text", name: "totp", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6" });
  const askTotp = Boolean(state.totpAsked || state.session?.totp);
  const totpField = field(t("login.totp"), totp, t("login.totpHint"));
  totpField.hidden = !askTotp;
  const submit = h("button", { type: "submit", class: "primary", text: t("login.submit") });
  const form = h("form", { class: "card narrow", novalidate: true }, usernameField(), field(t("login.password"), password), totpField, h("div", { class: "buttons" }, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const checks = [[password, password.value ? "" : t("required")]];
    if (!totpField.hidden) checks.push([totp, /^\d{6}$/.test(totp.value.trim()) ? "" : t("security.codeFormat")]);
    if (!validate(checks)) return;
    const body = { password: password.value };
    if (!totpField.hidden) body.totp = totp.value.trim();
    try {
      submit.disabled = true;
      await api("/login", { method: "POST", body });
      state.totpAsked = false;
      await loadSession();
      // Back to where an expired session interrupted the work.
      if (location.hash === "#login" || !SECTIONS.includes(location.hash.slice(1))) history.replaceState(null, "", `#${state.returnTo ?? "overview"}`);
      state.returnTo = null;
      clearMessages();
      await route();
    } catch (error) {
      if (error instanceof ApiError && /totp/.test(error.code) && totpField.hidden) {
        // The server wants the second factor: show its field and let the person type the code.
        state.totpAsked = true;
        totpField.hidden = false;
        totp.focus();
      }
      showError(error);
    } finally {
      submit.disabled = false;
    }
  });
  show(
    t("login.title"),
    h("p", { class: "lead", text: t("login.intro") }),
    form,
    h("div", { class: "narrow aside" }, h("p", { text: t("login.forgot") }), h("pre", { class: "command" }, h("code", { text: "momedo-server admin setup-link" }))),
  );
  password.focus();
}

/** Password managers file a password under a user name; the console has one account. */
const usernameField = () => h("input", { type: "text", name: "username", autocomplete: "username", value: "admin", hidden: true, tabindex: "-1", "aria-hidden": "true" });

/** Runs an action with its button disabled; shows an error if it fails. */
async function busy(button, action) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

// ---------------------------------------------------------------- overview

async function overviewView() {
  const stats = await api("/stats");
  const figures = h("div", { class: "figures" });
  const charts = h("div", { class: "charts" });
  const updated = h("p", { class: "muted small-text" });
  show(t("overview.title"), figures, charts, updated);
  let latest = stats;
  let fetchedAt = new Date();
  state.redrawOverview = () => figures.isConnected && drawOverview(latest, fetchedAt, figures, charts, updated);
  state.redrawOverview();
  state.refresh = setInterval(async () => {
    if (!figures.isConnected) return;
    try {
      latest = await api("/stats");
      fetchedAt = new Date();
      state.redrawOverview();
    } catch (error) {
      if (!(error instanceof ApiError && error.code === "admin_auth")) showError(error);
    }
  }, REFRESH_MS);
}

function drawOverview(stats, fetchedAt, figures, charts, updated) {
  const figure = (label, value, note) =>
    h("div", { class: "figure" }, h("dt", { text: label }), h("dd", {}, h("span", { class: "figure-value", text: value }), note ? h("span", { class: "figure-note", text: note }) : null));
  figures.replaceChildren(
    h(
      "dl",
      { class: "figure-list" },
      figure(t("overview.people"), number(stats.people)),
      figure(t("overview.devices"), number(stats.devices)),
      figure(t("overview.connected"), number(stats.connected)),
      figure(t("overview.backlog"), number(stats.backlog), t("overview.backlogHint")),
      figure(t("overview.storage"), bytes(stats.storageBytes)),
    ),
  );
  const series = hourSeries(stats.hours ?? []);
  const hourText = (hour) => t("overview.hourLabel", { h: hour.getHours(), hh: String(hour.getHours()).padStart(2, "0") });
  const summary = (key, values) => {
    const max = Math.max(...values);
    if (max === 0 && key === "messages") return t("overview.chartEmpty");
    const at = series[values.lastIndexOf(max)].hour;
    const vars = { total: number(values.reduce((a, b) => a + b, 0)), max: number(max), at: `${dateTime(at)}`, last: number(values.at(-1)) };
    return t(key === "messages" ? "overview.chartSummaryMessages" : "overview.chartSummaryConnected", vars);
  };
  const messages = series.map((p) => p.messages);
  const connected = series.map((p) => p.peakConnected);
  const table = h(
    "table",
    { class: "data compact" },
    h("caption", { text: t("overview.tableCaption") }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("overview.hour") }), h("th", { scope: "col", class: "num", text: t("overview.messagesShort") }), h("th", { scope: "col", class: "num", text: t("overview.connectedShort") }))),
    h(
      "tbody",
      {},
      series
        .slice()
        .reverse()
        .map((p) => h("tr", {}, h("th", { scope: "row", text: dateTime(p.hour) }), h("td", { class: "num", text: number(p.messages) }), h("td", { class: "num", text: number(p.peakConnected) }))),
    ),
  );
  const open = charts.querySelector("details")?.open ?? false;
  charts.replaceChildren(
    chartCard("messages", t("overview.messages"), summary("messages", messages), barChart(series, messages, hourText)),
    chartCard("connected", t("overview.connectedChart"), summary("connected", connected), lineChart(series, connected, hourText)),
    h("details", { class: "figures-table", open }, h("summary", { text: t("overview.table") }), h("div", { class: "table-wrap" }, table)),
  );
  updated.textContent = t("overview.updated", { time: new Intl.DateTimeFormat(locale(), { timeStyle: "medium" }).format(fetchedAt) });
}

/** Exactly 48 hours ending with the current one; hours the server did not report count as 0. */
function hourSeries(hours) {
  const HOUR = 3_600_000;
  const byHour = new Map();
  for (const entry of hours) {
    const date = toDate(entry.hour);
    if (date) byHour.set(Math.floor(date.getTime() / HOUR), entry);
  }
  const now = Math.floor(Date.now() / HOUR);
  const series = [];
  for (let i = 47; i >= 0; i--) {
    const entry = byHour.get(now - i);
    series.push({ hour: new Date((now - i) * HOUR), messages: Number(entry?.messages ?? 0), peakConnected: Number(entry?.peakConnected ?? 0) });
  }
  return series;
}

function chartCard(name, title, summary, chart) {
  const titleId = `chart-${name}-title`;
  const descId = `chart-${name}-desc`;
  chart.setAttribute("role", "img");
  chart.setAttribute("aria-labelledby", `${titleId} ${descId}`);
  return h(
    "figure",
    { class: "card chart-card" },
    h("figcaption", {}, h("span", { class: "chart-title", id: titleId, text: title }), h("span", { class: "muted", text: t("overview.last48") })),
    chart,
    h("p", { class: "chart-summary", id: descId, text: summary }),
  );
}

// A narrower drawing on phones, so the labels keep a readable size when the chart is scaled.
const narrowScreen = window.matchMedia("(max-width: 720px)");
const chartSize = () =>
  narrowScreen.matches
    ? { width: 360, height: 200, left: 36, right: 8, top: 12, bottom: 28, labelEvery: 12 }
    : { width: 640, height: 220, left: 44, right: 12, top: 14, bottom: 30, labelEvery: 6 };

/** A rounded-up axis maximum (1, 2, 5 × 10^n) so the grid lines carry readable numbers. */
function niceMax(value) {
  if (value <= 4) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function chartFrame(series, max, hourText) {
  const { width, height, left, right, top, bottom, labelEvery } = chartSize();
  const plotHeight = height - top - bottom;
  const step = (width - left - right) / series.length;
  const y = (v) => top + plotHeight - (v / max) * plotHeight;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", focusable: "false" });
  for (const fraction of [0, 0.5, 1]) {
    const value = max * fraction;
    svg.append(
      s("line", { x1: left, x2: width - right, y1: y(value), y2: y(value), class: fraction === 0 ? "axis" : "grid" }),
      s("text", { x: left - 8, y: y(value) + 4, class: "tick", "text-anchor": "end" }, number(value)),
    );
  }
  series.forEach((point, i) => {
    if (point.hour.getHours() % labelEvery === 0) {
      svg.append(s("text", { x: left + step * i + step / 2, y: height - 8, class: "tick", "text-anchor": "middle" }, hourText(point.hour)));
    }
  });
  return { svg, step, y, left };
}

function barChart(series, values, hourText) {
  const max = niceMax(Math.max(...values));
  const { svg, step, y, left } = chartFrame(series, max, hourText);
  const baseline = y(0);
  values.forEach((value, i) => {
    if (value === 0) return;
    const top = y(value);
    svg.append(s("rect", { x: left + step * i + step * 0.15, y: top, width: step * 0.7, height: Math.max(baseline - top, 1), class: "bar", rx: 1.5 }));
  });
  return svg;
}

function lineChart(series, values, hourText) {
  const max = niceMax(Math.max(...values));
  const { svg, step, y, left } = chartFrame(series, max, hourText);
  const points = values.map((value, i) => `${(left + step * i + step / 2).toFixed(1)},${y(value).toFixed(1)}`);
  const baseline = y(0).toFixed(1);
  const first = points[0].split(",")[0];
  const last = points.at(-1).split(",")[0];
  svg.append(
    s("polygon", { points: `${first},${baseline} ${points.join(" ")} ${last},${baseline}`, class: "area" }),
    s("polyline", { points: points.join(" "), class: "line" }),
  );
  const [lx, ly] = points.at(-1).split(",");
  svg.append(s("circle", { cx: lx, cy: ly, r: 4, class: "dot" }));
  return svg;
}

// ---------------------------------------------------------------- people

async function peopleView() {
  const people = await api("/people");
  const classes = [...new Set(people.map((p) => p.class).filter(Boolean))].sort((a, b) => a.localeCompare(b, locale(), { numeric: true }));
  if (state.filter && state.filter !== "-" && !classes.includes(state.filter)) state.filter = "";
  const deviceCount = people.reduce((n, p) => n + (p.devices ?? []).filter((d) => !d.revoked).length, 0);
  const inviteSlot = h("div", { class: "invite-slot" });

  show(
    t("people.title"),
    h("p", { class: "lead", text: t("people.count", { people: count("people", people.length), devices: count("devices", deviceCount) }) }),
    inviteSlot,
    h("div", { class: "tools" }, addPersonForm(), importPanel()),
    handoutsPanel(people, classes),
    peopleTable(people, classes, inviteSlot),
  );
  // Where the next invite or import result appears.
  return inviteSlot;
}

function addPersonForm() {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "100", autocomplete: "off" });
  const role = h(
    "select",
    { name: "role" },
    ["pupil", "staff", "member"].map((r) => h("option", { value: r, text: roleLabel(r), selected: r === "member" })),
  );
  const klass = h("input", { type: "text", name: "class", maxlength: "20", autocomplete: "off", class: "short" });
  const submit = h("button", { type: "submit", class: "primary", text: t("people.addSubmit") });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    field(t("people.name"), name),
    h("div", { class: "row" }, field(t("people.role"), role), field(t("people.class"), klass, t("people.classHint"))),
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!validate([[name, name.value.trim() ? "" : t("required")]])) return;
    await busy(submit, async () => {
      const body = { name: name.value.trim(), role: role.value };
      if (klass.value.trim()) body.class = klass.value.trim();
      const added = await api("/people", { method: "POST", body });
      showInvite(await peopleView(), added.name, added.invite);
      announce(t("people.added", { name: added.name }));
    });
  });
  return h("details", { class: "card panel", id: "add-person" }, h("summary", {}, h("span", { text: t("people.add") })), form);
}

function showInvite(slot, name, invite, reissued = false) {
  const input = h("input", { type: "text", readonly: true, value: invite, class: "mono", spellcheck: "false" });
  const copy = h("button", { type: "button", class: "secondary", text: t("copy") });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(invite);
      announce(t("copied"));
    } catch {
      input.select();
      announce(t("copyFailed"));
    }
  });
  const heading = h("h2", { tabindex: "-1", text: t("people.invite", { name }) });
  slot.replaceChildren(
    h("section", { class: "card invite", "aria-labelledby": "invite-heading" }, heading, h("p", { text: t("people.inviteHint") }), reissued ? h("p", { class: "notice warn", text: t("people.inviteVoid", { name }) }) : null, field(t("people.inviteLabel"), input), h("div", { class: "buttons" }, copy)),
  );
  heading.id = "invite-heading";
  heading.focus();
}

function importPanel() {
  const file = h("input", { type: "file", accept: ".csv,.txt,text/csv,text/plain", name: "csvfile" });
  const text = h("textarea", { name: "csv", rows: "6", spellcheck: "false", class: "mono", placeholder: "name,klasse,rolle\nAnna Beispiel,7b,Schüler" });
  const previewButton = h("button", { type: "submit", class: "secondary", text: t("people.importPreview") });
  const result = h("div", { class: "import-result" });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("p", { text: t("people.importIntro") }),
    field(t("people.importFile"), file),
    field(t("people.importPaste"), text),
    h("div", { class: "buttons" }, previewButton),
  );
  const preview = async () => {
    if (!validate([[text, text.value.trim() ? "" : t("people.importEmpty")]])) return;
    await busy(previewButton, async () => {
      const csv = text.value;
      const answer = await api("/people/import", { method: "POST", body: { csv, commit: false } });
      renderPreview(result, csv, answer);
    });
  };
  file.addEventListener("change", async () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    text.value = (await chosen.text()).replace(/^\uFEFF/, "");
    await preview();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    preview();
  });
  return h("details", { class: "card panel", id: "import" }, h("summary", {}, h("span", { text: t("people.import") })), form, result);
}

function renderPreview(slot, csv, answer) {
  const rows = answer.rows ?? [];
  const bad = rows.filter((r) => r.error);
  const valid = answer.valid ?? rows.length - bad.length;
  const invalid = answer.invalid ?? bad.length;
  const table = h(
    "table",
    { class: "data preview" },
    h("caption", { text: t("people.previewCaption", { valid: count("rows", valid), invalid: number(invalid) }) }),
    h(
      "thead",
      {},
      h("tr", {}, [t("people.previewLine"), t("people.name"), t("people.class"), t("people.role"), t("people.previewCheck")].map((label) => h("th", { scope: "col", text: label }))),
    ),
    h(
      "tbody",
      {},
      rows.map((row) =>
        h(
          "tr",
          { class: row.error ? "row-error" : undefined, "data-line": String(row.line) },
          h("th", { scope: "row", class: "num", text: String(row.line) }),
          h("td", { text: row.name || t("none") }),
          h("td", { text: row.class || t("none") }),
          h("td", { text: row.role ? roleLabel(row.role) : t("none") }),
          h("td", { class: row.error ? "check-bad" : "check-ok" }, row.error ? [h("span", { class: "badge bad", text: "✗" }), " ", localMessage(row.error)] : [h("span", { class: "badge ok", text: "✓" }), " ", t("people.previewOk")]),
        ),
      ),
    ),
  );
  const commit = h("button", {
    type: "button",
    class: "primary",
    text: valid === 1 ? t("people.importCommitOne") : t("people.importCommit", { n: number(valid) }),
    disabled: valid === 0,
  });
  commit.addEventListener("click", () =>
    busy(commit, async () => {
      const { imported, skipped } = await api("/people/import", { method: "POST", body: { csv, commit: true } });
      renderImported(await peopleView(), imported, skipped);
      announce(t("people.imported", { people: count("people", imported.length) }));
    }),
  );
  const errorList = bad.length
    ? h(
        "div",
        { class: "notice warn" },
        h("p", { class: "strong", text: t("people.previewErrors") }),
        h("ul", { class: "error-lines" }, bad.map((row) => h("li", { text: t("people.previewErrorLine", { line: row.line, error: localMessage(row.error) }) }))),
        h("p", { text: t("people.previewFix") }),
      )
    : null;
  // The button comes before the long table, so nobody has to scroll past 30 rows to find it.
  slot.replaceChildren(
    errorList,
    h("div", { class: "buttons commit" }, commit, valid === 0 ? h("p", { class: "hint", text: t("people.importNone") }) : null),
    h("div", { class: "table-wrap" }, table),
  );
  announce(t("people.previewCaption", { valid: count("rows", valid), invalid: number(invalid) }));
}

function renderImported(slot, imported, skipped) {
  const classes = [...new Set(imported.map((p) => p.class).filter(Boolean))];
  const heading = h("h2", { tabindex: "-1", id: "imported-heading", text: t("people.imported", { people: count("people", imported.length) }) });
  slot.replaceChildren(
    h(
      "section",
      { class: "card invite", "aria-labelledby": "imported-heading" },
      heading,
      skipped.length ? h("p", { text: t("people.skipped", { lines: skipped.join(", ") }) }) : null,
      h("p", { text: t("people.importedNext") }),
      h("div", { class: "buttons" }, classes.map((klass) => handoutButton(klass))),
      h("ol", { class: "imported-list" }, imported.map((p) => h("li", {}, h("span", { class: "strong", text: p.name }), " ", h("span", { class: "muted", text: [p.class, p.id].filter(Boolean).join(" · ") }))),
      ),
    ),
  );
  heading.focus();
}

function handoutsPanel(people, classes) {
  const counts = new Map(classes.map((c) => [c, people.filter((p) => p.class === c).length]));
  return h(
    "section",
    { class: "card", "aria-labelledby": "handouts-heading" },
    h("h2", { id: "handouts-heading", text: t("people.handouts") }),
    h("p", { text: t("people.handoutsIntro") }),
    h("p", { class: "notice warn", text: t("people.handoutsWarn") }),
    classes.length
      ? h(
          "ul",
          { class: "class-list" },
          classes.map((klass) => h("li", {}, h("span", { class: "class-name", text: klass }), h("span", { class: "muted", text: count("people", counts.get(klass)) }), handoutButton(klass))),
        )
      : h("p", { class: "muted", text: t("people.handoutsNone") }),
  );
}

function handoutButton(klass) {
  const button = h("button", { type: "button", class: "secondary", text: t("people.handoutsButton", { class: klass }), "data-class": klass });
  button.addEventListener("click", () =>
    busy(button, async () => {
      announce(t("people.handoutsLoading", { class: klass }));
      const response = await request("/handouts", { method: "POST", body: { class: klass } });
      const blob = await response.blob();
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: `momedo-handouts-${klass.replace(/[^\p{L}\p{N}_-]+/gu, "_")}.pdf`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      announce(t("people.handoutsDone", { class: klass, n: number(Math.ceil(blob.size / 1024)) }));
    }),
  );
  return button;
}

function peopleTable(people, classes, inviteSlot) {
  const select = h(
    "select",
    { id: "class-filter" },
    h("option", { value: "", text: t("people.filterAll") }),
    classes.map((c) => h("option", { value: c, text: c })),
    people.some((p) => !p.class) ? h("option", { value: "-", text: t("people.filterNoClass") }) : null,
  );
  select.value = state.filter;
  const body = h("div");
  const draw = () => {
    const shown = people.filter((p) => (state.filter === "" ? true : state.filter === "-" ? !p.class : p.class === state.filter));
    body.replaceChildren(personTable(shown, inviteSlot));
  };
  select.addEventListener("change", () => {
    state.filter = select.value;
    draw();
  });
  draw();
  return h("section", { class: "people-section", "aria-label": t("people.list") }, h("div", { class: "section-head" }, h("div", { class: "field inline" }, h("label", { for: "class-filter", text: t("people.filter") }), select)), body);
}

function personTable(people, inviteSlot) {
  if (people.length === 0) return h("p", { class: "empty", text: state.filter ? t("people.emptyFilter") : t("people.empty") });
  const caption = state.filter && state.filter !== "-" ? t("people.tableCaptionClass", { class: state.filter, n: number(people.length) }) : t("people.tableCaption", { n: number(people.length) });
  const columns = [t("people.name"), t("people.id"), t("people.role"), t("people.class"), t("people.devices"), t("people.groups"), t("people.actions")];
  return h(
    "table",
    { class: "data people cards" },
    h("caption", { text: caption }),
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
    h("tbody", {}, people.map((person) => personRow(person, columns, inviteSlot))),
  );
}

function personRow(person, columns, inviteSlot) {
  const cell = (i, ...content) => h("td", { "data-label": columns[i] }, ...content);
  const devices = person.devices ?? [];
  const groups = person.groups ?? [];
  const invite = h("button", { type: "button", class: "secondary small", text: t("people.newInvite"), "aria-label": t("people.newInviteLabel", { name: person.name }) });
  invite.addEventListener("click", () =>
    busy(invite, async () => {
      const answer = await api("/people/invite", { method: "POST", body: { id: person.id } });
      showInvite(inviteSlot, person.name, answer.invite, true);
      announce(t("people.invite", { name: person.name }));
    }),
  );
  const remove = h("button", { type: "button", class: "danger small", text: t("people.remove"), "aria-label": t("people.removeLabel", { name: person.name }) });
  remove.addEventListener("click", async () => {
    if (!(await confirmDialog(t("people.removeTitle"), t("people.removeText", { name: person.name, id: person.id }), t("people.remove")))) return;
    await busy(remove, async () => {
      await api("/people/remove", { method: "POST", body: { id: person.id } });
      await peopleView();
      announce(t("people.removed", { name: person.name }));
    });
  });
  return h(
    "tr",
    { "data-id": person.id },
    h("th", { scope: "row", "data-label": columns[0], class: "person-name", text: person.name }),
    cell(1, h("span", { class: "mono", text: person.id })),
    cell(2, roleLabel(person.role)),
    cell(3, person.class || t("none")),
    cell(4, devices.length ? h("ul", { class: "devices" }, devices.map((device) => deviceItem(person, device))) : h("span", { class: "muted", text: t("people.noDevices") })),
    cell(5, groups.length ? h("ul", { class: "groups" }, groups.map((g) => h("li", {}, g.name || t("groups.unnamed"), " ", h("span", { class: "muted", text: `(${[kindLabel(g.kind), groupRoleLabel(g.role)].filter(Boolean).join(", ")})` })))) : h("span", { class: "muted", text: t("none") })),
    cell(6, h("div", { class: "row-actions" }, invite, remove)),
  );
}

function deviceItem(person, device) {
  const item = h(
    "li",
    { class: device.revoked ? "device revoked" : "device" },
    h("span", { class: "device-id" }, h("span", { class: "muted", text: `${t("people.device")} ` }), h("span", { class: "mono", text: device.id })),
    device.revoked ? h("span", { class: "badge bad", text: t("people.revoked") }) : null,
    h("span", { class: "fingerprint" }, h("span", { class: "muted", text: `${t("people.fingerprint")}: ` }), h("code", { text: groupedFingerprint(device.fingerprint) || t("none") })),
    h("span", { class: "muted", text: device.lastSeen ? t("people.lastSeen", { time: dateTime(device.lastSeen) }) : t("people.neverSeen") }),
  );
  if (!device.revoked) {
    const revoke = h("button", { type: "button", class: "danger small", text: t("people.revoke"), "aria-label": t("people.revokeLabel", { device: device.id, name: person.name }) });
    revoke.addEventListener("click", async () => {
      if (!(await confirmDialog(t("people.revokeTitle"), t("people.revokeText", { device: device.id, name: person.name }), t("people.revoke")))) return;
      await busy(revoke, async () => {
        await api("/people/revoke-device", { method: "POST", body: { id: person.id, device: device.id } });
        await peopleView();
        announce(t("people.revoked.done"));
      });
    });
    item.append(revoke);
  }
  return item;
}

/** A modal question with the native <dialog>: focus stays inside, Escape cancels. */
function confirmDialog(title, text, okLabel) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = okLabel;
  $("confirm-cancel").textContent = t("cancel");
  const opener = document.activeElement;
  dialog.returnValue = "";
  dialog.showModal();
  $("confirm-cancel").focus();
  return new Promise((resolve) => {
    dialog.addEventListener(
      "close",
      () => {
        if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
        resolve(dialog.returnValue === "ok");
      },
      { once: true },
    );
  });
}

// ---------------------------------------------------------------- groups

async function groupsView() {
  const [answer, people] = await Promise.all([api("/groups"), api("/people")]);
  // Direct chats are two people's private business: the console lists groups and channels only.
  const list = answer.filter((g) => g.kind !== "direct");
  const memberItem = (m) => h("li", {}, m.name ?? m.user, " ", h("span", { class: "muted", text: `(${groupRoleLabel(m.role)})` }));
  const status = (g) => {
    if (g.created === false) {
      const owner = (g.members ?? []).find((m) => m.role === "owner");
      return h("span", { class: "badge plan", text: t("groups.planned", { owner: owner?.name ?? "" }) });
    }
    return h("span", { text: typeof g.devices === "number" ? t("groups.activeDevices", { devices: count("devices", g.devices) }) : t("groups.active") });
  };
  const columns = [t("groups.name"), t("groups.kind"), t("groups.status"), t("groups.members")];
  show(
    t("groups.title"),
    h("p", { class: "lead", text: t("groups.intro") }),
    planGroupForm(people),
    list.length
      ? h(
          "table",
          { class: "data cards" },
          h("caption", { text: t("groups.caption", { n: number(list.length) }) }),
          h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", text: c })))),
          h(
            "tbody",
            {},
            list.map((g) =>
              h(
                "tr",
                {},
                h("th", { scope: "row", "data-label": columns[0], text: g.name || t("groups.unnamed") }),
                h("td", { "data-label": columns[1], text: kindLabel(g.kind) }),
                h("td", { "data-label": columns[2] }, status(g)),
                h(
                  "td",
                  { "data-label": columns[3] },
                  h("ul", { class: "members" }, (g.members ?? []).map(memberItem)),
                  waitingList(g.waiting ?? [], g.created === false),
                ),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", text: t("groups.empty") }),
  );
}

/** Planned members without a device yet: a few by name, a whole class folded away. */
function waitingList(waiting, planned) {
  if (waiting.length === 0) return null;
  const names = waiting.map((m) => m.name ?? m.user).join(", ");
  const label = planned ? "groups.plannedMembers" : "groups.waiting";
  if (waiting.length <= 5) return h("p", { class: "waiting" }, h("span", { class: "muted", text: `${t(label, { people: count("people", waiting.length) })} ` }), names);
  return h("details", { class: "waiting" }, h("summary", { text: t(`${label}Count`, { people: count("people", waiting.length) }) }), h("p", { text: names }));
}

/** Plans a group or channel; the owner's device creates it (the server holds no member keys). */
function planGroupForm(people) {
  const byName = [...people].sort((a, b) => a.name.localeCompare(b.name, locale()));
  const classes = [...new Set(people.map((p) => p.class).filter(Boolean))].sort((a, b) => a.localeCompare(b, locale(), { numeric: true }));
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "100", autocomplete: "off" });
  const kindChoice = (value) => {
    const input = h("input", { type: "radio", name: "kind", value, id: `kind-${value}`, checked: value === "channel", "aria-describedby": `kind-${value}-text` });
    return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("span", { class: "choice-title", text: kindLabel(value) }), h("span", { class: "choice-text", id: `kind-${value}-text`, text: t(`groups.${value}Text`) })));
  };
  const owner = h(
    "select",
    { name: "owner" },
    h("option", { value: "", text: t("groups.ownerChoose") }),
    // Staff first: a class channel is usually run by its teacher.
    [...byName.filter((p) => p.role === "staff"), ...byName.filter((p) => p.role !== "staff")].map((p) =>
      h("option", { value: p.id, text: `${p.name}${p.class ? ` (${p.class})` : ""} – ${roleLabel(p.role)}` }),
    ),
  );
  const klass = h("select", { name: "class" }, h("option", { value: "", text: t("groups.classNone") }), classes.map((c) => h("option", { value: c, text: c })));
  const submit = h("button", { type: "submit", class: "primary", text: t("groups.planSubmit") });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    h("p", { text: t("groups.planIntro") }),
    field(t("groups.name"), name),
    h("fieldset", {}, h("legend", { text: t("groups.kind") }), kindChoice("channel"), kindChoice("group")),
    h("div", { class: "row" }, field(t("groups.owner"), owner, t("groups.ownerHint")), field(t("groups.class"), klass, t("groups.classHint"))),
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = validate([
      [name, name.value.trim() ? "" : t("required")],
      [owner, owner.value ? "" : t("groups.ownerMissing")],
    ]);
    if (!ok) return;
    await busy(submit, async () => {
      const body = { name: name.value.trim(), kind: form.querySelector("input[name=kind]:checked").value, owner: owner.value };
      if (klass.value) body.class = klass.value;
      await api("/groups", { method: "POST", body });
      await groupsView();
      announce(t("groups.planned.done", { name: body.name }));
    });
  });
  return h("details", { class: "card panel", id: "plan-group" }, h("summary", {}, h("span", { text: t("groups.plan") })), form);
}

// ---------------------------------------------------------------- policy

async function policyView() {
  const { policy } = await api("/policy");
  const option = (value) => {
    const input = h("input", { type: "radio", name: "policy", value, id: `policy-${value}`, checked: policy === value, "aria-describedby": `policy-${value}-text` });
    return h("div", { class: "choice" }, input, h("label", { for: input.id }, h("span", { class: "choice-title", text: t(`policy.${value}`) }), h("span", { class: "choice-text", id: `policy-${value}-text`, text: t(`policy.${value}Text`) })));
  };
  const submit = h("button", { type: "submit", class: "primary", text: t("save") });
  const form = h("form", { class: "card narrow" }, h("fieldset", {}, h("legend", { text: t("policy.legend") }), option("open"), option("school")), h("p", { class: "hint", text: t("policy.note") }), h("div", { class: "buttons" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=policy]:checked")?.value;
    if (!chosen) return;
    busy(submit, async () => {
      await api("/policy", { method: "POST", body: { policy: chosen } });
      announce(t("policy.saved"));
    });
  });
  show(t("policy.title"), h("p", { class: "lead", text: t("policy.intro") }), form);
}

// ---------------------------------------------------------------- audit log

async function auditView() {
  const list = await api("/audit?limit=200");
  show(
    t("audit.title"),
    h("p", { class: "lead", text: t("audit.intro") }),
    list.length
      ? h(
          "table",
          { class: "data cards audit" },
          h("caption", { text: t("audit.caption", { n: number(list.length) }) }),
          h("thead", {}, h("tr", {}, [t("audit.at"), t("audit.actor"), t("audit.action"), t("audit.detail")].map((c) => h("th", { scope: "col", text: c })))),
          h(
            "tbody",
            {},
            list.map((entry) =>
              h(
                "tr",
                {},
                h("th", { scope: "row", "data-label": t("audit.at"), class: "nowrap", text: dateTime(entry.at) }),
                h("td", { "data-label": t("audit.actor"), text: labelOr(`actor.${entry.actor}`, entry.actor) }),
                h("td", { "data-label": t("audit.action") }, labelOr(`action.${entry.action}`, entry.action), h("code", { class: "action-code muted", text: entry.action })),
                h("td", { "data-label": t("audit.detail"), class: "detail", text: entry.detail || t("none") }),
              ),
            ),
          ),
        )
      : h("p", { class: "empty", text: t("audit.empty") }),
  );
}

// ---------------------------------------------------------------- security

async function securityView() {
  await loadSession();
  show(t("security.title"), h("div", { class: "pair" }, passwordSection(), totpSection()));
}

function passwordSection() {
  const current = h("input", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: String(MIN_PASSWORD) });
  const repeat = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: String(MIN_PASSWORD) });
  const submit = h("button", { type: "submit", class: "primary", text: t("security.passwordSubmit") });
  const form = h(
    "form",
    { novalidate: true, class: "stack" },
    usernameField(),
    field(t("security.current"), current),
    field(t("security.new"), next, t("password.hint", { n: MIN_PASSWORD })),
    field(t("security.repeat"), repeat),
    h("div", { class: "buttons" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = validate([
      [current, current.value ? "" : t("required")],
      [next, next.value.length >= MIN_PASSWORD ? "" : t("password.short", { n: MIN_PASSWORD })],
      [repeat, repeat.value === next.value ? "" : t("password.mismatch")],
    ]);
    if (!ok) return;
    await busy(submit, async () => {
      await api("/password", { method: "POST", body: { current: current.value, password: next.value } });
      form.reset();
      announce(t("security.passwordDone"));
    });
  });
  return h("section", { class: "card narrow", "aria-labelledby": "password-heading" }, h("h2", { id: "password-heading", text: t("security.password") }), form);
}

function totpSection() {
  const section = h("section", { class: "card narrow", "aria-labelledby": "totp-heading" });
  const heading = h("h2", { id: "totp-heading", text: t("security.totp") });
  const codeInput = () => h("input", { type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", class: "short mono" });
  const codeOk = (input) => (/^\d{6}$/.test(input.value.trim()) ? "" : t("security.codeFormat"));

  const drawOff = () => {
    const begin = h("button", { type: "button", class: "primary", text: t("security.totpBegin") });
    begin.addEventListener("click", () =>
      busy(begin, async () => {
        drawEnrolling(await api("/totp/begin", { method: "POST", body: {} }));
      }),
    );
    section.replaceChildren(heading, h("p", { text: t("security.totpOffText") }), h("div", { class: "buttons" }, begin));
  };

  const drawEnrolling = ({ secret, qrSvg }) => {
    const code = codeInput();
    const confirm = h("button", { type: "submit", class: "primary", text: t("security.totpConfirm") });
    const form = h("form", { novalidate: true, class: "stack" }, field(t("security.totpCode"), code), h("div", { class: "buttons" }, confirm));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!validate([[code, codeOk(code)]])) return;
      await busy(confirm, async () => {
        await api("/totp/confirm", { method: "POST", body: { code: code.value.trim() } });
        await loadSession();
        drawOn();
        announce(t("security.totpOn"));
      });
    });
    // The server's SVG is shown as an image: no markup of it enters the page.
    const qr = qrSvg ? h("img", { class: "qr", alt: t("security.totpQr"), src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(qrSvg)}`, width: "200", height: "200" }) : null;
    section.replaceChildren(
      heading,
      h("p", { text: t("security.totpScan") }),
      h("div", { class: "totp-enroll" }, qr, h("div", {}, h("p", { class: "label", text: t("security.totpSecret") }), h("p", { class: "secret mono", text: groupedFingerprint(secret) }))),
      form,
    );
    code.focus();
  };

  const drawOn = () => {
    const code = codeInput();
    const off = h("button", { type: "submit", class: "danger", text: t("security.totpOff") });
    const form = h("form", { novalidate: true, class: "stack" }, field(t("security.totpOffCode"), code), h("div", { class: "buttons" }, off));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!validate([[code, codeOk(code)]])) return;
      await busy(off, async () => {
        await api("/totp/off", { method: "POST", body: { code: code.value.trim() } });
        await loadSession();
        drawOff();
        announce(t("security.totpOffDone"));
      });
    });
    section.replaceChildren(heading, h("p", { text: t("security.totpOnText") }), form);
  };

  if (state.session?.totp) drawOn();
  else drawOff();
  return section;
}

// ---------------------------------------------------------------- start

$("lang").addEventListener("click", () => {
  lang = lang === "de" ? "en" : "de";
  localStorage.setItem(LANG_KEY, lang);
  clearMessages();
  renderChrome();
  route();
});

$("logout").addEventListener("click", async () => {
  try {
    await api("/logout", { method: "POST", body: {} });
  } catch (error) {
    if (!(error instanceof ApiError && error.code === "admin_auth")) return showError(error);
  }
  state.session = { ...state.session, loggedIn: false, csrf: undefined };
  history.replaceState(null, "", "#login");
  await route();
  announce(t("loggedOut"));
});

$("skip").addEventListener("click", (event) => {
  event.preventDefault();
  ($("view").querySelector("h1") ?? $("main")).focus();
});

narrowScreen.addEventListener("change", () => state.redrawOverview?.());

window.addEventListener("hashchange", () => {
  clearMessages();
  route();
});

route();
