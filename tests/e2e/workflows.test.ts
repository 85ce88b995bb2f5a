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
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, texts, type Line, type ServerProcess } from "./harness.js";

const EXAMPLES = fileURLToPath(new URL("../../bot/examples/", import.meta.url));

/** An example bot as a child process; its JSON log lines can be awaited. */
function startExample(name: string, args: string[]) {
  const child: ChildProcess = spawn(process.execPath, [join(EXAMPLES, name), ...args]);
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
  return {
    lines,
    steps: () => lines.map((l) => l.step),
    async step(step: string, count = 1, timeoutMs = 30_000): Promise<Line> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.filter((l) => l.step === step);
        if (found.length >= count) return found[count - 1]!;
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`${name}: no "${step}" step; log: ${JSON.stringify(lines)}; stderr: ${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop: () =>
      new Promise<number | null>((done) => {
        if (child.exitCode !== null) return done(child.exitCode);
        child.once("exit", (code) => done(code));
        child.kill("SIGTERM");
      }),
  };
}

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
  const names: Record<string, string> = { clerk: "K. Schmidt", approver: "M. Weber", caretaker: "H. Krause", officer: "P. Yilmaz", office: "Ordnungsamt Innendienst" };

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
      expect(example.steps()).toEqual(["started", "joined", "requested", "card_posted", "approved", "caretaker_told", "requested", "card_posted", "rejected"]);
      expect(example.lines.find((l) => l.step === "approved")).toMatchObject({ card: cardId, by: ids.approver });
      expect(example.lines.find((l) => l.step === "rejected")).toMatchObject({ card: second, by: ids.approver, reason: "Kein Budget bis Januar" });
    } finally {
      await example.stop();
    }
  }, 120_000);

  it("report forwarding: a photo with location reaches the case system, checked; the group gets the case number", async () => {
    const received: Line[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
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
    } finally {
      await example.stop();
      receiver.close();
    }
  }, 120_000);
});
