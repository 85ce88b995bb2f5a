#!/usr/bin/env node
// Approval workflow: a clerk writes `/auftrag Glühbirne im Flur 2. OG tauschen` in a group with
// this bot; the bot posts an approval card only the approver may answer. "Freigeben" releases the
// job to the caretaker (a direct message), "Ablehnen" needs a reason. Every step is one JSON line.
//
//   node bot/examples/approval.js --profile ./bot-approval --approver ID --caretaker ID [--invite INVITE]
import { parseArgs } from "node:util";
import { Bot } from "@momedo/bot";

const { values: options } = parseArgs({
  options: {
    profile: { type: "string", default: "./bot-approval" },
    invite: { type: "string" },
    approver: { type: "string" },
    caretaker: { type: "string" },
  },
});
if (!options.approver || !options.caretaker) {
  console.error("usage: approval.js --profile DIR --approver ID --caretaker ID [--invite INVITE]");
  process.exit(2);
}
const approver = options.approver.toUpperCase();
const caretaker = options.caretaker.toUpperCase();

const log = (step, details = {}) => console.log(JSON.stringify({ at: new Date().toISOString(), step, ...details }));
const clock = () => new Date().toLocaleTimeString("de-DE", { hour: "2-digit", minute: "2-digit" });

const bot = options.invite ? await Bot.enroll(options.profile, options.invite) : await Bot.open(options.profile);

/** A member's name as the chat shows it (the ID if the server does not know it). */
async function nameOf(chat, user) {
  const info = await bot.profile.messenger.info(chat);
  return info.members.find((m) => m.user === user)?.name ?? user;
}

bot.onJoin((chat) => log("joined", { chat }));

bot.command("auftrag", async ({ chat, from, message, reply }) => {
  const task = message.text.replace(/^\/auftrag\s*/i, "").trim();
  if (!task) {
    await reply("Bitte so: /auftrag Glühbirne im Flur 2. OG tauschen / usage: /auftrag TASK");
    return;
  }
  log("requested", { chat, from, task });
  const card = await bot.sendCard(chat, {
    title: "Auftrag zur Freigabe / job to approve",
    fields: [
      { label: "Aufgabe / task", value: task },
      { label: "Angefragt von / requested by", value: await nameOf(chat, from) },
      { label: "Zeit / time", value: clock() },
    ],
    inputs: [{ id: "reason", label: "Grund / reason", kind: "text" }],
    actions: [
      { id: "approve", label: "Freigeben", style: "primary" },
      { id: "reject", label: "Ablehnen", style: "danger", needs: ["reason"] },
    ],
    allowed: [approver],
  });
  log("card_posted", { chat, card: card.id, allowed: [approver] });
});

bot.onCardAction(async ({ chat, from, card, cardId, action, values, decide }) => {
  const task = card.fields[0].value;
  const by = `${await nameOf(chat, from)}, ${clock()}`;
  if (action === "approve") {
    await decide("approved", `Freigegeben von ${by}`);
    log("approved", { chat, card: cardId, by: from });
    await bot.send(caretaker, `Auftrag freigegeben / job released: ${task} (${by})`);
    log("caretaker_told", { card: cardId, caretaker });
  } else {
    await decide("rejected", `Abgelehnt von ${by}: ${values.reason}`);
    log("rejected", { chat, card: cardId, by: from, reason: values.reason });
  }
});

bot.onRefused((refused) => log("refused", refused));
bot.onError((error) => log("error", { message: String(error?.message ?? error) }));

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    await bot.stop();
    log("stopped");
    process.exit(0);
  });
}
await bot.start();
log("started", { bot: bot.id, name: bot.name, approver, caretaker });
