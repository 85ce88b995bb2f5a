#!/usr/bin/env node
// Report forwarding: an officer sends a photo with its location to the office group
// (`momedo send-file GROUP photo.jpg --lat 52.52 --lon 13.40`); this bot downloads it (checking
// its hash while decrypting), POSTs it to the case system and answers with the case number.
// Every step is one JSON line.
//
//   node bot/examples/report-forwarding.js --profile ./bot-reports --endpoint http://127.0.0.1:8080/cases [--invite INVITE]
//
// The endpoint receives JSON: {image (base64), mediaType, name, lat, lon, time, sender, senderName, chat}
// and answers {"case": "2026-000123"}.
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Bot } from "@momedo/bot";

const { values: options } = parseArgs({
  options: {
    profile: { type: "string", default: "./bot-reports" },
    invite: { type: "string" },
    endpoint: { type: "string" },
  },
});
if (!options.endpoint) {
  console.error("usage: report-forwarding.js --profile DIR --endpoint URL [--invite INVITE]");
  process.exit(2);
}
const endpoint = new URL(options.endpoint);

const log = (step, details = {}) => console.log(JSON.stringify({ at: new Date().toISOString(), step, ...details }));

const bot = options.invite ? await Bot.enroll(options.profile, options.invite) : await Bot.open(options.profile);
// Plaintext photos stay only while they are forwarded, inside the bot's own profile.
const inbox = join(options.profile, "inbox");
mkdirSync(inbox, { recursive: true, mode: 0o700 });

bot.onJoin((chat) => log("joined", { chat }));

bot.onMessage(async ({ message, chat, from, reply }) => {
  if (message.type !== "file") return;
  const { file } = message;
  log("report_received", { chat, from, message: message.id, name: file.name, size: file.size, location: file.location ?? null });
  let path;
  try {
    path = await bot.saveFile(message, inbox);
    log("report_verified", { message: message.id, sha256: file.sha256 });
    const info = await bot.profile.messenger.info(chat);
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        image: readFileSync(path).toString("base64"),
        mediaType: file.mediaType,
        name: file.name,
        lat: file.location?.lat ?? null,
        lon: file.location?.lon ?? null,
        time: new Date(file.takenAt ?? message.sentAt).toISOString(),
        sender: from,
        senderName: info.members.find((m) => m.user === from)?.name ?? from,
        chat,
      }),
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) throw new Error(`${endpoint.origin} answered ${response.status}`);
    const { case: caseNumber } = await response.json();
    if (typeof caseNumber !== "string" || !caseNumber) throw new Error(`${endpoint.origin} sent no case number`);
    log("report_forwarded", { message: message.id, case: caseNumber });
    await reply(`Vorgang ${caseNumber} angelegt / case ${caseNumber} created (${file.name})`);
    log("case_replied", { chat, case: caseNumber });
  } catch (error) {
    log("report_failed", { message: message.id, error: String(error?.message ?? error) });
    await reply(`Meldung ${file.name} nicht weitergeleitet, bitte erneut senden / report not forwarded, please send it again`);
  } finally {
    if (path) rmSync(path, { force: true });
  }
});

bot.onError((error) => log("error", { message: String(error?.message ?? error) }));

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await bot.stop();
    log("stopped");
    process.exit(0);
  });
}
await bot.start();
log("started", { bot: bot.id, name: bot.name, endpoint: endpoint.href });
