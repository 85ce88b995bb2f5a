// The three example workflows of bot/examples end to end: a real server, each example running as
// its own node process (as an admin would start it), and people as real CLI profiles.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Jimp } from "jimp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProfile } from "@momedo/client";
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, texts, type Line, type ServerProcess } from "./harness.js";

const EXAMPLES = fileURLToPath(new URL("../../bot/examples/", import.meta.url));
const BOT_BIN = fileURLToPath(new URL("../../packages/bot/bin/momedo-bot.js", import.meta.url));

/** A node program (an example bot, the bridge) as a child process; its JSON lines can be awaited. */
function startProcess(file: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [file, ...args]);
  const lines: Line[] = [];
  let stderr = "";
  let buffer = "";
  child.stdout!.on("data", (d: Buffer) => {
    buffer += d.toString();
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const part of parts) if (part.startsWith("{")) lines.push(JSON.parse(part) as Line);
  });
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const line = async (predicate: (l: Line) => boolean, count = 1, timeoutMs = 30_000): Promise<Line> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = lines.filter(predicate);
      if (found.length >= count) return found[count - 1]!;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${file}: line not seen; output: ${JSON.stringify(lines)}; stderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    lines,
    line,
    step: (step: string, count = 1) => line((l) => l.step === step, count),
    steps: () => lines.map((l) => l.step),
    stop: () =>
      new Promise<number | null>((done) => {
        if (child.exitCode !== null) return done(child.exitCode);
        child.once("exit", (code) => done(code));
        child.kill("SIGTERM");
      }),
  };
}

const startExample = (name: string, args: string[]) => startProcess(join(EXAMPLES, name), args);

/** Repeats `momedo receive` until `done` holds for everything received so far. */
async function receiveUntil(profile: string, done: (lines: Line[]) => boolean, extra: string[] = [], timeoutMs = 20_000): Promise<Line[]> {
  const deadline = Date.now() + timeoutMs;
  const all: Line[] = [];
  for (;;) {
    all.push(...(await momedo(profile, "receive", "--wait", "2", ...extra)).lines.filter((l) => "type" in l));
    if (done(all) || Date.now() > deadline) return all;
  }
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");
const outcomes = (lines: Line[]) => lines.filter((l) => l.type === "card_outcome");

describe("example workflows with real processes", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("workflows");
  const profile = (name: string) => join(home, name);
  const ids: Record<string, string> = {};
  const names: Record<string, string> = {
    clerk: "K. Schmidt",
    approver: "M. Weber",
    caretaker: "H. Krause",
    officer: "P. Yilmaz",
    office: "Ordnungsamt Innendienst",
    teacher: "S. Wagner",
    pupil1: "Emma",
    pupil2: "Jonas",
  };

  beforeAll(async () => {
    data = tempDir("workflows-data");
    server = await startServer(data, await freePort());
    for (const [key, name] of Object.entries(names)) {
      const user = await admin(data, "add-user", "--name", name, "--role", "staff");
      ids[key] = String(user.id);
      await momedo(profile(key), "enroll", String(user.invite));
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function addBot(name: string) {
    const bot = await admin(data, "add-bot", "--name", name);
    return { id: String(bot.id), invite: String(bot.invite) };
  }

  it("approval: /auftrag posts a card only the approver may answer; release reaches the caretaker, rejection needs a reason", async () => {
    const bot = await addBot("Auftrags-Bot");
    const example = startExample("approval.js", ["--profile", profile("approval-bot"), "--invite", bot.invite, "--approver", ids.approver!, "--caretaker", ids.caretaker!]);
    try {
      await example.step("started");
      const created = await momedo(profile("clerk"), "group", "create", "Haustechnik", "--members", `${ids.approver},${ids.caretaker},${bot.id}`);
      const group = String(created.lines.at(-1)!.id);
      await example.step("joined");

      await momedo(profile("clerk"), "send", group, "/auftrag Glühbirne im Flur 2. OG tauschen");
      const posted = await example.step("card_posted");
      expect(await example.step("requested")).toMatchObject({ chat: group, from: ids.clerk, task: "Glühbirne im Flur 2. OG tauschen" });
      const cardId = String(posted.card);

      const seen = (await receiveUntil(profile("approver"), (l) => l.some((m) => m.type === "card"))).find((l) => l.type === "card")!;
      expect(seen).toMatchObject({ id: cardId, from: bot.id, card: { title: "Auftrag zur Freigabe / job to approve", allowed: [ids.approver] } });
      const fields = (seen.card as { fields: { value: string }[] }).fields.map((f) => f.value);
      expect(fields.slice(0, 2)).toEqual(["Glühbirne im Flur 2. OG tauschen", names.clerk]);
      expect(fields[2]).toMatch(/^\d{2}:\d{2}$/);

      // Only the approver may act, and "Ablehnen" needs a reason: the CLI says so before sending.
      const byClerk = await run(CLI_BIN, ["card-action", cardId, "approve", "--profile", profile("clerk"), "--json"]);
      expect(byClerk.code).toBe(1);
      expect(byClerk.stdout + byClerk.stderr).toMatch(/nicht berechtigt/);
      const noReason = await run(CLI_BIN, ["card-action", cardId, "reject", "--profile", profile("approver"), "--json"]);
      expect(noReason.code).toBe(1);
      expect(noReason.stdout + noReason.stderr).toMatch(/Grund.*fehlt/);

      // The bot refuses such a reject on its own, when a client skips that check.
      const forged = await openProfile(profile("approver"));
      try {
        await forged.messenger.connect();
        await forged.messenger.sendCard(group, { kind: "action", action: { target: cardId, action: "reject", values: {} } });
      } finally {
        await forged.close();
      }
      expect(await example.step("refused")).toMatchObject({ chat: group, from: ids.approver, cardId, action: "reject", reason: '„Grund / reason“ fehlt / "Grund / reason" is missing' });

      await momedo(profile("approver"), "card-action", cardId, "approve");
      await example.step("caretaker_told");
      const caretakerSees = await receiveUntil(profile("caretaker"), (l) => outcomes(l).length > 0 && l.some((m) => m.chat !== group));
      expect(outcomes(caretakerSees)).toEqual([
        expect.objectContaining({ chat: group, from: bot.id, target: cardId, status: "approved", text: expect.stringMatching(/^Freigegeben von M\. Weber, \d{2}:\d{2}$/) }),
      ]);
      const direct = caretakerSees.filter((l) => l.chat !== group);
      expect(direct).toEqual([
        expect.objectContaining({ from: bot.id, type: "text", text: expect.stringMatching(/^Auftrag freigegeben \/ job released: Glühbirne im Flur 2\. OG tauschen \(M\. Weber, \d{2}:\d{2}\)$/) }),
      ]);
      const clerkSees = await receiveUntil(profile("clerk"), (l) => outcomes(l).length > 0);
      expect(outcomes(clerkSees).map((l) => l.status)).toEqual(["approved"]);

      // A second job, rejected with a reason that everyone sees on the card.
      await momedo(profile("clerk"), "send", group, "/auftrag Neuer Teppich im Sitzungssaal");
      const second = String((await example.step("card_posted", 2)).card);
      await momedo(profile("approver"), "card-action", second, "reject", "--field", "reason=Kein Budget bis Januar");
      await example.step("rejected");
      const rejected = outcomes(await receiveUntil(profile("clerk"), (l) => outcomes(l).length > 0));
      expect(rejected).toEqual([
        expect.objectContaining({ target: second, status: "rejected", text: expect.stringMatching(/^Abgelehnt von M\. Weber, \d{2}:\d{2}: Kein Budget bis Januar$/) }),
      ]);

      // Every step is in the bot's log, in order.
      expect(example.steps()).toEqual(["started", "joined", "requested", "card_posted", "refused", "approved", "caretaker_told", "requested", "card_posted", "rejected"]);
      expect(example.lines.find((l) => l.step === "approved")).toMatchObject({ card: cardId, by: ids.approver });
      expect(example.lines.find((l) => l.step === "rejected")).toMatchObject({ card: second, by: ids.approver, reason: "Kein Budget bis Januar" });
    } finally {
      await example.stop();
    }
  }, 120_000);

  it("report forwarding: a photo with location reaches the case system, checked; the group gets the case number, or is told when the system is down", async () => {
    const received: Line[] = [];
    let caseSystemUp = true;
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        if (!caseSystemUp) return void res.writeHead(503).end();
        received.push({ method: req.method, url: req.url, type: req.headers["content-type"], body: JSON.parse(body) as Line });
        res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ case: "2026-000123" }));
      });
    });
    const port = await new Promise<number>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve((receiver.address() as { port: number }).port)));
    const bot = await addBot("Meldungs-Bot");
    const example = startExample("report-forwarding.js", ["--profile", profile("report-bot"), "--invite", bot.invite, "--endpoint", `http://127.0.0.1:${port}/cases`]);
    try {
      await example.step("started");
      const created = await momedo(profile("office"), "group", "create", "Ordnungsamt", "--members", `${ids.officer},${bot.id}`);
      const group = String(created.lines.at(-1)!.id);
      await example.step("joined");

      const photo = join(home, "schlagloch.jpg");
      const image = new Jimp({ width: 640, height: 480, color: 0x556677ff });
      writeFileSync(photo, await image.getBuffer("image/jpeg", { quality: 85 }));
      await momedo(profile("officer"), "send-file", group, photo, "--lat", "52.52", "--lon", "13.40", "--taken-at", "2026-11-26T08:15:00Z");

      const replied = await example.step("case_replied");
      expect(replied).toMatchObject({ chat: group, case: "2026-000123" });
      expect(example.steps()).toEqual(["started", "joined", "report_received", "report_verified", "report_forwarded", "case_replied"]);

      // The case system got the photo exactly as the office sees it, with place, time and sender.
      expect(received).toHaveLength(1);
      const { body, method, url, type } = received[0]! as { body: Line; method: string; url: string; type: string };
      expect({ method, url, type }).toEqual({ method: "POST", url: "/cases", type: "application/json" });
      expect(body).toMatchObject({ mediaType: "image/jpeg", name: "schlagloch.jpg", lat: 52.52, lon: 13.4, time: "2026-11-26T08:15:00.000Z", sender: ids.officer, senderName: names.officer, chat: group });
      const out = tempDir("workflows-out");
      const office = await receiveUntil(profile("office"), (l) => l.some((m) => m.from === bot.id), ["--out", out]);
      const file = office.find((l) => l.type === "file")!;
      expect(file).toMatchObject({ from: ids.officer, file: { location: { lat: 52.52, lon: 13.4 } } });
      expect(sha256(Buffer.from(String(body.image), "base64"))).toBe(sha256(readFileSync(String(file.saved))));
      const answer = "Vorgang 2026-000123 angelegt / case 2026-000123 created (schlagloch.jpg)";
      expect(texts(office.filter((l) => l.from === bot.id))).toEqual([answer]);
      const officer = await receiveUntil(profile("officer"), (l) => l.some((m) => m.from === bot.id));
      expect(texts(officer.filter((l) => l.from === bot.id))).toEqual([answer]);
      // No plaintext photo stays in the bot's profile once forwarded.
      expect(readdirSync(join(profile("report-bot"), "inbox"))).toEqual([]);

      // The case system is down: the officer is told to send it again, nothing is lost silently.
      caseSystemUp = false;
      await momedo(profile("officer"), "send-file", group, photo, "--lat", "52.52", "--lon", "13.40");
      expect(await example.step("report_failed")).toMatchObject({ error: expect.stringContaining("503") });
      const told = await receiveUntil(profile("officer"), (l) => l.some((m) => m.from === bot.id));
      expect(texts(told.filter((l) => l.from === bot.id))).toEqual(["Meldung schlagloch.jpg nicht weitergeleitet, bitte erneut senden / report not forwarded, please send it again"]);
      expect(readdirSync(join(profile("report-bot"), "inbox"))).toEqual([]);
    } finally {
      await example.stop();
      receiver.close();
    }
  }, 120_000);

  it("timetable: a cancellation POSTed to the bridge reaches every pupil of the class channel", async () => {
    const bot = await addBot("Stundenplan-Bot");
    const botProfile = profile("bridge-bot");
    const enrolled = await run(BOT_BIN, ["enroll", bot.invite, "--profile", botProfile, "--json"]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const { token, tokenSha256 } = (await run(BOT_BIN, ["token", "--json"])).lines.at(-1)! as { token: string; tokenSha256: string };
    const config = join(home, "bridge.json");
    writeFileSync(config, JSON.stringify({ integrations: [{ name: "stundenplan", tokenSha256, chats: ["7b", "9z"] }] }));

    // The class teacher's channel 7b with the pupils and the bot, which may post there as an admin.
    const created = await momedo(profile("teacher"), "channel", "create", "7b", "--members", `${ids.pupil1},${ids.pupil2},${bot.id}`);
    const channel = String(created.lines.at(-1)!.id);
    await momedo(profile("teacher"), "group", "promote", channel, bot.id, "--role", "admin");

    const bridge = startProcess(BOT_BIN, ["bridge", "--profile", botProfile, "--config", config, "--port", String(await freePort()), "--json"]);
    try {
      const url = String((await bridge.line((l) => "url" in l)).url);
      const timetable = (...args: string[]) => run(join(EXAMPLES, "timetable.js"), ["--bridge", url, ...args], { MOMEDO_BRIDGE_TOKEN: token });

      const posted = await timetable("--class", "7b", "--date", "2026-11-27", "--lesson", "3", "--subject", "Mathematik", "--note", "Aufgaben im Lernraum");
      expect(posted.code, posted.stderr).toBe(0);
      const text = "Entfall / cancelled: 7b, Freitag, 27.11.2026, 3. Stunde Mathematik – Aufgaben im Lernraum";
      expect(posted.lines.map((l) => l.step)).toEqual(["cancellation", "posted"]);
      expect(posted.lines[0]).toMatchObject({ class: "7b", date: "2026-11-27", lesson: 3, subject: "Mathematik", text });
      const message = String(posted.lines[1]!.message);
      expect(posted.lines[1]).toMatchObject({ chat: "7b" });

      for (const pupil of ["pupil1", "pupil2"]) {
        const seen = await receiveUntil(profile(pupil), (l) => l.some((m) => m.type === "text"));
        expect(seen.filter((l) => l.type === "text")).toEqual([expect.objectContaining({ id: message, chat: channel, from: bot.id, text })]);
      }

      // The bridge's refusals reach the timetable system with their code, and the exit code says so.
      const unknown = await timetable("--class", "9z", "--date", "2026-11-27", "--lesson", "1", "--subject", "Sport");
      expect(unknown.code).toBe(1);
      expect(unknown.lines.at(-1)).toMatchObject({ step: "refused", status: 404, code: "unknown_chat" });
      const wrongToken = await run(join(EXAMPLES, "timetable.js"), ["--bridge", url, "--class", "7b", "--date", "2026-11-27", "--lesson", "1", "--subject", "Sport"], {
        MOMEDO_BRIDGE_TOKEN: "mbt_falsch",
      });
      expect(wrongToken.code).toBe(1);
      expect(wrongToken.lines.at(-1)).toMatchObject({ step: "refused", status: 401, code: "bridge_auth" });
      expect(texts(await receiveUntil(profile("pupil1"), () => true))).toEqual([]);
    } finally {
      await bridge.stop();
    }
  }, 120_000);
});
