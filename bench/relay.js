#!/usr/bin/env node
// Relay benchmark: one real momedo server (child process pinned to core 0, SQLite in a fresh
// temp dir, no TLS, loopback only) and this load generator (pinned to core 1) with N enrolled
// devices paired into 1:1 chats. Measures logins/s, delivered msgs/s, end-to-end latency
// (send -> receipt at the peer's socket), server CPU per message, RSS per idle connection and
// the mailbox rows left over. The MLS payloads are random bytes: the server treats them as opaque.
//
//   node bench/relay.js               # N=200 and N=2000; closed loop W=1,4; open 5000/s (+10000/s for N=200)
//   node bench/relay.js --devices 200 --seconds 10 --rate 5000,10000 --window 1,4
//   node bench/relay.js --quick       # smoke run: N=20, 3 s, W=1, 1000/s
// More flags:
//   --warmup S          warm-up before each measured window (default 2)
//   --modes closed,open which modes to run (default both)
//   --ack batch|each    one cumulative ack per device per event-loop turn (default) or one per message
//   --receipts          every send asks for a "delivered" notice, as the clients do for texts
//   --concurrency C     enrollments / logins in flight (default 50)
//   --wait-quiet S      before each mode wait up to S s (default 30, 0 = never) for other processes
//                       on the machine to use < 0.25 cores
//   --profile           run the server with --cpu-prof (into bench/results/); then
//                       `node bench/profile-summary.js` shows where the server spent each window
//   --keep              keep the temp data dir
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { ed25519 } from "@noble/curves/ed25519.js";
import WebSocket from "ws";
import { authChallengeText, directChatId } from "@momedo/protocol";
import {
  cleanupOnExit,
  clkTck,
  cpuSeconds,
  hasTaskset,
  importUsers,
  machineInfo,
  parseArgs,
  pinToCore,
  pool,
  positiveNumber,
  REPO_DIR,
  round,
  rssKiB,
  sleep,
  startServer,
  summarize,
  table,
  usage,
  withTimeout,
  writeResult,
} from "./lib.js";

// --- configuration ----------------------------------------------------------------------------
const args = parseArgs(process.argv.slice(2), {
  lists: ["devices", "rate", "window", "modes"],
  booleans: ["quick", "keep", "profile", "receipts"],
  known: ["devices", "rate", "window", "modes", "quick", "keep", "profile", "receipts", "seconds", "warmup", "ack", "wait-quiet", "concurrency"],
});
const quick = args.quick === true;
const deviceCounts = (args.devices ?? (quick ? ["20"] : ["200", "2000"])).map((n) => {
  const v = Math.floor(positiveNumber("devices", n));
  if (v < 2 || v % 2 !== 0) usage(`--devices ${n}: need an even number >= 2 (devices are paired)`);
  return v;
});
const seconds = positiveNumber("seconds", args.seconds ?? (quick ? 3 : 10));
const warmupSeconds = Number(args.warmup ?? (quick ? 1 : 2));
if (!(warmupSeconds >= 0)) usage(`--warmup ${args.warmup}: expected a number >= 0`);
const windows = (args.window ?? (quick ? ["1"] : ["1", "4"])).map((w) => Math.floor(positiveNumber("window", w)));
const explicitRates = args.rate?.map((r) => positiveNumber("rate", r));
const modes = new Set(args.modes ?? ["closed", "open"]);
for (const m of modes) if (m !== "closed" && m !== "open") usage(`--modes ${m}: expected closed and/or open`);
const receipts = args.receipts === true;
const ackMode = args.ack ?? "batch";
if (ackMode !== "batch" && ackMode !== "each") usage("--ack batch|each");
const quietSeconds = Number(args["wait-quiet"] ?? (quick ? 0 : 30));
if (!(quietSeconds >= 0 && quietSeconds <= 600)) usage(`--wait-quiet ${args["wait-quiet"]}: expected 0 to 600`);
const concurrency = Math.floor(positiveNumber("concurrency", args.concurrency ?? 50));
const PAYLOAD_BYTES = 300;
/** Cores used by other processes during a window above which its figures are marked as disturbed. */
const NOISY = 0.25;
const SERVER_MAIN = join(REPO_DIR, "packages/server/dist/main.js");

/** Open-loop rates for one N: --rate if given, else 5,000/s, plus 10,000/s for N <= 200. */
function ratesFor(n) {
  if (explicitRates) return explicitRates;
  if (quick) return [1000];
  return n <= 200 ? [5000, 10000] : [5000];
}

// --- process hygiene: the server child never outlives this script -------------------------------
let server; // the state from startServer: { child, pid, url, dataDir, profileDir, stderrLines, kill(), stop() }
const tempDirs = new Set();

const killServerNow = () => server?.kill();
function removeTempDirs() {
  if (args.keep) return;
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
cleanupOnExit({ name: "relay", kill: killServerNow, remove: removeTempDirs });

// --- /proc readings -----------------------------------------------------------------------------
/** Busy CPU seconds per core (cpu0, cpu1, ...) from /proc/stat: everything but idle and iowait. */
function coreBusySeconds() {
  const busy = [];
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, , , irq, softirq, steal] = m[2].trim().split(/\s+/).map(Number);
    busy[Number(m[1])] = (user + nice + system + irq + softirq + (steal || 0)) / clkTck();
  }
  return busy;
}

/**
 * Waits (at most `maxSeconds`) until processes other than the server and this script use less
 * than `threshold` cores over a 1-second sample; returns the last sample. The machine may be shared.
 */
async function waitForQuiet(maxSeconds, threshold = 0.25) {
  const deadline = performance.now() + maxSeconds * 1000;
  let other = 0;
  for (;;) {
    const c0 = coreBusySeconds().reduce((a, b) => a + b, 0);
    const s0 = server ? cpuSeconds(server.pid) : 0;
    const g0 = process.cpuUsage();
    await sleep(1000);
    const g = process.cpuUsage(g0);
    other = coreBusySeconds().reduce((a, b) => a + b, 0) - c0 - ((server ? cpuSeconds(server.pid) : 0) - s0) - (g.user + g.system) / 1e6;
    if (other < threshold || performance.now() >= deadline) break;
  }
  if (other >= threshold) console.log(`  (other processes still use ${round(other, 2)} cores; measuring anyway)`);
  return round(Math.max(0, other), 3);
}

/** Latency of one small durable SQLite commit (WAL, synchronous=FULL, like the server) on `dir`'s disk. */
function commitLatencyMs(dir) {
  const file = join(dir, "probe.sqlite");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec("CREATE TABLE t (a INTEGER, b BLOB)");
  const insert = db.prepare("INSERT INTO t VALUES (?, ?)");
  const times = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    insert.run(i, randomBytes(300));
    if (i >= 10) times.push(performance.now() - t);
  }
  db.close();
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  const s = summarize(times);
  return { p50: round(s.p50, 3), p90: round(s.p90, 3), max: round(s.max, 3) };
}

// --- users and devices --------------------------------------------------------------------------
async function enrollDevice(url, code) {
  const keys = ed25519.keygen();
  const response = await fetch(`${url}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code, signaturePublicKey: Buffer.from(keys.publicKey).toString("base64") }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`enroll: HTTP ${response.status} ${JSON.stringify(body)}`);
  return { user: body.user, device: body.device, secretKey: keys.secretKey };
}

async function health(url) {
  const response = await fetch(`${url}/api/v1/health`, { signal: AbortSignal.timeout(10_000) });
  return response.json();
}

// --- the run currently measured (hot-path state) --------------------------------------------------
function freshRun() {
  return {
    sending: false,
    closedLoop: false,
    measureStart: Infinity,
    measureEnd: Infinity,
    measuring: false,
    sent: 0,
    received: 0,
    oks: 0,
    errors: 0,
    deliveredInWindow: 0,
    sentInWindow: 0,
    latencies: [],
    outOfOrder: 0,
    shortfall: 0,
    okNotDelivered: 0,
    deliveredNotices: 0,
    deliveredMessages: 0,
  };
}
// One object for the whole process: the hot-path closures hold on to it, so reset in place.
const run = freshRun();
let devices = [];
let errorLog = 0;
let unexpectedCloses = 0;

function resetRun() {
  Object.assign(run, freshRun());
}

// Acks: cumulative. In "batch" mode (default) a device sends one ack per event-loop turn for the
// highest seq it received in that turn; in "each" mode one ack per delivered message.
const ackDirty = new Set();
let ackScheduled = false;
function flushAcks() {
  ackScheduled = false;
  for (const dev of ackDirty) sendRaw(dev, `{"t":"ack","seq":${dev.ackSeq}}`);
  ackDirty.clear();
}
function ack(dev, seq) {
  dev.ackSeq = seq;
  if (ackMode === "each") {
    sendRaw(dev, `{"t":"ack","seq":${seq}}`);
    return;
  }
  ackDirty.add(dev);
  if (!ackScheduled) {
    ackScheduled = true;
    setImmediate(flushAcks);
  }
}

function sendRaw(dev, text) {
  if (dev.ws.readyState === WebSocket.OPEN) dev.ws.send(text);
}

function nextId(dev) {
  const id = dev.nextId;
  dev.nextId = id >= 2 ** 31 ? 1 : id + 1;
  return id;
}

function request(dev, frame, timeoutMs = 30_000) {
  const id = nextId(dev);
  const reply = new Promise((resolve, reject) => dev.waiters.set(id, { resolve, reject }));
  sendRaw(dev, JSON.stringify({ ...frame, id }));
  return withTimeout(reply, timeoutMs, `${frame.t} from ${dev.address}`).finally(() => dev.waiters.delete(id));
}

function sendApp(dev) {
  const payload = dev.payload;
  const now = performance.now();
  payload.writeDoubleLE(now, 0);
  payload.writeUInt32LE(dev.index, 8);
  payload.writeUInt32LE(dev.sentCounter++ >>> 0, 12);
  run.sent++;
  if (run.measuring) run.sentInWindow++;
  sendRaw(dev, `{"t":"group.send","id":${nextId(dev)},"group":"${dev.group}","epoch":1,"data":"${payload.toString("base64")}"${receipts ? `,"receipt":"${String(dev.sentCounter).padStart(16, "0")}"` : ""}}`);
}

function onDeliver(dev, frame) {
  ack(dev, frame.seq);
  if (frame.kind !== "app") {
    if (frame.kind === "welcome") dev.onWelcome?.();
    if (frame.kind === "notice") {
      run.deliveredNotices++;
      run.deliveredMessages += JSON.parse(Buffer.from(frame.data, "base64").toString()).messages?.length ?? 0;
    }
    return;
  }
  const now = performance.now();
  // The first 16 payload bytes are the first 24 base64 characters (18 bytes) of data.
  const head = Buffer.from(frame.data.slice(0, 24), "base64");
  const sentAt = head.readDoubleLE(0);
  const senderIndex = head.readUInt32LE(8);
  const counter = head.readUInt32LE(12);
  if (counter !== dev.expectCounter) run.outOfOrder++;
  dev.expectCounter = counter + 1;
  run.received++;
  if (run.measuring) run.deliveredInWindow++;
  if (sentAt >= run.measureStart && sentAt < run.measureEnd) run.latencies.push(now - sentAt);
  if (run.closedLoop && run.sending) sendApp(devices[senderIndex]);
}

function onFrame(dev, data) {
  const frame = JSON.parse(data.toString());
  switch (frame.t) {
    case "msg":
      onDeliver(dev, frame);
      return;
    case "ok": {
      const waiter = dev.waiters.get(frame.id);
      if (waiter) waiter.resolve(frame.result);
      else {
        run.oks++;
        if (frame.result?.delivered !== 1) run.okNotDelivered++; // a 1:1 group.send reaches exactly one device
      }
      return;
    }
    case "err": {
      const waiter = frame.id !== undefined ? dev.waiters.get(frame.id) : undefined;
      if (waiter) waiter.reject(new Error(`${frame.code}: ${frame.message}`));
      else {
        run.errors++;
        if (errorLog++ < 5) console.error(`  server error for ${dev.address}: ${frame.code} ${frame.message} ${JSON.stringify(frame.detail ?? "")}`);
      }
      return;
    }
    case "challenge": {
      const sig = ed25519.sign(authChallengeText(frame.nonce, dev.user, dev.device), dev.secretKey);
      sendRaw(dev, JSON.stringify({ t: "auth", user: dev.user, device: dev.device, sig: Buffer.from(sig).toString("base64") }));
      return;
    }
    case "ready":
      dev.onReady?.();
      return;
    case "synced":
      dev.onSynced?.();
      return;
  }
}

function connect(dev, wsUrl) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: 30_000 });
    dev.ws = ws;
    let readyAt = 0;
    const timer = setTimeout(() => {
      reject(new Error(`login of ${dev.address} timed out`));
      ws.terminate();
    }, 60_000);
    dev.onReady = () => {
      readyAt = performance.now();
    };
    dev.onSynced = () => {
      clearTimeout(timer);
      dev.onSynced = undefined;
      resolve({ ready: readyAt - started, synced: performance.now() - started });
    };
    ws.on("message", (data) => onFrame(dev, data));
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      if (!dev.closing) {
        unexpectedCloses++;
        if (unexpectedCloses <= 5) console.error(`  ${dev.address}: connection closed (${code} ${reason})`);
        else if (unexpectedCloses === 6) console.error("  (more connections closed; not listing them)");
      }
      for (const w of dev.waiters.values()) w.reject(new Error("connection closed"));
      reject(new Error(`closed during login (${code} ${reason})`));
    });
  });
}

// --- one measured mode --------------------------------------------------------------------------
async function drain(timeoutMs) {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (run.received >= run.sent && run.oks + run.errors >= run.sent) return true;
    await sleep(20);
  }
  return false;
}

/** Makes sure every ack sent so far is committed: a ping is answered after earlier queued writes. */
async function settleAcks() {
  flushAcks();
  await pool(devices, 200, (dev) => request(dev, { t: "ping" }, 30_000));
}

async function measureMode(label, start, stop) {
  const otherBefore = quietSeconds > 0 ? await waitForQuiet(quietSeconds) : null;
  resetRun();
  const eld = monitorEventLoopDelay({ resolution: 5 });
  run.sending = true;
  start();
  await sleep(warmupSeconds * 1000);
  const cpu0 = cpuSeconds(server.pid);
  const gen0 = process.cpuUsage();
  const cores0 = coreBusySeconds();
  eld.enable();
  run.measureStart = performance.now();
  const monotonicStart = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC µs, the clock of --cpu-prof
  run.measuring = true;
  await sleep(seconds * 1000);
  run.measuring = false;
  run.measureEnd = performance.now();
  const monotonicEnd = process.hrtime.bigint() / 1000n;
  const cpu1 = cpuSeconds(server.pid);
  const gen1 = process.cpuUsage(gen0);
  const cores1 = coreBusySeconds();
  eld.disable();
  run.sending = false;
  stop();
  const window = (run.measureEnd - run.measureStart) / 1000;
  const drained = await drain(20_000);
  await settleAcks();
  const lat = summarize(run.latencies);
  const serverCpu = cpu1 - cpu0;
  const generatorCpu = (gen1.user + gen1.system) / 1e6;
  // CPU used by other processes on the machine during the window (noise: the machine may be shared).
  const otherCpu = cores1.reduce((sum, v, i) => sum + v - (cores0[i] ?? v), 0) - serverCpu - generatorCpu;
  const result = {
    mode: label,
    seconds: round(window, 3),
    sentInWindow: run.sentInWindow,
    deliveredInWindow: run.deliveredInWindow,
    deliveredPerSecond: round(run.deliveredInWindow / window, 1),
    sendRatePerSecond: round(run.sentInWindow / window, 1),
    latencyMs: {
      samples: lat.count,
      p50: round(lat.p50, 3),
      p90: round(lat.p90, 3),
      p99: round(lat.p99, 3),
      max: round(lat.max, 3),
      mean: round(lat.mean, 3),
    },
    serverCpuSeconds: round(serverCpu, 2),
    serverCpuUtilisation: round(serverCpu / window, 3),
    serverCpuMicrosPerMessage: run.deliveredInWindow ? round((serverCpu * 1e6) / run.deliveredInWindow, 1) : null,
    generatorCpuUtilisation: round(generatorCpu / window, 3),
    otherProcessesCpuUtilisation: round(Math.max(0, otherCpu) / window, 3),
    coreBusyUtilisation: cores1.map((v, i) => round((v - (cores0[i] ?? v)) / window, 3)),
    generatorEventLoopDelayP99Ms: round(eld.percentile(99) / 1e6, 2),
    sentTotal: run.sent,
    receivedTotal: run.received,
    okTotal: run.oks,
    errors: run.errors,
    outOfOrder: run.outOfOrder,
    generatorShortfall: run.shortfall,
    okWithoutOneDelivery: run.okNotDelivered,
    deliveredNotices: run.deliveredNotices,
    deliveredMessages: run.deliveredMessages,
    undelivered: run.sent - run.received,
    drained,
    otherProcessesCpuBefore: otherBefore,
    windowMonotonicMicros: [Number(monotonicStart), Number(monotonicEnd)],
    loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number),
  };
  const l = result.latencyMs;
  console.log(
    `  ${label.padEnd(16)} ${String(result.deliveredPerSecond).padStart(8)} msgs/s  ` +
      `lat p50 ${l.p50} p90 ${l.p90} p99 ${l.p99} max ${l.max} ms  ` +
      `server CPU ${result.serverCpuUtilisation} (${result.serverCpuMicrosPerMessage} µs/msg)  gen CPU ${result.generatorCpuUtilisation} ` +
      `(loop delay p99 ${result.generatorEventLoopDelayP99Ms} ms)  other CPU ${result.otherProcessesCpuUtilisation}` +
      (result.errors || result.undelivered || result.outOfOrder || result.okWithoutOneDelivery
        ? `  errors ${result.errors} undelivered ${result.undelivered} out-of-order ${result.outOfOrder} ok-without-delivery ${result.okWithoutOneDelivery}`
        : "") +
      (result.generatorShortfall ? `  generator fell behind by ${result.generatorShortfall} msgs` : "") +
      (receipts ? `  delivered notices ${result.deliveredNotices} for ${result.deliveredMessages} msgs` : ""),
  );
  return result;
}

function closedLoop(window) {
  return measureMode(
    `closed W=${window}`,
    () => {
      run.closedLoop = true;
      for (let w = 0; w < window; w++) for (const dev of devices) sendApp(dev);
    },
    () => {
      run.closedLoop = false;
    },
  );
}

function openLoop(rate) {
  let timer;
  return measureMode(
    `open ${rate}/s`,
    () => {
      const started = performance.now();
      let scheduled = 0;
      let cursor = 0;
      // A late timer catches up, but never with more than 250 ms worth of messages at once.
      const maxBurst = Math.max(1, Math.ceil(rate * 0.25));
      timer = setInterval(() => {
        if (!run.sending) return;
        let due = Math.floor((rate * (performance.now() - started)) / 1000) - scheduled;
        if (due > maxBurst) {
          if (run.measuring) run.shortfall += due - maxBurst; // the generator fell behind: count, do not catch up
          scheduled += due - maxBurst;
          due = maxBurst;
        }
        for (let k = 0; k < due; k++) {
          sendApp(devices[cursor]);
          cursor = cursor + 1 === devices.length ? 0 : cursor + 1;
        }
        scheduled += due;
      }, 10);
    },
    () => clearInterval(timer),
  );
}

// --- one N ----------------------------------------------------------------------------------------
async function benchDevices(n) {
  console.log(`\nrelay: N=${n} devices (${n / 2} pairs)`);
  const root = mkdtempSync(join(tmpdir(), "momedo-bench-"));
  tempDirs.add(root);
  const dataDir = join(root, "data");
  mkdirSync(dataDir);
  const commitMs = commitLatencyMs(root);
  console.log(`  disk: one durable SQLite commit (WAL, synchronous=FULL) takes p50 ${commitMs.p50} ms, p90 ${commitMs.p90} ms`);
  const s = await startServer({
    main: SERVER_MAIN,
    dataDir,
    name: "relay",
    label: `n${n}`,
    profile: args.profile,
    onSpawn: (state) => {
      server = state;
      if (state.profileDir) console.log(`  server CPU profile -> ${state.profileDir}`);
    },
  });
  console.log(`  server pid ${s.pid} at ${s.url} (data ${dataDir})`);
  const out = { devices: n, serverUrl: s.url, ackMode, diskCommitMs: commitMs, phases: {}, modes: [] };

  let t = performance.now();
  const users = importUsers(SERVER_MAIN, dataDir, Array.from({ length: n }, (_, i) => `Bench User ${i}`));
  out.phases.importSeconds = round((performance.now() - t) / 1000, 2);

  t = performance.now();
  const enrolled = await pool(users, concurrency, (u) => enrollDevice(s.url, u.code));
  const enrollSeconds = (performance.now() - t) / 1000;
  out.phases.enrollPerSecond = round(n / enrollSeconds, 1);
  devices = enrolled.map((e, index) => ({
    index,
    user: e.user,
    device: e.device,
    address: `${e.user}/${e.device}`,
    secretKey: e.secretKey,
    peer: index ^ 1,
    group: "",
    ws: undefined,
    nextId: 1,
    waiters: new Map(),
    ackSeq: 0,
    payload: randomBytes(PAYLOAD_BYTES),
    sentCounter: 0,
    expectCounter: 0,
    closing: false,
  }));
  for (const dev of devices) dev.group = directChatId(dev.user, devices[dev.peer].user);
  console.log(`  imported ${n} users in ${out.phases.importSeconds} s, enrolled at ${out.phases.enrollPerSecond}/s`);

  await sleep(500);
  out.serverRssKiB = { beforeConnections: rssKiB(s.pid) };

  // Logins: connect + challenge + auth + ready (+ synced), `concurrency` at a time.
  const wsUrl = s.url.replace(/^http/, "ws") + "/api/v1/ws";
  t = performance.now();
  const loginStartMicros = process.hrtime.bigint() / 1000n;
  const cpuLogin0 = cpuSeconds(s.pid);
  const logins = await pool(devices, concurrency, (dev) => connect(dev, wsUrl));
  const loginSeconds = (performance.now() - t) / 1000;
  const loginCpu = cpuSeconds(s.pid) - cpuLogin0;
  const loginLat = summarize(logins.map((l) => l.ready));
  out.phases.login = {
    concurrency,
    loginsPerSecond: round(n / loginSeconds, 1),
    seconds: round(loginSeconds, 2),
    readyMs: { p50: round(loginLat.p50, 2), p99: round(loginLat.p99, 2), max: round(loginLat.max, 2) },
    serverCpuMicrosPerLogin: round((loginCpu * 1e6) / n, 0),
    windowMonotonicMicros: [Number(loginStartMicros), Number(process.hrtime.bigint() / 1000n)],
  };
  const online = (await health(s.url)).online;
  if (online !== n) throw new Error(`health reports ${online} online, expected ${n}`);
  await sleep(1000);
  out.serverRssKiB.afterConnections = rssKiB(s.pid);
  out.serverRssKiB.perIdleConnection = round((out.serverRssKiB.afterConnections - out.serverRssKiB.beforeConnections) / n, 1);
  console.log(
    `  logins: ${out.phases.login.loginsPerSecond}/s (concurrency ${concurrency}; ready p50 ${out.phases.login.readyMs.p50} ms, ` +
      `p99 ${out.phases.login.readyMs.p99} ms; ${out.phases.login.serverCpuMicrosPerLogin} µs server CPU each)`,
  );
  console.log(
    `  server RSS ${out.serverRssKiB.beforeConnections} KiB -> ${out.serverRssKiB.afterConnections} KiB with ${n} idle connections ` +
      `(${out.serverRssKiB.perIdleConnection} KiB each)`,
  );

  // Groups: the first device of each pair commits the pair's 1:1 group; the peer gets a Welcome.
  t = performance.now();
  const pairs = devices.filter((d) => d.index % 2 === 0);
  await pool(pairs, concurrency, async (a) => {
    const b = devices[a.peer];
    const welcomed = new Promise((resolve) => {
      b.onWelcome = resolve;
    });
    const result = await request(a, {
      t: "group.commit",
      group: a.group,
      epoch: 0,
      commit: randomBytes(64).toString("base64"),
      welcome: randomBytes(64).toString("base64"),
      members: [a.address, b.address],
    });
    if (result?.epoch !== 1) throw new Error(`commit for ${a.group}: unexpected result ${JSON.stringify(result)}`);
    await withTimeout(welcomed, 30_000, `welcome to ${b.address}`);
    b.onWelcome = undefined;
  });
  out.phases.groupsPerSecond = round(pairs.length / ((performance.now() - t) / 1000), 1);
  await settleAcks();
  console.log(`  created ${pairs.length} groups at ${out.phases.groupsPerSecond}/s`);

  if (modes.has("closed")) for (const w of windows) out.modes.push(await closedLoop(w));
  if (modes.has("open")) for (const r of ratesFor(n)) out.modes.push({ ...(await openLoop(r)), targetRate: r });

  out.serverRssKiB.afterRun = rssKiB(s.pid);
  out.serverStderrLines = s.stderrLines;
  if (s.profileDir) out.serverProfileDir = s.profileDir;
  out.unexpectedCloses = unexpectedCloses;
  console.log(`  server RSS after the run: ${out.serverRssKiB.afterRun} KiB`);

  // Close the clients, stop the server, count what is left in the mailboxes.
  await Promise.all(
    devices.map(
      (dev) =>
        new Promise((resolve) => {
          dev.closing = true;
          if (dev.ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            dev.ws.terminate();
            resolve();
          }, 5_000);
          dev.ws.once("close", () => {
            clearTimeout(timer);
            resolve();
          });
          dev.ws.close(1000, "bye");
        }),
    ),
  );
  await s.stop();
  const db = new Database(join(dataDir, "momedo.sqlite"), { readonly: true, fileMustExist: true });
  out.mailboxLeftovers = db.prepare("SELECT count(*) AS n FROM mailbox").get().n;
  db.close();
  console.log(`  mailbox rows left after all acks: ${out.mailboxLeftovers}`);
  devices = [];
  server = undefined;
  if (!args.keep) {
    rmSync(root, { recursive: true, force: true });
    tempDirs.delete(root);
  } else console.log(`  kept ${root}`);
  return out;
}

async function main() {
  const pinned = pinToCore(process.pid, 1);
  const started = new Date();
  const perMode = (n) => (modes.has("closed") ? windows.length : 0) + (modes.has("open") ? ratesFor(n).length : 0);
  const budgetSeconds = deviceCounts.reduce((sum, n) => sum + 180 + n / 10 + perMode(n) * (warmupSeconds + seconds + 60), 60);
  const watchdog = setTimeout(() => {
    console.error(`relay bench: still running after ${budgetSeconds} s, giving up`);
    killServerNow();
    process.exit(2);
  }, budgetSeconds * 1000);
  watchdog.unref();

  console.log(
    `relay bench: devices ${deviceCounts.join(", ")}; ${warmupSeconds} s warm-up + ${seconds} s measured per mode; ` +
      `closed-loop W=${windows.join(",")}; acks ${ackMode === "batch" ? "cumulative, one per device per event-loop turn" : "one per message"}; ` +
      `${PAYLOAD_BYTES}-byte payloads; generator ${pinned ? "pinned to core 1" : "not pinned"}, server ${hasTaskset() ? "pinned to core 0" : "not pinned"}`,
  );
  const results = [];
  for (const n of deviceCounts) results.push(await benchDevices(n));
  clearTimeout(watchdog);

  console.log("\nrelay summary");
  const rows = [];
  for (const r of results) {
    for (const m of r.modes) {
      rows.push([r.devices, m.otherProcessesCpuUtilisation > NOISY ? `${m.mode} *` : m.mode, m.deliveredPerSecond, m.latencyMs.p50, m.latencyMs.p90, m.latencyMs.p99, m.latencyMs.max, m.serverCpuUtilisation, m.serverCpuMicrosPerMessage, m.generatorCpuUtilisation, m.otherProcessesCpuUtilisation]);
    }
  }
  console.log(table(["N", "mode", "msgs/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "srv CPU", "µs/msg", "gen CPU", "other CPU"], rows));
  console.log(
    `(srv/gen/other CPU: cores busy with the server, the load generator, other processes. * = other processes used more than ${NOISY} cores: numbers disturbed, run again)`,
  );
  console.log(
    "\n" +
      table(
        ["N", "logins/s", "enroll/s", "RSS idle KiB", "RSS conn KiB", "KiB/conn", "RSS after KiB", "mailbox left"],
        results.map((r) => [
          r.devices,
          r.phases.login.loginsPerSecond,
          r.phases.enrollPerSecond,
          r.serverRssKiB.beforeConnections,
          r.serverRssKiB.afterConnections,
          r.serverRssKiB.perIdleConnection,
          r.serverRssKiB.afterRun,
          r.mailboxLeftovers,
        ]),
      ),
  );
  const file = writeResult("relay", {
    bench: "relay",
    started: started.toISOString(),
    machine: machineInfo(),
    config: { deviceCounts, seconds, warmupSeconds, windows, rates: explicitRates ?? "default", modes: [...modes], ackMode, receipts, concurrency, payloadBytes: PAYLOAD_BYTES, generatorPinned: pinned, serverPinned: hasTaskset(), clkTck: clkTck() },
    results,
  });
  console.log(`\nwrote ${file}`);
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  async (error) => {
    console.error("relay bench failed:", error);
    killServerNow();
    process.exit(1);
  },
);
