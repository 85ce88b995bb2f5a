// Issue 7's "must hold" for cards: an action from someone outside the chat, a forged response and a
// replayed action are refused and leave the card's outcome as it is. A real server and CLI people;
// the bot runs in-process, and the attacks open a person's profile in-process to send what the
// CLI would refuse to send.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot } from "@momedo/bot";
import { openProfile, type Profile, type Request } from "@momedo/client";
import { MomedoError } from "@momedo/protocol";
import type { CardAction } from "@momedo/core";
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, type Line, type ServerProcess } from "./harness.js";

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A frame straight to the server, past every check of the person's own client. */
function rawRequest(profile: Profile, frame: Request): Promise<unknown> {
  return (profile.messenger as unknown as { conn(): { request(r: Request): Promise<unknown> } }).conn().request(frame);
}

describe("card actions that must be refused", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("bot-cards");
  const dir = (name: string) => `${home}/${name}`;
  const ids: Record<string, string> = {};
  let bot: Bot;
  let office = "";
  let other = "";
  let cardId = "";
  const decided: { from: string; action: string }[] = [];
  const refused: { from: string; chat: string; reason: string }[] = [];
  const seen: string[] = [];

  /** Opens a person's profile in-process, caught up, for `act`; closes it again (the CLI uses it too). */
  async function as<T>(name: string, act: (profile: Profile) => Promise<T>): Promise<T> {
    const profile = await openProfile(dir(name));
    try {
      await profile.messenger.connect();
      return await act(profile);
    } finally {
      await profile.close();
    }
  }

  /** Sends a text the bot sees after everything sent before it: the point up to which it has handled all. */
  async function botHandledUpTo(name: string, chat: string): Promise<void> {
    const marker = `Stand ${seen.length + 1}`;
    await momedo(dir(name), "send", chat, marker);
    await until(() => seen.includes(marker), `bot saw ${marker}`);
  }

  const action = (act: string, values: Record<string, string> = {}) => ({ kind: "action" as const, action: { target: cardId, action: act, values } satisfies CardAction });

  /** The actions on this card and its outcomes that a member's CLI prints (not printed before). */
  async function cardLinesSeenBy(name: string): Promise<Line[]> {
    const lines = (await momedo(dir(name), "receive")).lines;
    return lines.filter((l) => (l.type === "card_action" || l.type === "card_outcome") && l.target === cardId);
  }

  beforeAll(async () => {
    data = tempDir("bot-cards-data");
    server = await startServer(data, await freePort());
    const people = { clerk: "K. Schmidt", approver: "M. Weber", colleague: "J. Neumann", outsider: "L. Fischer" };
    for (const [key, name] of Object.entries(people)) {
      const user = await admin(data, "add-user", "--name", name, "--role", "staff");
      ids[key] = String(user.id);
      await momedo(dir(key), "enroll", String(user.invite));
    }
    const added = await admin(data, "add-bot", "--name", "Freigabe-Bot");
    ids.bot = String(added.id);
    bot = await Bot.enroll(dir("bot"), String(added.invite));
    bot.onMessage(({ message }) => void seen.push(message.text));
    bot.onCardAction(async ({ from, action: act, values, decide }) => {
      decided.push({ from, action: act });
      await decide(act === "approve" ? "approved" : "rejected", act === "approve" ? "Freigegeben von M. Weber, 10:42" : `Abgelehnt: ${values.reason}`);
    });
    bot.onRefused(({ from, chat, reason }) => void refused.push({ from, chat, reason }));
    await bot.start();

    office = String((await momedo(dir("clerk"), "group", "create", "Haustechnik", "--members", `${ids.approver},${ids.colleague},${ids.bot}`)).lines.at(-1)!.id);
    other = String((await momedo(dir("outsider"), "group", "create", "Bauhof", "--members", ids.bot!)).lines.at(-1)!.id);
    await until(() => bot.profile.messenger.connected, "bot online");
    await bot.idle();
    const card = await bot.sendCard(office, {
      title: "Auftrag zur Freigabe",
      fields: [{ label: "Aufgabe", value: "Glühbirne im Flur 2. OG tauschen" }],
      inputs: [{ id: "reason", label: "Grund", kind: "text" }],
      actions: [
        { id: "approve", label: "Freigeben", style: "primary" },
        { id: "reject", label: "Ablehnen", style: "danger", needs: ["reason"] },
      ],
      allowed: [ids.approver!],
    });
    cardId = card.id;
    for (const name of ["clerk", "approver", "colleague"]) {
      expect((await momedo(dir(name), "receive")).lines.filter((l) => l.type === "card").map((l) => l.id)).toEqual([cardId]);
    }
  });

  afterAll(async () => {
    await bot?.stop().catch(() => undefined);
    await server?.stop();
  });

  it("refuses an action from outside the chat: the server takes nothing from a non-member, and the bot refuses the card quoted from another chat", async () => {
    await as("outsider", async (profile) => {
      // Encrypted for the chat the outsider is in, addressed to the one they are not in: the server refuses.
      const out = await profile.engine.encryptCard(other, action("approve"));
      const sent = rawRequest(profile, { t: "group.send", group: office, epoch: out.epoch, data: out.data });
      await expect(sent).rejects.toSatisfy((e) => e instanceof MomedoError && e.code === "not_member");
      await profile.engine.discardOutgoing(other, out.message.id);
      // The same action in a chat the bot shares with the outsider: the card belongs to another chat.
      await profile.messenger.sendCard(other, action("approve"));
    });
    await botHandledUpTo("outsider", other);
    expect(refused).toEqual([{ from: ids.outsider, chat: other, reason: "Karte aus einer anderen Unterhaltung / card of another chat" }]);
    expect(decided).toEqual([]);
    expect(bot.outcome(cardId)).toBeUndefined();
  });

  it("refuses forged responses: a member who may not act, a required reason missing or blank, an action the card does not have", async () => {
    refused.length = 0;
    // The CLI refuses each of these before sending; the bot must refuse them on its own.
    const byColleague = await run(CLI_BIN, ["card-action", cardId, "approve", "--profile", dir("colleague"), "--json"]);
    expect(byColleague.code).toBe(1);
    expect(byColleague.stdout + byColleague.stderr).toMatch(/nicht berechtigt/);
    await as("colleague", (profile) => profile.messenger.sendCard(office, action("approve")));
    await as("approver", async (profile) => {
      await profile.messenger.sendCard(office, action("reject"));
      await profile.messenger.sendCard(office, action("reject", { reason: "   " }));
      await profile.messenger.sendCard(office, action("delete"));
    });
    await botHandledUpTo("clerk", office);
    expect(refused).toEqual([
      { from: ids.colleague, chat: office, reason: "nicht berechtigt / not allowed to act on this card" },
      { from: ids.approver, chat: office, reason: '„Grund“ fehlt / "Grund" is missing' },
      { from: ids.approver, chat: office, reason: '„Grund“ fehlt / "Grund" is missing' },
      { from: ids.approver, chat: office, reason: 'unbekannte Aktion / unknown action "delete"' },
    ]);
    expect(decided).toEqual([]);
    expect(bot.outcome(cardId)).toBeUndefined();
    expect((await cardLinesSeenBy("colleague")).filter((l) => l.type === "card_outcome")).toEqual([]);
  });

  it("shows no outcome a member fakes: only the card's sender decides, so the card stays open", async () => {
    await as("colleague", (profile) =>
      profile.messenger.sendCard(office, { kind: "outcome", outcome: { target: cardId, status: "rejected", text: "Abgelehnt von M. Weber" } }),
    );
    // (The approver looks; the clerk's view of the whole card is checked at the end.)
    const shown = await run(CLI_BIN, ["receive", "--profile", dir("approver"), "--json"]);
    expect(shown.lines.filter((l) => l.type === "card_outcome")).toEqual([]);
    expect(shown.stderr).toMatch(/not from the card's sender/);
    expect(bot.outcome(cardId)).toBeUndefined();
  });

  it("decides once: a replayed message ID and any action after the decision change nothing; every member sees exactly one outcome", async () => {
    refused.length = 0;
    const approved = await momedo(dir("approver"), "card-action", cardId, "approve");
    const sent = approved.lines.at(-1)!;
    await until(() => bot.outcome(cardId) !== undefined, "decision");
    expect(decided).toEqual([{ from: ids.approver, action: "approve" }]);

    await as("approver", async (profile) => {
      const original = profile.store.findMessage(String(sent.id))!;
      // The approval's message ID again, now saying "reject": receivers drop a message ID they have seen.
      const replay = await profile.engine.encryptCard(office, action("reject", { reason: "doch nicht" }), { id: original.id, sentAt: original.sentAt });
      await rawRequest(profile, { t: "group.send", group: office, epoch: replay.epoch, data: replay.data });
      // A new action after the decision, and then the very same ciphertext once more.
      const late = await profile.engine.encryptCard(office, action("reject", { reason: "zu teuer" }));
      await rawRequest(profile, { t: "group.send", group: office, epoch: late.epoch, data: late.data });
      await rawRequest(profile, { t: "group.send", group: office, epoch: late.epoch, data: late.data });
    });
    await botHandledUpTo("clerk", office);
    expect(refused).toEqual([{ from: ids.approver, chat: office, reason: "schon entschieden / already decided: Freigegeben von M. Weber, 10:42" }]);
    expect(decided).toHaveLength(1);
    expect(bot.outcome(cardId)).toMatchObject({ status: "approved", by: ids.approver });

    // The CLI also refuses a second action once it has seen the outcome.
    const again = await run(CLI_BIN, ["card-action", cardId, "reject", "--field", "reason=doch nicht", "--profile", dir("approver"), "--json"]);
    expect(again.code).toBe(1);
    expect(again.stdout + again.stderr).toMatch(/already decided/);

    const one = [expect.objectContaining({ chat: office, from: ids.bot, status: "approved", text: "Freigegeben von M. Weber, 10:42" })];
    // The clerk saw every action in the chat once, the replay never, and one outcome.
    const clerk = await cardLinesSeenBy("clerk");
    expect(clerk.filter((l) => l.type === "card_action" && l.from === ids.approver).map((l) => [l.text, (l.values as Record<string, string>).reason])).toEqual([
      ["reject", undefined],
      ["reject", "   "],
      ["delete", undefined],
      ["approve", undefined],
      ["reject", "zu teuer"],
    ]);
    expect(clerk.filter((l) => l.type === "card_outcome")).toEqual(one);
    for (const name of ["colleague", "approver"]) expect((await cardLinesSeenBy(name)).filter((l) => l.type === "card_outcome")).toEqual(one);
    expect(await cardLinesSeenBy("outsider")).toEqual([]);
  });
});
