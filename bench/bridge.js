#!/usr/bin/env node
// Webhook latency of the bridge bot: a real server (no TLS, loopback), `momedo-bot bridge` as a
// child process in a group with one member (in this process), and a webhook receiver (node:http,
// loopback, in this process). Each message is sent by the member and timed until its signed
// webhook delivery arrives at the receiver; one message at a time.
//   node bench/bridge.js [--messages 50] [--warmup 5]
import { execFileSync, spawn } from "node:child_process";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enrollProfile } from "@momedo/client";
import { cleanupOnExit, freePort, machineInfo, parseArgs, percentile, positiveNumber, REPO_DIR, round, startServer, table, withTimeout, writeResult } from "./lib.js";

const args = parseArgs(process.argv.slice(2), { known: ["messages", "warmup"] });
const count = Math.floor(positiveNumber("messages", args.messages ?? "50"));
const warmup = Math.floor(Number(args.warmup ?? "5"));
const SERVER = join(REPO_DIR, "packages/server/bin/momedo-server.js");
const BOT = join(REPO_DIR, "packages/bot/bin/momedo-bot.js");
const SECRET = randomBytes(24).toString("hex");

const work = mkdtempSync(join(tmpdir(), "momedo-bench-bridge-"));
let server;
let bridge;
cleanupOnExit({
  name: "bridge",
  kill: () => {
    server?.kill();
    if (bridge && bridge.exitCode === null) bridge.kill("SIGKILL");
  },
  remove: () => rmSync(work, { recursive: true, force: true }),
});

const json = (bin, argv) => JSON.parse(execFileSync(process.execPath, [bin, ...argv, "--json"], { encoding: "utf8" }).trim().split("\n").at(-1));

/** The receiver: resolves the waiter of a message text when its delivery arrives (signature checked). */
function startReceiver(port) {
  const waiters = new Map();
  let bad = 0;
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on("data", (d) => chunks.push(d));
    req.on("end", () => {
      const at = performance.now();
      const body = Buffer.concat(chunks).toString("utf8");
      const expected = "sha256=" + createHmac("sha256", SECRET).update(`${req.headers["x-momedo-timestamp"]}.${body}`).digest("hex");
      if (req.headers["x-momedo-signature"] !== expected) bad++;
      res.writeHead(204).end();
      const event = JSON.parse(body);
      const key = event.event === "join" ? "join" : event.message?.text;
      waiters.get(key)?.(at);
      waiters.delete(key);
    });
  });
  return new Promise((resolve) =>
    receiver.listen(port, "127.0.0.1", () =>
      resolve({
        arrival: (key) => new Promise((r) => waiters.set(key, r)),
        badSignatures: () => bad,
        close: () => new Promise((r) => (receiver.closeAllConnections(), receiver.close(r))),
      }),
    ),
  );
}

async function main() {
  const data = join(work, "data");
  server = await startServer({ main: SERVER, dataDir: data, name: "bridge" });
  const person = json(SERVER, ["admin", "add-user", "--name", "Frau Weber", "--data", data]);
  const botUser = json(SERVER, ["admin", "add-bot", "--name", "Bench-Bot", "--data", data]);
  const botDir = join(work, "bot");
  json(BOT, ["enroll", botUser.invite, "--profile", botDir]);
  const member = await enrollProfile(join(work, "member"), person.invite);

  const receiverPort = await freePort();
  const receiver = await startReceiver(receiverPort);
  const joined = receiver.arrival("join");
  const group = await member.messenger.createGroup("Bench", [botUser.id]);
  const token = randomBytes(24).toString("base64url");
  const config = join(work, "bridge.json");
  writeFileSync(
    config,
    JSON.stringify({
      integrations: [{ name: "bench", tokenSha256: createHash("sha256").update(token).digest("hex"), chats: ["Bench"] }],
      webhooks: [{ url: `http://127.0.0.1:${receiverPort}/hook`, secret: SECRET, events: ["message", "join"] }],
    }),
  );
  bridge = spawn(process.execPath, [BOT, "bridge", "--profile", botDir, "--config", config, "--port", String(await freePort()), "--json"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await withTimeout(
    new Promise((resolve, reject) => {
      bridge.stdout.once("data", resolve);
      bridge.once("exit", (code) => reject(new Error(`momedo-bot bridge exited ${code}`)));
    }),
    30_000,
    "bridge start",
  );
  await withTimeout(joined, 30_000, "join webhook");

  const total = [];
  const sendAck = [];
  for (let i = 0; i < warmup + count; i++) {
    const text = `Nachricht ${i}`;
    const arrived = receiver.arrival(text);
    const started = performance.now();
    await member.messenger.sendText(group, text);
    const acked = performance.now();
    const at = await withTimeout(arrived, 30_000, `webhook for message ${i}`);
    if (i >= warmup) {
      total.push(at - started);
      sendAck.push(acked - started);
    }
  }

  const stopped = new Promise((r) => bridge.once("exit", r));
  bridge.kill("SIGTERM");
  await withTimeout(stopped, 15_000, "bridge stop");
  await member.close();
  await receiver.close();
  await server.stop();

  const figures = (values) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { median: round(percentile(sorted, 50), 1), p95: round(percentile(sorted, 95), 1), min: round(sorted[0], 1), max: round(sorted.at(-1), 1) };
  };
  const result = {
    messages: count,
    warmup,
    latencyMs: figures(total),
    sendAckMs: figures(sendAck),
    badSignatures: receiver.badSignatures(),
    machine: machineInfo(),
  };
  console.log(
    table(
      ["ms (loopback, one at a time)", "median", "p95", "min", "max"],
      [
        ["message sent → webhook at receiver", ...Object.values(result.latencyMs)],
        ["of which: member's send until server ack", ...Object.values(result.sendAckMs)],
      ],
    ),
  );
  console.log(`\n${count} messages (after ${warmup} warm-up), ${result.badSignatures} bad signature(s)`);
  console.log(`written: ${writeResult("bridge", result)}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bridge bench: ${error.stack ?? error}`);
    process.exit(1);
  },
);
