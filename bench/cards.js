#!/usr/bin/env node
// Cards on loopback: one real momedo server (child process, no TLS) and, in this process, one bot
// (the SDK, its state written and flushed per card as in production) and one member (an
// in-process client profile) in a group. Measures
//   - posting: cards per second the bot posts, one after the other (each accepted by the server
//     before the next), and when the last of them has reached the member;
//   - round trips: card posted -> the member's client has it -> the member's action -> the bot's
//     decision seen by the member; median and percentiles, and round trips per second.
//   node bench/cards.js [--cards 300] [--round-trips 300]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollProfile } from "@momedo/client";
import { Bot } from "@momedo/bot";
import { cleanupOnExit, machineInfo, memKiB, parseArgs, positiveNumber, REPO_DIR, round, startServer, summarize, table, writeResult } from "./lib.js";

const args = parseArgs(process.argv.slice(2), { known: ["cards", "round-trips"] });
const cardCount = positiveNumber("cards", args.cards ?? "300");
const roundTrips = positiveNumber("round-trips", args["round-trips"] ?? "300");
const WARMUP = 20;
const SERVER = join(REPO_DIR, "packages/server/bin/momedo-server.js");

const work = mkdtempSync(join(tmpdir(), "momedo-bench-cards-"));
let server;
cleanupOnExit({ name: "cards", kill: () => server?.kill(), remove: () => rmSync(work, { recursive: true, force: true }) });

const adminJson = (...argv) => JSON.parse(execFileSync(process.execPath, [SERVER, "admin", ...argv, "--data", join(work, "data"), "--json"], { encoding: "utf8" }));

const card = (i) => ({
  title: `Auftrag ${i} zur Freigabe`,
  fields: [
    { label: "Aufgabe", value: "Glühbirne im Flur 2. OG tauschen" },
    { label: "Angefragt von", value: "K. Schmidt" },
  ],
  inputs: [{ id: "reason", label: "Grund", kind: "text" }],
  actions: [
    { id: "approve", label: "Freigeben", style: "primary" },
    { id: "reject", label: "Ablehnen", style: "danger", needs: ["reason"] },
  ],
});

/** Resolves when the member's client has processed a message matching `key` (a card's or outcome's ID). */
function arrivals(member) {
  const seen = new Map();
  const waiters = new Map();
  member.messenger.onEvent((event) => {
    if (event.type !== "message") return;
    const key = event.message.type === "card_outcome" ? `outcome:${event.message.target}` : event.message.id;
    seen.set(key, performance.now());
    waiters.get(key)?.();
  });
  return (key) =>
    seen.has(key)
      ? Promise.resolve(seen.get(key))
      : new Promise((resolve) => waiters.set(key, () => (waiters.delete(key), resolve(seen.get(key)))));
}

async function main() {
  server = await startServer({ main: SERVER, dataDir: join(work, "data"), name: "cards" });
  const person = adminJson("add-user", "--name", "M. Weber", "--role", "staff");
  const added = adminJson("add-bot", "--name", "Bench-Bot");
  const member = await enrollProfile(join(work, "member"), person.invite);
  const bot = await Bot.enroll(join(work, "bot"), added.invite);
  bot.onCardAction(({ decide }) => decide("approved", "Freigegeben von M. Weber"));
  const joined = new Promise((resolve) => bot.onJoin(resolve));
  await bot.start();
  const arrived = arrivals(member);
  const group = await member.messenger.createGroup("Bench", [bot.id]);
  await joined;

  const roundTrip = async (i) => {
    const started = performance.now();
    const posted = await bot.sendCard(group, card(i));
    await arrived(posted.id);
    await member.messenger.sendCard(group, { kind: "action", action: { target: posted.id, action: "approve", values: {} } });
    return (await arrived(`outcome:${posted.id}`)) - started;
  };
  for (let i = 0; i < WARMUP; i++) await roundTrip(-i);

  // Posting, one card after the other.
  const postMs = [];
  let last;
  const postStart = performance.now();
  for (let i = 0; i < cardCount; i++) {
    const t = performance.now();
    last = await bot.sendCard(group, card(i));
    postMs.push(performance.now() - t);
  }
  const postSeconds = (performance.now() - postStart) / 1000;
  const deliveredSeconds = ((await arrived(last.id)) - postStart) / 1000;

  // Round trips, one after the other.
  const tripMs = [];
  const tripStart = performance.now();
  for (let i = 0; i < roundTrips; i++) tripMs.push(await roundTrip(i));
  const tripSeconds = (performance.now() - tripStart) / 1000;

  const post = summarize(postMs);
  const trip = summarize(tripMs);
  const result = {
    posting: {
      cards: cardCount,
      cardsPerSecond: round(cardCount / postSeconds, 1),
      deliveredPerSecond: round(cardCount / deliveredSeconds, 1),
      ms: { p50: round(post.p50), p90: round(post.p90), p99: round(post.p99), max: round(post.max) },
    },
    roundTrips: {
      count: roundTrips,
      perSecond: round(roundTrips / tripSeconds, 1),
      ms: { p50: round(trip.p50), p90: round(trip.p90), p99: round(trip.p99), max: round(trip.max) },
    },
    serverPeakMiB: round(memKiB(server.pid).hwm / 1024, 1),
  };
  await bot.stop();
  await member.close();
  await server.stop();

  console.log(
    table(
      ["measure", "count", "per second", "p50 ms", "p90 ms", "p99 ms", "max ms"],
      [
        ["card posted (server accepted)", cardCount, result.posting.cardsPerSecond, result.posting.ms.p50, result.posting.ms.p90, result.posting.ms.p99, result.posting.ms.max],
        ["cards at the member", cardCount, result.posting.deliveredPerSecond, null, null, null, null],
        ["card -> action -> outcome seen", roundTrips, result.roundTrips.perSecond, result.roundTrips.ms.p50, result.roundTrips.ms.p90, result.roundTrips.ms.p99, result.roundTrips.ms.max],
      ],
    ),
  );
  console.log(`(loopback, one bot and one member in this process after ${WARMUP} warm-up round trips; server peak ${result.serverPeakMiB} MiB)`);
  const file = writeResult("cards", { date: new Date().toISOString(), machine: machineInfo(), config: { cards: cardCount, roundTrips, warmup: WARMUP }, ...result });
  console.log(`\nwritten: ${file}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error("cards bench failed:", error);
    process.exit(1);
  },
);
