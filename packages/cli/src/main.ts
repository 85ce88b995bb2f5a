#!/usr/bin/env node
// momedo: the command-line client. Every command first catches up with the mailbox, so it
// always acts on the current state of each conversation.
import { Command } from "commander";
import { resolve } from "node:path";
import { formatServerAddress, isErrorCode, MomedoError, terminalQr } from "@momedo/protocol";
import { mkdirSync, readFileSync } from "node:fs";
import { stat } from "node:fs/promises";
import { approveLink, DEFAULT_MAX_SIDE, enrollProfile, linkNewDevice, openProfile, prepareFile, ProfileError, type Profile } from "@momedo/client";
import { cardActionProblem, type ChatMessage, type EngineEvent } from "@momedo/core";

interface GlobalOptions {
  profile?: string;
  json?: boolean;
}

const program = new Command("momedo")
  .description("momedo – Ende-zu-Ende-verschlüsselter Messenger / end-to-end encrypted messenger")
  .option("--profile <dir>", "Profilverzeichnis / profile directory (env MOMEDO_PROFILE)", process.env.MOMEDO_PROFILE ?? "./.momedo")
  .option("--json", "eine JSON-Zeile je Ergebnis / one JSON object per line")
  .showHelpAfterError();

function globals(command: Command): Required<GlobalOptions> {
  const options = command.optsWithGlobals() as GlobalOptions;
  return { profile: resolve(options.profile ?? "./.momedo"), json: options.json === true };
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

function messageLine(m: ChatMessage) {
  return {
    id: m.id,
    chat: m.chat,
    from: m.from,
    device: m.fromDevice,
    type: m.type,
    text: m.text,
    ...(m.target ? { target: m.target } : {}),
    ...(m.replyTo ? { replyTo: m.replyTo } : {}),
    ...(m.edited ? { edited: true } : {}),
    ...(m.deleted ? { deleted: true } : {}),
    ...(m.file ? { file: fileLine(m.file) } : {}),
    ...(m.card?.kind === "card" ? { card: m.card.card } : {}),
    ...(m.card?.kind === "action" ? { values: m.card.action.values } : {}),
    ...(m.card?.kind === "outcome" ? { status: m.card.outcome.status } : {}),
    sentAt: new Date(m.sentAt).toISOString(),
    outgoing: m.outgoing,
  };
}

/** What a person may see of a file: never its key. */
function fileLine(f: NonNullable<ChatMessage["file"]>) {
  return {
    name: f.name,
    mediaType: f.mediaType,
    size: f.size,
    blob: f.blob,
    ...(f.width ? { width: f.width, height: f.height } : {}),
    ...(f.thumbnail ? { thumbnailBytes: Buffer.from(f.thumbnail, "base64").length } : {}),
    ...(f.location ? { location: f.location } : {}),
    ...(f.takenAt !== undefined ? { takenAt: new Date(f.takenAt).toISOString() } : {}),
  };
}

function describeFile(f: NonNullable<ChatMessage["file"]>): string {
  const parts = [`${f.name} (${f.mediaType}, ${f.size} Bytes`];
  if (f.width) parts.push(`, ${f.width}×${f.height}`);
  parts.push(")");
  if (f.location) parts.push(` 📍 ${f.location.lat}, ${f.location.lon}${f.location.accuracy !== undefined ? ` ±${f.location.accuracy} m` : ""}`);
  if (f.takenAt !== undefined) parts.push(` aufgenommen / taken ${new Date(f.takenAt).toISOString()}`);
  return parts.join("");
}

function parseNumber(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new RangeError(`${flag} ${value}: erwartet / expected ${min} … ${max}`);
  return n;
}

function describeEvent(event: EngineEvent): string | undefined {
  if (event.type === "undecryptable") return `Nachricht ${event.seq} in ${event.chat} nicht lesbar / not readable: ${event.reason}`;
  if (event.type === "passphrase_needed") {
    return `${event.chat} ist mit einem Passwort geschützt / is protected by a passphrase: momedo passphrase ${event.chat} --passphrase …`;
  }
  return undefined;
}

/** Opens the profile, connects, and catches up with the mailbox before the command acts. */
async function withProfile<T>(command: Command, act: (profile: Profile, json: boolean) => Promise<T>): Promise<T> {
  const { profile: dir, json } = globals(command);
  const profile = await openProfile(dir);
  profile.messenger.onEvent((event) => {
    const text = describeEvent(event);
    if (text) console.error(text);
  });
  try {
    await profile.messenger.connect();
    await profile.messenger.replenishKeyPackages();
    await profile.messenger.reconcile();
    for (const failure of profile.messenger.planFailures.splice(0)) {
      console.error(`Geplante Gruppe noch nicht eingerichtet / planned group not set up yet: ${failure}`);
    }
    return await act(profile, json);
  } finally {
    await profile.close();
  }
}

program
  .command("enroll <invite>")
  .description("dieses Gerät mit einer Einladung anmelden / enroll this device with an invite")
  .action(async (invite: string, _options: unknown, command: Command) => {
    const { profile: dir, json } = globals(command);
    const profile = await enrollProfile(dir, invite);
    const result = { id: profile.engine.user, device: profile.engine.device };
    await profile.close();
    print(json, result, `Angemeldet / enrolled: ${result.id} (Gerät / device ${result.device}) – ${profile.engine.identity.name}`);
  });

program
  .command("whoami")
  .description("eigene ID und Gerät / own ID and device")
  .action(async (_options: unknown, command: Command) => {
    const { profile: dir, json } = globals(command);
    const profile = await openProfile(dir);
    const i = profile.engine.identity;
    const result = {
      id: i.user,
      device: i.device,
      name: i.name,
      server: profile.server.url,
      serverAddress: formatServerAddress(profile.server.url, profile.server.fingerprint),
      organization: i.organization,
    };
    await profile.close();
    print(
      json,
      result,
      `${result.name}: ${result.id} (Gerät / device ${result.device}) @ ${result.server}\nServeradresse zum Verknüpfen / server address for linking: ${result.serverAddress}`,
    );
  });

program
  .command("send <to> <text>")
  .description("Text an eine Person (ID) oder Unterhaltung senden / send a text to a person (ID) or chat")
  .action(async (to: string, text: string, _options: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const message = await profile.messenger.sendText(to, text);
      print(json, { id: message.id, chat: message.chat }, `gesendet / sent: ${message.id}`);
    });
  });

program
  .command("send-file <to> <path>")
  .description("Bild oder Datei verschlüsselt senden (Metadaten werden entfernt) / send an image or file encrypted (metadata is removed)")
  .option("--lat <degrees>", "Breitengrad des Aufnahmeorts / latitude where it was taken")
  .option("--lon <degrees>", "Längengrad / longitude")
  .option("--accuracy <metres>", "Genauigkeit des Orts in Metern / accuracy of the location in metres")
  .option("--taken-at <time>", "Aufnahmezeit (ISO 8601; Standard: Änderungszeit der Datei, nur mit Ort) / capture time (ISO 8601; default: the file's modification time, only with a location)")
  .option("--original", "Bild in voller Größe senden / send the image at full size")
  .option("--max-side <pixels>", `größere Bilder werden verkleinert / larger images are downscaled (default ${DEFAULT_MAX_SIDE})`)
  .action(async (to: string, path: string, options: { lat?: string; lon?: string; accuracy?: string; takenAt?: string; original?: boolean; maxSide?: string }, command: Command) => {
    const lat = parseNumber("--lat", options.lat, -90, 90);
    const lon = parseNumber("--lon", options.lon, -180, 180);
    const accuracy = parseNumber("--accuracy", options.accuracy, 0, 1e7);
    if ((lat === undefined) !== (lon === undefined)) throw new RangeError("--lat und / and --lon gehören zusammen / go together");
    const maxSide = parseNumber("--max-side", options.maxSide, 16, 65535);
    let takenAt: number | undefined;
    if (options.takenAt !== undefined) {
      takenAt = Date.parse(options.takenAt);
      if (!Number.isFinite(takenAt)) throw new RangeError(`--taken-at ${options.takenAt}: erwartet / expected 2026-11-26T08:15:00Z`);
    } else if (lat !== undefined) takenAt = (await stat(path)).mtimeMs;
    const file = await prepareFile(resolve(path), { original: options.original === true, ...(maxSide ? { maxSide } : {}) });
    await withProfile(command, async (profile, json) => {
      const message = await profile.messenger.sendFile(to, file, {
        ...(lat !== undefined && lon !== undefined ? { location: { lat, lon, ...(accuracy !== undefined ? { accuracy } : {}) } } : {}),
        ...(takenAt !== undefined ? { takenAt: Math.round(takenAt) } : {}),
      });
      print(json, { id: message.id, chat: message.chat, file: fileLine(message.file!) }, `gesendet / sent: ${message.id} ${describeFile(message.file!)}`);
    });
  });

program
  .command("receive")
  .description("empfangene Nachrichten ausgeben / print received messages")
  .option("--wait <seconds>", "bis zu so lange auf Nachrichten warten / wait up to this long for messages", "0")
  .option("--out <dir>", "empfangene Dateien hier speichern / save received files here")
  .action(async (options: { wait: string; out?: string }, command: Command) => {
    const waitSeconds = Number(options.wait);
    if (!Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 86400) {
      throw new RangeError(`--wait ${options.wait}: Sekunden von 0 bis 86400 / seconds from 0 to 86400`);
    }
    const out = options.out ? resolve(options.out) : undefined;
    if (out) mkdirSync(out, { recursive: true });
    await withProfile(command, async (profile, json) => {
      let printed = 0;
      const flush = async () => {
        for (const m of profile.store.takeUnshown()) {
          printed++;
          const line: Record<string, unknown> = messageLine(m);
          let body = m.type === "reaction" ? `${m.text} → ${m.target}` : m.card ? describeCard(m) : m.text;
          if (m.type === "edit" || m.type === "delete") {
            // An edit keeps its new text in the message it changed only.
            const target = profile.store.findMessage(m.target!);
            if (m.type === "edit") line.text = target?.deleted ? "" : (target?.text ?? "");
            body = m.type === "edit" ? `bearbeitet / edited ${m.target}: ${String(line.text)}` : `gelöscht / deleted ${m.target}`;
          }
          if (m.replyTo) body = `(↩ ${m.replyTo}) ${body}`;
          if (m.file) {
            body = describeFile(m.file);
            if (out) {
              try {
                line.saved = await profile.messenger.saveFile(m, out);
                body += ` → ${String(line.saved)}`;
              } catch (error) {
                if (!(error instanceof MomedoError)) throw error;
                line.error = { code: error.code, message: error.message };
                body += ` – ${error.message}`;
              }
            }
          }
          print(json, line, `[${String(line.sentAt)}] ${m.id} ${m.from}${m.outgoing ? " (ich/me)" : ""}: ${body}`);
        }
      };
      await flush();
      if (waitSeconds > 0 && printed === 0) {
        // Return early once something arrived and nothing more came for a moment.
        await new Promise<void>((done) => {
          const deadline = setTimeout(done, waitSeconds * 1000);
          let quiet: NodeJS.Timeout | undefined;
          profile.messenger.onEvent((event) => {
            if (event.type !== "message") return;
            clearTimeout(quiet);
            quiet = setTimeout(() => {
              clearTimeout(deadline);
              done();
            }, 500);
          });
        });
        await flush();
      }
      if (json) console.log(JSON.stringify({ received: printed }));
    });
  });

function describeCard(m: ChatMessage): string {
  const payload = m.card!;
  if (payload.kind === "outcome") return `✔ ${payload.outcome.text} (Karte / card ${payload.outcome.target})`;
  if (payload.kind === "action") {
    const values = Object.entries(payload.action.values).map(([k, v]) => `${k}=${v}`).join(", ");
    return `→ ${payload.action.action}${values ? ` (${values})` : ""} auf Karte / on card ${payload.action.target}`;
  }
  const { card } = payload;
  const lines = [`📋 ${card.title}`];
  for (const f of card.fields) lines.push(`   ${f.label}: ${f.value}`);
  for (const i of card.inputs ?? []) {
    lines.push(`   [${i.id}] ${i.label}${i.kind === "choice" ? ` (${i.options!.join(" | ")})` : i.kind === "date" ? " (JJJJ-MM-TT / YYYY-MM-DD)" : ""}${i.required ? " *" : ""}`);
  }
  const actions = card.actions.map((a) => `${a.id} „${a.label}“${a.needs?.length ? ` (+ --field ${a.needs.join(", ")})` : ""}`);
  lines.push(`   Aktionen / actions: ${actions.join(" · ")}`);
  lines.push(`   → momedo card-action ${m.id} AKTION/ACTION [--field NAME=WERT]`);
  return lines.join("\n");
}

function ids(list: string): string[] {
  return list
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function createGroupCommand(kind: "group" | "channel") {
  return async (name: string, options: { members?: string }, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const members = ids(options.members ?? "");
      const id = await profile.messenger.createGroup(name, members, kind);
      print(json, { id, name, kind, members: members.length + 1 }, `${kind === "channel" ? "Kanal / channel" : "Gruppe / group"} ${name}: ${id}`);
    });
  };
}

const group = program.command("group").description("Gruppen / groups");
group
  .command("create <name>")
  .description("Gruppe anlegen (ich bin Eigentümer) / create a group (I am its owner)")
  .option("--members <ids>", "IDs, durch Komma getrennt / comma-separated IDs", "")
  .action(createGroupCommand("group"));
group
  .command("add <group> <ids>")
  .description("Personen hinzufügen / add people")
  .action(async (chat: string, list: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      await profile.messenger.addPeople(chat, ids(list));
      const info = await profile.messenger.info(chat);
      print(json, { id: chat, members: info.members.length }, `${info.members.length} Mitglieder / members`);
    });
  });
group
  .command("remove <group> <ids>")
  .description("Personen (ID) oder Geräte (ID/GERÄT) entfernen / remove people (ID) or devices (ID/DEVICE)")
  .action(async (chat: string, list: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      await profile.messenger.removeMembers(chat, ids(list));
      const info = await profile.messenger.info(chat);
      print(json, { id: chat, members: info.members.length }, `${info.members.length} Mitglieder / members`);
    });
  });
group
  .command("rename <group> <name>")
  .description("Gruppe umbenennen (Eigentümer und Admins) / rename a group (owners and admins)")
  .action(async (chat: string, name: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      await profile.messenger.rename(chat, name);
      print(json, { id: chat, name }, `${chat}: ${name}`);
    });
  });
group
  .command("leave <group>")
  .description("Gruppe verlassen / leave a group")
  .action(async (chat: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      await profile.messenger.leave(chat);
      print(json, { id: chat, left: true }, `verlassen / left: ${chat}`);
    });
  });
group
  .command("promote <group> <id>")
  .description("Rolle ändern / change a role")
  .option("--role <role>", "owner | admin | member", "admin")
  .action(async (chat: string, user: string, options: { role: string }, command: Command) => {
    if (!["owner", "admin", "member"].includes(options.role)) throw new RangeError(`--role ${options.role}: owner | admin | member`);
    await withProfile(command, async (profile, json) => {
      await profile.messenger.setRole(chat, user, options.role as "owner" | "admin" | "member");
      print(json, { id: chat, user: user.toUpperCase(), role: options.role }, `${user.toUpperCase()}: ${options.role}`);
    });
  });
group
  .command("info <group>")
  .description("Mitglieder und Rollen / members and roles")
  .action(async (chat: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const info = await profile.messenger.info(chat);
      // Bots are marked by the organisation's signature on their leaves, not by the server's word.
      const bots = new Set((await profile.engine.memberList(info.group)).filter((m) => m.bot).map((m) => m.user));
      if (json) {
        for (const m of info.members) console.log(JSON.stringify({ ...m, ...(bots.has(m.user) ? { bot: true } : {}) }));
        console.log(JSON.stringify({ id: info.group, kind: info.kind, name: info.name, epoch: info.epoch, members: info.members.length }));
        return;
      }
      console.log(`${info.name || info.group} (${info.kind}, Epoche / epoch ${info.epoch})`);
      for (const m of info.members) {
        console.log(`  ${m.user}  ${m.name}${bots.has(m.user) ? " [Bot]" : ""}  ${m.role}  ${m.devices.length} Gerät(e) / device(s)`);
      }
    });
  });
group
  .command("list")
  .description("meine Unterhaltungen / my conversations")
  .action(async (_o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const { groups } = await profile.messenger.listGroups();
      for (const g of groups) print(json, g, `${g.group}  ${g.kind}  ${g.name}  ${g.role}`);
      if (json) console.log(JSON.stringify({ count: groups.length }));
    });
  });

program
  .command("channel")
  .description("Ankündigungskanäle / announcement channels")
  .command("create <name>")
  .description("Kanal anlegen: nur Eigentümer und Admins schreiben / create a channel: only owners and admins post")
  .option("--members <ids>", "IDs, durch Komma getrennt / comma-separated IDs", "")
  .action(createGroupCommand("channel"));

program
  .command("react <chat> <message> <emoji>")
  .description("auf eine Nachricht reagieren (auch in Kanälen) / react to a message (in channels too)")
  .action(async (chat: string, message: string, emoji: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const sent = await profile.messenger.react(chat, message, emoji);
      print(json, { id: sent.id, chat: sent.chat }, `reagiert / reacted: ${emoji}`);
    });
  });

program
  .command("reply <chat> <message> <text>")
  .description("auf eine Nachricht antworten / reply to a message")
  .action(async (chat: string, message: string, text: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const sent = await profile.messenger.reply(chat, message, text);
      print(json, { id: sent.id, chat: sent.chat, replyTo: sent.replyTo }, `gesendet / sent: ${sent.id}`);
    });
  });

program
  .command("edit <chat> <message> <text>")
  .description("eigene Nachricht für alle ändern / edit an own message for everyone")
  .action(async (chat: string, message: string, text: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const sent = await profile.messenger.edit(chat, message, text);
      print(json, { id: sent.id, chat: sent.chat, target: sent.target }, `bearbeitet / edited: ${sent.target}`);
    });
  });

program
  .command("delete <chat> <message>")
  .description("eigene Nachricht für alle löschen / delete an own message for everyone")
  .action(async (chat: string, message: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const sent = await profile.messenger.deleteMessage(chat, message);
      print(json, { id: sent.id, chat: sent.chat, target: sent.target }, `gelöscht / deleted: ${sent.target}`);
    });
  });

program
  .command("rekey <chat>")
  .description("neue Schlüssel für dieses Gerät in einer Unterhaltung / fresh keys for this device in a conversation")
  .action(async (chat: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      await profile.messenger.rekey(chat);
      const epoch = await profile.engine.epoch(chat);
      print(json, { id: chat, epoch }, `neu verschlüsselt / re-keyed: ${chat} (Epoche / epoch ${epoch})`);
    });
  });

program
  .command("link")
  .description("dieses neue Gerät mit einem bestehenden Konto verknüpfen / link this new device to an existing account")
  .requiredOption("--server <address>", "Serveradresse (momedo whoami auf dem anderen Gerät) / server address (momedo whoami on the other device)")
  .option("--wait <seconds>", "wie lange auf die Bestätigung warten / how long to wait for approval", "600")
  .action(async (options: { server: string; wait: string }, command: Command) => {
    const { profile: dir, json } = globals(command);
    const { profile, history } = await linkNewDevice(
      dir,
      options.server,
      (code) =>
        print(
          json,
          { code },
          `Verknüpfungscode / link code: ${code}\n${terminalQr(code)}\nAuf dem anderen Gerät / on the other device: momedo approve-link ${code}`,
        ),
      Number(options.wait) * 1000,
    );
    const result = { id: profile.engine.user, device: profile.engine.device, history };
    await profile.close();
    print(json, result, `Verknüpft / linked: ${result.id} (Gerät / device ${result.device}), ${history} Nachrichten übernommen / messages taken over`);
  });

program
  .command("approve-link <code>")
  .description("ein neues Gerät bestätigen: es erhält alle Unterhaltungen und den Verlauf / approve a new device: it gets every conversation and the history")
  .action(async (code: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const result = await approveLink(profile, code);
      print(json, result, `Gerät / device ${result.device} verknüpft / linked: ${result.groups} Unterhaltungen / conversations, ${result.history} Nachrichten / messages`);
    });
  });

program
  .command("devices")
  .description("meine Geräte / my devices")
  .action(async (_o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const devices = await profile.messenger.devices();
      for (const d of devices) {
        print(json, d, `${d.device}${d.current ? " (dieses / this)" : ""}  seit / since ${new Date(d.createdAt).toISOString().slice(0, 10)}`);
      }
      if (json) console.log(JSON.stringify({ count: devices.length }));
    });
  });

program
  .command("card-action <message> <action>")
  .description("auf eine Karte antworten (Knopf, Formular) / act on a card (button, form)")
  .option("--field <name=value...>", "Formularfeld, mehrfach möglich / form field, repeatable")
  .action(async (messageId: string, action: string, options: { field?: string[] }, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const card = profile.store.findMessage(messageId.toUpperCase());
      if (!card || card.card?.kind !== "card") throw new RangeError(`${messageId}: keine Karte in diesem Profil / no card in this profile`);
      const values: Record<string, string> = {};
      for (const field of options.field ?? []) {
        const at = field.indexOf("=");
        if (at < 1) throw new RangeError(`--field ${field}: NAME=WERT / NAME=VALUE`);
        values[field.slice(0, at)] = field.slice(at + 1);
      }
      const decided = profile.store.replies(card.chat, card.id).find((r) => r.card?.kind === "outcome" && r.from === card.from);
      if (decided?.card?.kind === "outcome") throw new RangeError(`Karte schon entschieden / card already decided: ${decided.card.outcome.text}`);
      const problem = cardActionProblem(card.card.card, profile.engine.user, action, values);
      if (problem) throw new RangeError(problem);
      const sent = await profile.messenger.sendCard(card.chat, { kind: "action", action: { target: card.id, action, values } });
      print(json, { id: sent.id, chat: card.chat, target: card.id, action }, `${action} gesendet / sent (${sent.id})`);
    });
  });

program
  .command("people")
  .description("wen ich sehen und anschreiben kann / the people I may see and contact")
  .option("--search <text>", "nur Namen mit diesem Text / only names containing this text")
  .action(async (options: { search?: string }, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const { people } = await profile.messenger.directory();
      const needle = options.search?.toLocaleLowerCase();
      const shown = people.filter((p) => !needle || p.name.toLocaleLowerCase().includes(needle));
      for (const p of shown) print(json, p, `${p.user}  ${p.name}${p.class ? ` (${p.class})` : ""}`);
      if (json) console.log(JSON.stringify({ count: shown.length }));
    });
  });

program
  .command("remove-device <device>")
  .description("ein eigenes Gerät entfernen (verloren, verkauft) / remove one of my devices (lost, sold)")
  .action(async (device: string, _o: unknown, command: Command) => {
    await withProfile(command, async (profile, json) => {
      const result = await profile.messenger.removeDevice(device);
      print(json, { device: device.toUpperCase(), removed: true, groups: result.groups }, `Gerät / device ${device.toUpperCase()} entfernt / removed`);
    });
  });

function passphraseOption(options: { passphrase?: string }): string {
  const passphrase = options.passphrase ?? process.env.MOMEDO_CHAT_PASSPHRASE;
  if (!passphrase) throw new RangeError("--passphrase fehlt / is missing (oder / or MOMEDO_CHAT_PASSPHRASE)");
  return passphrase;
}

program
  .command("protect <chat>")
  .description("Unterhaltung zusätzlich mit einem Passwort schützen, das jedes Mitglied einmal eingibt / protect a conversation with an extra passphrase every member enters once")
  .option("--passphrase <text>", "das Passwort / the passphrase (env MOMEDO_CHAT_PASSPHRASE)")
  .action(async (chat: string, options: { passphrase?: string }, command: Command) => {
    const passphrase = passphraseOption(options);
    await withProfile(command, async (profile, json) => {
      await profile.messenger.protect(chat, passphrase);
      print(json, { id: chat, protected: true }, `${chat}: geschützt / protected`);
    });
  });

program
  .command("passphrase <chat>")
  .description("das Passwort einer geschützten Unterhaltung eingeben / enter the passphrase of a protected conversation")
  .option("--passphrase <text>", "das Passwort / the passphrase (env MOMEDO_CHAT_PASSPHRASE)")
  .action(async (chat: string, options: { passphrase?: string }, command: Command) => {
    const passphrase = passphraseOption(options);
    await withProfile(command, async (profile, json) => {
      const events = await profile.messenger.enterPassphrase(chat, passphrase);
      const messages = events.filter((e) => e.type === "message").length;
      print(json, { id: chat, unlocked: true, messages }, `${chat}: entsperrt / unlocked, ${messages} Nachricht(en) / message(s)`);
    });
  });

// For tests and benchmarks: the process's peak memory, on stderr as one JSON line. VmHWM, where
// Linux has it: getrusage's maxRSS keeps the parent's peak across fork and exec.
if (process.env.MOMEDO_REPORT_MAX_RSS === "1") {
  process.on("exit", () => {
    let kib = process.resourceUsage().maxRSS;
    try {
      kib = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]);
    } catch {
      // not Linux
    }
    process.stderr.write(`${JSON.stringify({ maxRssKiB: kib })}\n`);
  });
}

program.parseAsync(process.argv).catch((error: unknown) => {
  const json = process.argv.includes("--json");
  let code = "error";
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof MomedoError && isErrorCode(error.code)) {
    code = error.code;
    message = error.message;
  } else if (error instanceof ProfileError || error instanceof RangeError) {
    code = "usage";
  }
  if (json) console.log(JSON.stringify({ error: { code, message } }));
  else console.error(`Fehler / error: ${message}`);
  process.exit(1);
});
