import { mkdtempSync, readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { QUEUE_FILE, readDeadLetters, signature, Webhooks } from "./webhooks.js";

const SECRET = "0123456789abcdef-secret";

/** A receiver answering with the given statuses in turn (the last one from then on). */
async function receiver(statuses: number[] = [204], port = 0) {
  const got: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      got.push({ headers: req.headers, body });
      res.writeHead(statuses[Math.min(got.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  opened.push(close);
  return { got, port: (server.address() as AddressInfo).port, close };
}

const opened: (() => Promise<void>)[] = [];
const running: Webhooks[] = [];
afterEach(async () => {
  for (const w of running.splice(0)) await w.stop();
  for (const c of opened.splice(0)) await c();
});

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function webhooks(dir: string, url: string, events: ("message" | "join")[] = ["message"], tries = 10) {
  const w = new Webhooks(dir, [{ url, secret: SECRET, events }], { baseMs: 50, tries });
  running.push(w);
  return w;
}

/** A loopback port nothing listens on (yet). */
async function closedPort(): Promise<number> {
  const r = await receiver();
  await r.close();
  opened.pop();
  return r.port;
}

describe("webhooks", () => {
  it("signs timestamp.body with HMAC-SHA256 (the openssl recipe's value)", () => {
    // printf '123.body' | openssl dgst -sha256 -hmac secret
    expect(signature("secret", "123", "body")).toBe("sha256=fa1c6a291939b89044717d74b55fe23e137acf3edd31d2992540f037f035357a");
  });

  it("delivers an event with its headers to the receivers that want it", async () => {
    const r = await receiver();
    const dir = mkdtempSync(join(tmpdir(), "momedo-webhooks-"));
    const w = webhooks(dir, `http://127.0.0.1:${r.port}/`);
    w.start();
    w.emit("join", "g.X", { chat: { id: "g.X" } });
    w.emit("message", "g.X", { chat: { id: "g.X" }, message: { text: "Hallo" } });
    await until(() => r.got.length === 1 && w.queued === 0);
    const [delivery] = r.got;
    expect(JSON.parse(delivery!.body)).toEqual({ event: "message", chat: { id: "g.X" }, message: { text: "Hallo" } });
    const h = delivery!.headers;
    expect(h["x-momedo-event"]).toBe("message");
    expect(h["x-momedo-signature"]).toBe(signature(SECRET, String(h["x-momedo-timestamp"]), delivery!.body));
    expect(Math.abs(Number(h["x-momedo-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
  });

  it("delivers a burst beyond the in-flight limit", async () => {
    const r = await receiver();
    const dir = mkdtempSync(join(tmpdir(), "momedo-webhooks-"));
    const w = webhooks(dir, `http://127.0.0.1:${r.port}/`);
    w.start();
    for (let n = 0; n < 40; n++) w.emit("message", "g.X", { n });
    await until(() => w.queued === 0);
    expect(new Set(r.got.map((g) => (JSON.parse(g.body) as { n: number }).n)).size).toBe(40);
  });

  it("retries a failing receiver with the same delivery ID until it answers 2xx", async () => {
    const r = await receiver([500, 503, 200]);
    const dir = mkdtempSync(join(tmpdir(), "momedo-webhooks-"));
    const w = webhooks(dir, `http://127.0.0.1:${r.port}/`);
    w.start();
    w.emit("message", "g.X", { n: 1 });
    await until(() => w.queued === 0);
    expect(r.got).toHaveLength(3);
    expect(new Set(r.got.map((g) => g.headers["x-momedo-delivery"])).size).toBe(1);
    expect(readDeadLetters(dir)).toEqual([]);
  });

  it("continues the queue after a restart", async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), "momedo-webhooks-"));
    const first = webhooks(dir, `http://127.0.0.1:${port}/`);
    first.start();
    first.emit("message", "g.X", { n: 2 });
    await new Promise((r) => setTimeout(r, 200));
    await first.stop();
    expect(readFileSync(join(dir, QUEUE_FILE), "utf8")).toContain(JSON.stringify('"n":2').slice(1, -1));
    const r = await receiver([204], port);
    const second = webhooks(dir, `http://127.0.0.1:${port}/`);
    second.start();
    expect(second.queued).toBe(1);
    await until(() => second.queued === 0);
    expect(r.got.map((g) => JSON.parse(g.body) as unknown)).toEqual([{ event: "message", n: 2 }]);
  });

  it("moves a delivery to the dead-letter log after the last try", async () => {
    const port = await closedPort();
    const dir = mkdtempSync(join(tmpdir(), "momedo-webhooks-"));
    const w = webhooks(dir, `http://127.0.0.1:${port}/`, ["message"], 3);
    w.start();
    w.emit("message", "g.X", { n: 3 });
    await until(() => readDeadLetters(dir).length === 1);
    const [dead] = readDeadLetters(dir);
    expect(dead).toMatchObject({ url: `http://127.0.0.1:${port}/`, event: "message", chat: "g.X", tries: 3, lastError: "ECONNREFUSED" });
    expect(JSON.parse(dead!.body)).toEqual({ event: "message", n: 3 });
    expect(w.queued).toBe(0);
    await w.stop();
    const again = webhooks(dir, `http://127.0.0.1:${port}/`);
    again.start();
    expect(again.queued).toBe(0);
  });
});
