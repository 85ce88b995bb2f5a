#!/usr/bin/env node
// Timetable announcement: what the school's timetable system does when a lesson is cancelled.
// It POSTs the cancellation to the HTTP bridge (`momedo-bot bridge`), whose bot posts it into the
// class channel (the channel's name is the class, e.g. "7b"; the bot must be an admin there).
// Every step is one JSON line; a refusal by the bridge ends with exit code 1.
//
//   MOMEDO_BRIDGE_TOKEN=mbt_… node bot/examples/timetable.js --bridge http://127.0.0.1:4780 \
//     --class 7b --date 2026-11-27 --lesson 3 --subject Mathematik [--note "Aufgaben im Lernraum"]
import { parseArgs } from "node:util";

const { values: options } = parseArgs({
  options: {
    bridge: { type: "string", default: "http://127.0.0.1:4780" },
    class: { type: "string" },
    date: { type: "string" },
    lesson: { type: "string" },
    subject: { type: "string" },
    note: { type: "string" },
  },
});
const token = process.env.MOMEDO_BRIDGE_TOKEN;
if (!token || !options.class || !/^\d{4}-\d{2}-\d{2}$/.test(options.date ?? "") || !/^\d{1,2}$/.test(options.lesson ?? "") || !options.subject) {
  console.error("usage: MOMEDO_BRIDGE_TOKEN=… timetable.js --bridge URL --class 7b --date YYYY-MM-DD --lesson N --subject NAME [--note TEXT]");
  process.exit(2);
}

const log = (step, details = {}) => console.log(JSON.stringify({ at: new Date().toISOString(), step, ...details }));

const day = new Date(`${options.date}T12:00:00Z`).toLocaleDateString("de-DE", { weekday: "long", day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC" });
const text = `Entfall / cancelled: ${options.class}, ${day}, ${options.lesson}. Stunde ${options.subject}${options.note ? ` – ${options.note}` : ""}`;
log("cancellation", { class: options.class, date: options.date, lesson: Number(options.lesson), subject: options.subject, text });

const response = await fetch(new URL(`/v1/chats/${encodeURIComponent(options.class)}/messages`, options.bridge), {
  method: "POST",
  headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
  body: JSON.stringify({ text }),
  signal: AbortSignal.timeout(30_000),
});
const answer = await response.json();
if (!response.ok) {
  // The bridge's errors carry a stable code and a bilingual message (bridge_auth, unknown_chat, …).
  log("refused", { status: response.status, code: answer.code, message: answer.message });
  process.exit(1);
}
log("posted", { chat: answer.chat, message: answer.id });
