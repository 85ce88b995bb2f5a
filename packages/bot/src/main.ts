#!/usr/bin/env node
// momedo-bot: enrolls a bot profile and runs the HTTP bridge bot for systems that cannot run a
// bot of their own (token per integration, signed webhooks, dead-letter log).
import { Command } from "commander";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ProfileError } from "@momedo/client";
import { isErrorCode, MomedoError } from "@momedo/protocol";
import { Bot } from "./bot.js";
import { Bridge, loadBridgeConfig } from "./bridge.js";
import { readDeadLetters } from "./webhooks.js";

interface GlobalOptions {
  profile?: string;
  json?: boolean;
}

const program = new Command("momedo-bot")
  .description("momedo-Bot: HTTP-Brücke für Fachverfahren / momedo bot: HTTP bridge for the town's systems")
  .option("--profile <dir>", "Profilverzeichnis des Bots / the bot's profile directory (env MOMEDO_PROFILE)", process.env.MOMEDO_PROFILE ?? "./.momedo-bot")
  .option("--json", "eine JSON-Zeile je Ergebnis / one JSON object per line")
  .showHelpAfterError();

function globals(command: Command): Required<GlobalOptions> {
  const options = command.optsWithGlobals() as GlobalOptions;
  return { profile: resolve(options.profile ?? "./.momedo-bot"), json: options.json === true };
}

function print(json: boolean, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value) : text);
}

program
  .command("enroll <invite>")
  .description("Bot mit der Einladung aus „momedo-server admin add-bot“ anmelden / enroll the bot with the invite from `momedo-server admin add-bot`")
  .action(async (invite: string, _options: unknown, command: Command) => {
    const { profile, json } = globals(command);
    const bot = await Bot.enroll(profile, invite);
    const result = { id: bot.id, device: bot.profile.engine.device, name: bot.name };
    await bot.profile.close();
    print(json, result, `Bot angemeldet / bot enrolled: ${result.id} – ${result.name}`);
  });

program
  .command("bridge")
  .description("HTTP-Brücke und Webhooks betreiben (bis SIGTERM) / run the HTTP bridge and webhooks (until SIGTERM)")
  .requiredOption("--config <file>", "Konfiguration (JSON: integrations, chats, webhooks) / configuration (JSON: integrations, chats, webhooks)")
  .option("--host <host>", "Adresse / address to listen on", "127.0.0.1")
  .option("--port <port>", "Port", "4780")
  .action(async (options: { config: string; host: string; port: string }, command: Command) => {
    const { profile, json } = globals(command);
    const port = Number(options.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`--port ${options.port}: 0 … 65535`);
    const config = loadBridgeConfig(resolve(options.config));
    const bot = await Bot.open(profile);
    bot.onError((error) => console.error("momedo-bot:", error instanceof Error ? error.message : error));
    const bridge = new Bridge(bot, config);
    const url = await bridge.start(options.host, port);
    print(
      json,
      { url, bot: bot.id, integrations: config.integrations.length, webhooks: config.webhooks.length },
      `Brücke läuft / bridge is running: ${url} (Bot ${bot.id}, ${config.integrations.length} Anbindung(en) / integration(s), ${config.webhooks.length} Webhook(s))`,
    );
    await new Promise<void>((done) => {
      for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => done());
    });
    await bridge.stop();
  });

program
  .command("token")
  .description("neues Zugangstoken für eine Anbindung und seinen SHA-256 für die Konfiguration / a new integration token and its SHA-256 for the configuration")
  .action((_options: unknown, command: Command) => {
    const { json } = globals(command);
    const token = `mbt_${randomBytes(32).toString("base64url")}`;
    const tokenSha256 = createHash("sha256").update(token).digest("hex");
    print(
      json,
      { token, tokenSha256 },
      `Token (nur der Anbindung geben / give only to the integration): ${token}\n"tokenSha256" für die Konfiguration / for the configuration: ${tokenSha256}`,
    );
  });

program
  .command("dead-letters")
  .description("Webhook-Zustellungen, die endgültig fehlschlugen / webhook deliveries that failed for good")
  .action((_options: unknown, command: Command) => {
    const { profile, json } = globals(command);
    if (!existsSync(join(profile, "profile.json"))) throw new RangeError(`${profile}: kein Bot-Profil / no bot profile (momedo-bot enroll …)`);
    const letters = readDeadLetters(profile);
    for (const d of letters) {
      const { body, ...rest } = d;
      print(json, { ...rest, payload: JSON.parse(body) as unknown }, `[${d.deadAt}] ${d.event} → ${d.url}: ${d.tries} Versuche / tries, ${d.lastError} (${d.id})`);
    }
    print(json, { deadLetters: letters.length }, `${letters.length} unzustellbar / undeliverable`);
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const json = process.argv.includes("--json");
  let code = "error";
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof MomedoError && isErrorCode(error.code)) code = error.code;
  else if (error instanceof ProfileError || error instanceof RangeError) code = "usage";
  if (json) console.log(JSON.stringify({ error: { code, message } }));
  else console.error(`Fehler / error: ${message}`);
  process.exit(1);
});
