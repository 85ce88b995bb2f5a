// The HTTP bridge bot end to end: a real server process, the bot in-process over its bridge, a
// teacher and a pupil as CLI processes, and webhook receivers on loopback (one up, one down for
// a while, one down for good).
import { execFileSync, spawn } from "node:child_process";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot } from "../../packages/bot/src/bot.js";
import { Bridge, parseBridgeConfig } from "../../packages/bot/src/bridge.js";
import { admin, freePort, momedo, run, startServer, tempDir, type ServerProcess } from "./harness.js";

const BOT_BIN = fileURLToPath(new URL("../../packages/bot/bin/momedo-bot.js", import.meta.url));
const SECRET = "webhook-secret-7b-0123456789";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A webhook receiver on loopback that records every delivery; it drops its first `drop` connections. */
function receiver(port: number, drop = 0) {
  const got: Received[] = [];
  const waiters: (() => void)[] = [];
  let dropped = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(204).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  server.on("connection", (socket) => {
    if (dropped < drop) {
      dropped++;
      socket.destroy();
    }
  });
  return {
    got,
    dropped: () => dropped,
    port: () => port,
    listen: () => new Promise<void>((done) => server.listen(port, "127.0.0.1", done)),
    close: () => new Promise<void>((done) => (server.closeAllConnections(), server.close(() => done()))),
    async wait(predicate: (r: Received) => boolean, timeoutMs = 15_000): Promise<Received> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = got.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such delivery; got ${got.map((g) => g.body).join("\n")}`);
        await new Promise<void>((r) => (waiters.push(r), setTimeout(r, 200)));
      }
    },
  };
}

/** The Node recipe of docs/bots.md ("Bridge"), verbatim. */
function verifyMomedoSignature(secret: string, headers: IncomingHttpHeaders, rawBody: string): boolean {
  const timestamp = String(headers["x-momedo-timestamp"]);
  const expected = "sha256=" + createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex");
  const given = String(headers["x-momedo-signature"] ?? "");
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return fresh && given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

const token = (name: string) => `mbt_${name}_${"x".repeat(20)}`;
const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

let server: ServerProcess;
let data: string;
let serverPort: number;
let home: string;
let bot: Bot;
let bridge: Bridge;
let url: string;
let teacher: string;
let pupil: string;
let klasse: string;
let staffRoom: string;
const up = receiver(await freePort());
const flaky = receiver(await freePort(), 2); // down for a while: its first two connections fail
const deadPort = await freePort();

function api(path: string, init: RequestInit & { token?: string | null } = {}) {
  const headers = new Headers(init.headers);
  const t = init.token === undefined ? token("timetable") : init.token;
  if (t !== null) headers.set("authorization", `Bearer ${t}`);
  return fetch(`${url}${path}`, { ...init, headers });
}

const postJson = (chat: string, body: unknown, t?: string | null) =>
  api(`/v1/chats/${encodeURIComponent(chat)}/messages`, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, token: t });

beforeAll(async () => {
  data = tempDir("bridge-data");
  home = tempDir("bridge-home");
  serverPort = await freePort();
  server = await startServer(data, serverPort);
  const t = await admin(data, "add-user", "--name", "Frau Weber", "--role", "staff");
  const p = await admin(data, "add-user", "--name", "Jonas Weiß", "--role", "pupil");
  const b = await admin(data, "add-bot", "--name", "Stundenplan");
  teacher = String(t.id);
  pupil = String(p.id);
  // Enrolled, then opened again, as `momedo-bot enroll` and `momedo-bot bridge` do.
  const enrolled = await Bot.enroll(join(home, "bot"), String(b.invite));
  await enrolled.profile.close();
  bot = await Bot.open(join(home, "bot"));
  await Promise.all([momedo(`${home}/t`, "enroll", String(t.invite)), momedo(`${home}/p`, "enroll", String(p.invite))]);
  klasse = String((await momedo(`${home}/t`, "group", "create", "Klasse 7b", "--members", `${bot.id},${pupil}`)).lines.at(-1)!.id);
  staffRoom = String((await momedo(`${home}/t`, "group", "create", "Lehrerzimmer", "--members", bot.id)).lines.at(-1)!.id);
  await Promise.all([up.listen(), flaky.listen()]);
  const config = parseBridgeConfig({
    integrations: [
      { name: "timetable", tokenSha256: sha256(token("timetable")), chats: ["Klasse 7b", "Klasse 9z"] },
      { name: "caretaker", tokenSha256: sha256(token("caretaker")), chats: ["Lehrerzimmer"] },
    ],
    webhooks: [
      { url: `http://127.0.0.1:${up.port()}/hook`, secret: SECRET, events: ["message", "card_action", "join"] },
      { url: `http://127.0.0.1:${flaky.port()}/hook`, secret: SECRET, events: ["message"] },
      { url: `http://127.0.0.1:${deadPort}/hook`, secret: SECRET, events: ["message"] },
    ],
    webhookRetry: { baseMs: 300, tries: 5 },
  });
  bridge = new Bridge(bot, config);
  url = await bridge.start("127.0.0.1", 0);
}, 60_000);

afterAll(async () => {
  await bridge?.stop();
  await Promise.all([up.close(), flaky.close()]);
  await server?.stop();
});

describe("HTTP bridge", () => {
  it("lists the chats of an integration and tells the webhook the bot joined them", async () => {
    const response = await api("/v1/chats");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ chats: [{ name: "Klasse 7b", id: klasse, kind: "group" }] });
    const join = await up.wait((r) => r.headers["x-momedo-event"] === "join" && r.body.includes("Klasse 7b"));
    expect(JSON.parse(join.body)).toEqual({ event: "join", chat: { id: klasse, name: "Klasse 7b" } });
  });

  it("posts a text and a card into a named chat; the pupil receives both", async () => {
    const text = await postJson("Klasse 7b", { text: "Stunde 3 (Mathe) fällt morgen aus." });
    expect(text.status).toBe(201);
    const card = await postJson("Klasse 7b", {
      card: { title: "Vertretungsplan", fields: [{ label: "Stunde", value: "3" }], actions: [{ id: "ok", label: "Gelesen" }] },
    });
    expect(card.status).toBe(201);
    const cardId = ((await card.json()) as { id: string }).id;
    const got = await momedo(`${home}/p`, "receive", "--wait", "10");
    expect(got.lines.find((l) => l.text === "Stunde 3 (Mathe) fällt morgen aus.")).toMatchObject({ chat: klasse, from: bot.id, type: "text" });
    expect(got.lines.find((l) => l.id === cardId)).toMatchObject({ type: "card", card: { title: "Vertretungsplan" } });

    // The pupil acts on it; the webhook hears who did what.
    await momedo(`${home}/p`, "card-action", cardId, "ok");
    const action = await up.wait((r) => r.headers["x-momedo-event"] === "card_action");
    expect(JSON.parse(action.body)).toMatchObject({ event: "card_action", chat: { id: klasse, name: "Klasse 7b" }, card: { id: cardId }, action: "ok", from: pupil });
  });

  it("refuses a bad token, an unknown chat, another integration's chat, an oversized body and malformed JSON; nothing arrives", async () => {
    const cases: [Promise<Response>, number, string][] = [
      [postJson("Klasse 7b", { text: "ohne Token" }, null), 401, "bridge_auth"],
      [postJson("Klasse 7b", { text: "falsches Token" }, token("nobody")), 401, "bridge_auth"],
      [postJson("Klasse 9z", { text: "unbekannt" }), 404, "unknown_chat"],
      [postJson("Lehrerzimmer", { text: "fremde Unterhaltung" }), 403, "chat_not_allowed"],
      [postJson("Klasse 7b", { text: "x".repeat(70 * 1024) }), 413, "frame_too_large"],
      [api(`/v1/chats/Klasse%207b/messages`, { method: "POST", body: '{"text": "kaputt' }), 400, "bad_request"],
      [postJson("Klasse 7b", { note: "weder Text noch Karte" }), 400, "bad_request"],
      [postJson("Klasse 7b", { card: { title: "ohne Aktionen", fields: [], actions: [] } }), 400, "bad_request"],
    ];
    for (const [pending, status, code] of cases) {
      const response = await pending;
      const body = (await response.json()) as { code: string; message: string };
      expect([response.status, body.code]).toEqual([status, code]);
      expect(body.message).toMatch(/ \/ /); // German / English
    }
    const [p, t] = await Promise.all([momedo(`${home}/p`, "receive", "--wait", "2"), momedo(`${home}/t`, "receive", "--wait", "2")]);
    expect(p.lines.filter((l) => l.from === bot.id && !l.outgoing)).toEqual([]);
    expect(t.lines.filter((l) => l.chat === staffRoom)).toEqual([]);
  });

  it("sends a file with a location; the pupil saves the same bytes", async () => {
    const bytes = randomBytes(300_000);
    const response = await api(`/v1/chats/${encodeURIComponent("Klasse 7b")}/files`, {
      method: "POST",
      body: bytes,
      headers: { "content-type": "application/pdf", "x-file-name": encodeURIComponent("Plan für 7b.pdf"), "x-latitude": "52.52", "x-longitude": "13.405" },
    });
    expect(response.status).toBe(201);
    const sent = (await response.json()) as { id: string; file: { size: number } };
    expect(sent.file.size).toBe(bytes.length);
    const out = tempDir("bridge-out");
    const got = await momedo(`${home}/p`, "receive", "--wait", "10", "--out", out);
    const line = got.lines.find((l) => l.id === sent.id)!;
    expect(line.file).toMatchObject({ name: "Plan für 7b.pdf", mediaType: "application/pdf", location: { lat: 52.52, lon: 13.405 } });
    expect(readFileSync(String(line.saved)).equals(bytes)).toBe(true);
  });

  describe("webhooks for a chat message", () => {
    beforeAll(async () => {
      await momedo(`${home}/p`, "send", klasse, "Ist morgen Sport?");
    });

    it("reaches the receiver with a signature that the documented recipes verify", async () => {
      const got = await up.wait((r) => r.body.includes("Ist morgen Sport?"));
      expect(got.headers["x-momedo-event"]).toBe("message");
      expect(got.headers["x-momedo-delivery"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(verifyMomedoSignature(SECRET, got.headers, got.body)).toBe(true);
      expect(verifyMomedoSignature("another-secret-0123", got.headers, got.body)).toBe(false);
      expect(verifyMomedoSignature(SECRET, got.headers, got.body.replace("Sport", "Kunst"))).toBe(false);
      expect(JSON.parse(got.body)).toMatchObject({
        event: "message",
        chat: { id: klasse, name: "Klasse 7b" },
        message: { from: pupil, type: "text", text: "Ist morgen Sport?" },
      });
      // The shell recipe: openssl over "timestamp.body".
      const dir = tempDir("bridge-sig");
      writeFileSync(join(dir, "body.json"), got.body);
      const hex = execFileSync("sh", ["-c", `{ printf '%s.' "$TS"; cat body.json; } | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1`], {
        cwd: dir,
        env: { ...process.env, TS: String(got.headers["x-momedo-timestamp"]), SECRET },
        encoding: "utf8",
      }).trim();
      expect(`sha256=${hex}`).toBe(got.headers["x-momedo-signature"]);
    });

    it("reaches a receiver that was down for a while, after retries", async () => {
      const got = await flaky.wait((r) => r.body.includes("Ist morgen Sport?"));
      expect(flaky.dropped()).toBe(2);
      expect(verifyMomedoSignature(SECRET, got.headers, got.body)).toBe(true);
      expect(flaky.got).toHaveLength(1);
      const first = await up.wait((r) => r.body.includes("Ist morgen Sport?"));
      expect(got.headers["x-momedo-delivery"]).not.toBe(first.headers["x-momedo-delivery"]); // one delivery per receiver
    });

    it("ends in the dead-letter log when the receiver stays down", async () => {
      const deadline = Date.now() + 15_000;
      let letters: { url: string; tries: number; event: string; payload: { message: { text: string } } }[] = [];
      while (Date.now() < deadline && letters.length === 0) {
        await new Promise((r) => setTimeout(r, 300));
        letters = ((await (await api("/v1/dead-letters")).json()) as { deadLetters: typeof letters }).deadLetters;
      }
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ url: `http://127.0.0.1:${deadPort}/hook`, tries: 5, event: "message", payload: { message: { text: "Ist morgen Sport?" } } });
      // Another integration sees no dead letters of chats it may not use.
      expect(await (await api("/v1/dead-letters", { token: token("caretaker") })).json()).toEqual({ deadLetters: [] });
      expect(bridge.queuedDeliveries).toBe(0);
      const cli = await run(BOT_BIN, ["dead-letters", "--profile", join(home, "bot"), "--json"]);
      expect(cli.lines.at(-1)).toEqual({ deadLetters: 1 });
    });
  });

  it("tells the webhook about a file a member sends: its metadata, not its key", async () => {
    const path = join(tempDir("bridge-file"), "Schaden.pdf");
    writeFileSync(path, randomBytes(5000));
    await momedo(`${home}/p`, "send-file", klasse, path, "--lat", "52.52", "--lon", "13.405", "--taken-at", "2026-11-26T08:15:00Z");
    const got = await up.wait((r) => r.body.includes("Schaden.pdf"));
    const event = JSON.parse(got.body) as { message: Record<string, unknown> };
    expect(event.message).toMatchObject({
      from: pupil,
      type: "file",
      text: "Schaden.pdf",
      file: { name: "Schaden.pdf", mediaType: "application/pdf", size: 5000, location: { lat: 52.52, lon: 13.405 }, takenAt: "2026-11-26T08:15:00.000Z" },
    });
    expect(got.body).not.toMatch(/"(key|blob|sha256)"/);
  });

  it("momedo-bot: token, enroll, and the bridge as a process until SIGTERM", async () => {
    const made = await run(BOT_BIN, ["token", "--json"]);
    const { token: secret, tokenSha256 } = made.lines[0] as { token: string; tokenSha256: string };
    expect(sha256(secret)).toBe(tokenSha256);
    const invite = String((await admin(data, "add-bot", "--name", "Hausmeister")).invite);
    const dir = join(home, "bot2");
    const enrolled = await run(BOT_BIN, ["enroll", invite, "--profile", dir, "--json"]);
    expect(enrolled.lines.at(-1)).toMatchObject({ name: "Hausmeister" });
    const config = join(home, "bridge2.json");
    writeFileSync(config, JSON.stringify({ integrations: [{ name: "haus", tokenSha256, chats: ["Keller"] }] }));
    const port = await freePort();
    const child = spawn(process.execPath, [BOT_BIN, "bridge", "--profile", dir, "--config", config, "--port", String(port), "--json"]);
    const exited = new Promise<number | null>((done) => child.on("exit", (code) => done(code)));
    const ready = await new Promise<{ url: string }>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const line = out.split("\n").find((l) => l.startsWith("{"));
        if (line) resolve(JSON.parse(line) as { url: string });
      });
      void exited.then((code) => reject(new Error(`momedo-bot bridge exited ${code}: ${out}`)));
    });
    expect(ready.url).toBe(`http://127.0.0.1:${port}`);
    const chats = await fetch(`${ready.url}/v1/chats`, { headers: { authorization: `Bearer ${secret}` } });
    expect(await chats.json()).toEqual({ chats: [] });
    const wrong = await fetch(`${ready.url}/v1/chats`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("answers 503 while the momedo server is down, and posts again once it is back", async () => {
    await server.stop();
    const down = await postJson("Klasse 7b", { text: "Server weg" });
    expect(down.status).toBe(503);
    expect(((await down.json()) as { code: string }).code).toBe("server_unreachable");
    server = await startServer(data, serverPort);
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 201 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      status = (await postJson("Klasse 7b", { text: "Server wieder da" })).status;
    }
    expect(status).toBe(201);
    const got = await momedo(`${home}/p`, "receive", "--wait", "10");
    expect(got.lines.filter((l) => l.from === bot.id).map((l) => l.text)).toEqual(["Server wieder da"]);
  });
});
