// The bot SDK against a real server and real CLI people: the org-signed bot mark, commands,
// a card answered from the CLI, persistent state, and catching up after the bot was offline.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot } from "@momedo/bot";
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, texts, type Line, type ServerProcess } from "./harness.js";

describe("bot SDK", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("bot");
  const ids: Record<string, string> = {};
  const profile = (name: string) => `${home}/${name}`;
  let bot: Bot;
  let group = "";
  const log: string[] = [];

  const wire = (b: Bot) => {
    b.command("status", async ({ args, reply }) => {
      const count = (b.get<number>("asked") ?? 0) + 1;
      b.set("asked", count);
      await reply(`Auftrag ${args[0] ?? "?"}: in Arbeit (Anfrage ${count})`);
    });
    b.onMessage(async ({ message }) => {
      log.push(`message:${message.text}`);
    });
    b.onCardAction(async ({ action, from, decide, values }) => {
      log.push(`action:${action}:${from}`);
      await decide(action === "approve" ? "approved" : "rejected", action === "approve" ? `Freigegeben von ${from}` : `Abgelehnt: ${values.reason}`);
    });
    b.onJoin((chat) => {
      log.push(`join:${chat}`);
    });
    b.onRefused((r) => {
      log.push(`refused:${r.reason}`);
    });
    return b;
  };

  beforeAll(async () => {
    data = tempDir("bot-data");
    server = await startServer(data, await freePort());
    for (const name of ["clerk", "caretaker"]) {
      const user = await admin(data, "add-user", "--name", name, "--role", "staff");
      ids[name] = String(user.id);
      await momedo(profile(name), "enroll", String(user.invite));
    }
    const added = await admin(data, "add-bot", "--name", "Hausmeister-Bot");
    ids.bot = String(added.id);
    expect(added).toMatchObject({ role: "bot" });
    bot = wire(await Bot.enroll(profile("bot"), String(added.invite)));
    await bot.start();
  });

  afterAll(async () => {
    await bot?.stop().catch(() => undefined);
    await server?.stop();
  });

  it("is marked as a bot by the organisation's signature in every member's view", async () => {
    const created = await momedo(profile("clerk"), "group", "create", "Haustechnik", "--members", `${ids.caretaker},${ids.bot}`);
    group = String(created.lines.at(-1)!.id);
    const info = (await momedo(profile("caretaker"), "group", "info", group)).lines.filter((l) => "role" in l);
    expect(info.find((m) => m.user === ids.bot)).toMatchObject({ bot: true });
    expect(info.filter((m) => m.bot === true)).toHaveLength(1);
    const people = (await momedo(profile("clerk"), "people")).lines.filter((l) => "user" in l);
    expect(people.find((p) => p.user === ids.bot)).toMatchObject({ role: "bot" });
  });

  it("answers a /command in the chat and keeps its state in its profile", async () => {
    await momedo(profile("clerk"), "send", group, "/status 4711");
    await waitFor(async () => texts((await momedo(profile("clerk"), "receive")).lines), (t) => t.length > 0, (t) => {
      expect(t).toEqual(["Auftrag 4711: in Arbeit (Anfrage 1)"]);
    });
    expect(bot.get<number>("asked")).toBe(1);
  });

  it("posts a card that a person answers from the CLI; everyone sees one outcome", async () => {
    const card = await bot.sendCard(group, {
      title: "Glühbirne Flur 2. OG tauschen",
      fields: [{ label: "Auftrag", value: "4711" }],
      inputs: [{ id: "reason", label: "Grund", kind: "text" }],
      actions: [
        { id: "approve", label: "Freigeben", style: "primary" },
        { id: "reject", label: "Ablehnen", style: "danger", needs: ["reason"] },
      ],
      allowed: [ids.caretaker!],
    });
    const seen = (await momedo(profile("caretaker"), "receive")).lines.find((l) => l.type === "card")!;
    expect(seen).toMatchObject({ id: card.id, from: ids.bot, card: { title: "Glühbirne Flur 2. OG tauschen" } });
    const plain = await run(CLI_BIN, ["receive", "--profile", profile("clerk")]);
    expect(plain.stdout).toContain("📋 Glühbirne Flur 2. OG tauschen");
    expect(plain.stdout).toContain(`momedo card-action ${card.id}`);

    // The reason is required for "reject": the CLI says so before sending anything.
    const noReason = await run(CLI_BIN, ["card-action", card.id, "reject", "--profile", profile("caretaker"), "--json"]);
    expect(noReason.code).toBe(1);
    expect(JSON.stringify(noReason.lines.at(-1))).toMatch(/Grund.*fehlt/);

    await momedo(profile("caretaker"), "card-action", card.id, "approve");
    const outcomes = await waitFor(
      async () => (await momedo(profile("clerk"), "receive")).lines.filter((l: Line) => l.type === "card_outcome" || l.type === "card_action"),
      (lines) => lines.some((l) => l.type === "card_outcome"),
    );
    expect(outcomes.filter((l) => l.type === "card_outcome")).toEqual([
      expect.objectContaining({ target: card.id, status: "approved", text: `Freigegeben von ${ids.caretaker}`, from: ids.bot }),
    ]);
    expect(bot.outcome(card.id)).toMatchObject({ status: "approved", by: ids.caretaker });
    expect(log).toContain(`action:approve:${ids.caretaker}`);

    // Decided: the CLI refuses a second action locally.
    const again = await run(CLI_BIN, ["card-action", card.id, "reject", "--field", "reason=doch nicht", "--profile", profile("caretaker"), "--json"]);
    expect(again.code).toBe(1);
    expect(JSON.stringify(again.lines.at(-1))).toMatch(/already decided/);
  });

  it("catches up with what arrived while it was offline, state intact", async () => {
    await bot.stop();
    await momedo(profile("clerk"), "send", group, "/status 815");
    await momedo(profile("clerk"), "send", group, "Bitte auch den Keller prüfen");
    const winter = String((await momedo(profile("clerk"), "group", "create", "Winterdienst", "--members", ids.bot!)).lines.at(-1)!.id);
    bot = wire(await Bot.open(profile("bot")));
    await bot.start();
    await bot.idle();
    expect(log).toContain("message:Bitte auch den Keller prüfen");
    // Joined while offline: told once, at start; the first chat was known already.
    expect(log.filter((l) => l.startsWith("join:"))).toEqual([`join:${group}`, `join:${winter}`]);
    const replies = texts((await momedo(profile("clerk"), "receive")).lines);
    expect(replies).toEqual(["Auftrag 815: in Arbeit (Anfrage 2)"]);
  });
});

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, check?: (value: T) => void, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  let all = value;
  while (!done(all) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    value = await probe();
    all = (Array.isArray(all) && Array.isArray(value) ? [...all, ...value] : value) as T;
  }
  check?.(all);
  return all;
}
