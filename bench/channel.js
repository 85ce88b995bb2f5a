#!/usr/bin/env node
// Channel benchmark: one big channel ("Klasse") with real MLS. A real momedo server runs as a
// child process (pinned to core 0, fresh temp data dir, no TLS, loopback only); this script
// (pinned to core 1) enrolls N members, one owner (the teacher) and 31 extra people, each device
// with a real Engine + MemoryStore and real KeyPackages, and keeps every WebSocket open (raw `ws`
// clients that ack each mailbox entry). Only a few "processor" devices run engine.receive(); the
// others just record arrival times and bytes. Processors run only after a step's fan-out has
// reached every socket, so their CPU work does not delay the arrival measurements.
//
// Steps (channel A): create with all N members in one commit; add one person; remove one person;
// add 30 people at once; post P times (sender encrypt, server ok, last socket, one decrypt).
// Then (channel B, unless --create all): create with --batch members and add --batch at a time
// up to N. Reported per step: client ms (and CPU ms), commit/Welcome bytes, server request->ok,
// fan-out (first/median/last socket), processing ms at one member, server CPU/RSS, SQLite sizes.
//
//   node bench/channel.js --quick          # N=50
//   node bench/channel.js                  # N=1000
// More flags:
//   --members N          channel members besides the owner (default 1000; --quick: 50)
//   --posts P            posts to time (default 20)
//   --processors K       members that run engine.receive (default 3: first, middle, last)
//   --batch B            batch size for channel B and for the "add many" step (default 30)
//   --create all,batched which channel-creation variants to run (default both)
//   --budget S           abort after S seconds (default 600); partial results are still written
//   --concurrency C      enrollments in flight (default 16)
//   --profile            run the server with --cpu-prof; prints its hottest functions per step
//   --keep               keep the temp data dir
// Results: bench/results/channel-<timestamp>.json
import { randomBytes, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { ed25519 } from "@noble/curves/ed25519.js";
import { crockford, toBase64 } from "@momedo/protocol";
import { DEFAULT_CIPHERSUITE, Engine, MemoryStore, systemEnv } from "@momedo/core";
// Internal, for the state-codec diagnostic only (not part of the package's public API).
import { clientConfig, decodeState, encodeState } from "../packages/core/dist/mls.js";
import {
  cleanupOnExit,
  clkTck,
  cpuSeconds,
  hasTaskset,
  importUsers,
  machineInfo,
  memKiB,
  parseArgs,
  pinToCore,
  pool,
  positiveNumber,
  REPO_DIR,
  round,
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
  lists: ["create"],
  booleans: ["quick", "keep", "profile"],
  known: ["members", "quick", "posts", "processors", "batch", "create", "budget", "concurrency", "profile", "keep"],
});
const quick = args.quick === true;
const N = Math.floor(positiveNumber("members", args.members ?? (quick ? 50 : 1000)));
if (N < 4) usage("--members: need at least 4");
const POSTS = Math.floor(positiveNumber("posts", args.posts ?? 20));
const PROCESSORS = Math.min(N, Math.floor(positiveNumber("processors", args.processors ?? 3)));
const BATCH = Math.floor(positiveNumber("batch", args.batch ?? 30));
const CREATE = new Set(args.create ?? ["all", "batched"]);
for (const c of CREATE) if (c !== "all" && c !== "batched") usage(`--create ${c}: expected all and/or batched`);
const BUDGET_S = positiveNumber("budget", args.budget ?? 600);
const CONCURRENCY = Math.floor(positiveNumber("concurrency", args.concurrency ?? 16));
const SERVER_BIN = join(REPO_DIR, "packages/server/bin/momedo-server.js");
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024; // the server's default, for comparison
const POST_TEXT = "Stunde 1 fällt aus";
const EXTRA_MANY = BATCH; // people added at once in channel A
const STEP_TIMEOUT_MS = 180_000;

const startedAt = performance.now();
const elapsedS = () => (performance.now() - startedAt) / 1000;

// --- process hygiene: the server child never outlives this script -------------------------------
let server; // the state from startServer: { child, pid, url, dataDir, profileDir, stderrLines, kill(), stop() }
let root;
const out = {
  bench: "channel",
  started: new Date().toISOString(),
  machine: machineInfo(),
  config: { members: N, posts: POSTS, processors: PROCESSORS, batch: BATCH, create: [...CREATE], budgetSeconds: BUDGET_S, concurrency: CONCURRENCY, ciphersuite: DEFAULT_CIPHERSUITE, maxMessageBytes: MAX_MESSAGE_BYTES },
  setup: {},
  steps: [],
  notes: [],
};

const killServerNow = () => server?.kill();
function removeRoot() {
  if (root && !args.keep) rmSync(root, { recursive: true, force: true });
}
cleanupOnExit({ name: "channel", kill: killServerNow, remove: removeRoot });

// --- /proc and file readings --------------------------------------------------------------------
/** Busy CPU seconds of the whole machine (all cores), from /proc/stat. */
function machineBusySeconds() {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + (steal || 0)) / clkTck();
}
/** CPU seconds used by processes other than the server and this script since `mark`. */
function otherCpuMark() {
  const mark = { machine: machineBusySeconds(), server: cpuSeconds(server.pid), self: process.cpuUsage() };
  return () => {
    const self = process.cpuUsage(mark.self);
    const other = machineBusySeconds() - mark.machine - (cpuSeconds(server.pid) - mark.server) - (self.user + self.system) / 1e6;
    return round(Math.max(0, other), 2);
  };
}
function fileBytes(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
function sqliteSizes() {
  const db = join(server.dataDir, "momedo.sqlite");
  const main = fileBytes(db);
  const wal = fileBytes(`${db}-wal`);
  return { mainBytes: main, walBytes: wal, totalMiB: round((main + wal) / 2 ** 20, 1) };
}
function mailboxStats() {
  const db = new Database(join(server.dataDir, "momedo.sqlite"), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT count(*) AS n, coalesce(sum(length(data)), 0) AS bytes FROM mailbox").get();
    return { rows: row.n, payloadMiB: round(row.bytes / 2 ** 20, 2) };
  } finally {
    db.close();
  }
}
const cpuMs = (since) => {
  const d = process.cpuUsage(since);
  return round((d.user + d.system) / 1000, 1);
};
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Samples the server's RSS every 50 ms while a step runs. */
function rssSampler() {
  let max = 0;
  const timer = setInterval(() => {
    try {
      max = Math.max(max, memKiB(server.pid).rss);
    } catch {
      /* gone */
    }
  }, 50);
  return () => {
    clearInterval(timer);
    try {
      max = Math.max(max, memKiB(server.pid).rss);
    } catch {
      /* gone */
    }
    return max;
  };
}

// --- devices: a real Engine each, one raw WebSocket each ------------------------------------------
/** The step currently waiting for its fan-out: which addresses must still receive an entry of `group`. */
let expecting;
let unexpectedFrames = 0;
let unexpectedCloses = 0;

const MSG_HEAD = /^\{"t":"msg","seq":(\d+),"group":"([^"]+)","kind":"(\w+)","from":"([^"]+)","data":"/;

function onMessage(dev, buf) {
  const now = performance.now();
  let frame;
  let head;
  if (buf.length > 4096) {
    // Big mailbox entries: read only the head, never parse (or copy) the payload here.
    const m = MSG_HEAD.exec(buf.toString("latin1", 0, 300));
    if (!m) {
      frame = JSON.parse(buf.toString("utf8"));
    } else head = { t: "msg", seq: Number(m[1]), group: m[2], kind: m[3] };
  } else frame = JSON.parse(buf.toString("utf8"));
  const f = head ?? frame;
  switch (f.t) {
    case "msg": {
      dev.ws.send(`{"t":"ack","seq":${f.seq}}`);
      dev.received++;
      dev.receivedBytes += buf.length;
      if (dev.processGroups.has(f.group)) dev.queue.push(buf);
      const e = expecting;
      if (e && f.group === e.group && e.pending.has(dev.address)) {
        e.pending.delete(dev.address);
        e.arrivals.push(now - e.t0);
        e.frameBytes = Math.max(e.frameBytes, buf.length);
        if (!e.kinds.includes(f.kind)) e.kinds.push(f.kind);
        if (e.pending.size === 0) e.done();
      } else unexpectedFrames++;
      return;
    }
    case "ok":
    case "err": {
      const waiter = dev.waiters.get(f.id);
      if (!waiter) {
        unexpectedFrames++;
        if (f.t === "err") console.error(`  server error for ${dev.address}: ${f.code} ${f.message}`);
        return;
      }
      dev.waiters.delete(f.id);
      if (f.t === "ok") waiter.resolve(f.result);
      else waiter.reject(new Error(`${f.code}: ${f.message}${f.detail ? ` (${JSON.stringify(f.detail)})` : ""}`));
      return;
    }
    case "challenge":
      dev.engine.authSignature(f.nonce).then((sig) => dev.ws.send(JSON.stringify({ t: "auth", user: dev.user, device: dev.device, sig })));
      return;
    case "ready":
      return;
    case "synced":
      dev.onSynced?.();
      return;
  }
}

function request(dev, frame, timeoutMs = 60_000) {
  const id = dev.nextId++;
  const reply = new Promise((resolve, reject) => dev.waiters.set(id, { resolve, reject }));
  dev.ws.send(JSON.stringify({ ...frame, id }));
  return withTimeout(reply, timeoutMs, `${frame.t} from ${dev.address}`).finally(() => dev.waiters.delete(id));
}

function connect(dev, wsUrl) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false, handshakeTimeout: 30_000, maxPayload: 256 * 1024 * 1024 });
    dev.ws = ws;
    const timer = setTimeout(() => {
      reject(new Error(`login of ${dev.address} timed out`));
      ws.terminate();
    }, 60_000);
    dev.onSynced = () => {
      clearTimeout(timer);
      dev.onSynced = undefined;
      resolve();
    };
    ws.on("message", (data) => onMessage(dev, data));
    ws.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      if (!dev.closing) {
        unexpectedCloses++;
        if (unexpectedCloses <= 5) console.error(`  ${dev.address}: connection closed (${code} ${reason})`);
      }
      for (const w of dev.waiters.values()) w.reject(new Error("connection closed"));
      reject(new Error(`closed (${code} ${reason})`));
    });
  });
}

/** Enrolls one device with real MLS keys, signs in, uploads two one-time KeyPackages (+ last resort). */
async function enrollDevice(url, wsUrl, person, label) {
  const t0 = performance.now();
  const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
  const response = await fetch(`${url}/api/v1/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ code: person.code, signaturePublicKey: toBase64(keys.publicKey) }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`enroll: HTTP ${response.status} ${JSON.stringify(body)}`);
  const store = new MemoryStore();
  const engine = await Engine.enroll(store, systemEnv, keys, body);
  const dev = {
    label,
    user: engine.user,
    device: engine.device,
    address: engine.address,
    engine,
    store,
    ws: undefined,
    nextId: 1,
    waiters: new Map(),
    received: 0,
    receivedBytes: 0,
    queue: [],
    processGroups: new Set(),
    closing: false,
  };
  await connect(dev, wsUrl);
  const t1 = performance.now();
  const upload = await engine.createKeyPackages(2);
  const kpMs = performance.now() - t1;
  await request(dev, { t: "keys.upload", ...upload });
  dev.enrollMs = performance.now() - t0;
  dev.keyPackageMs = kpMs;
  dev.keyPackageBytes = Buffer.from(upload.keyPackages[0], "base64").length;
  return dev;
}

// --- measured steps ---------------------------------------------------------------------------------
/** Arms the arrival watch for `group`; resolves when every address in `recipients` got one entry. */
function expectFanOut(group, recipients, t0) {
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const e = { group, pending: new Set(recipients), arrivals: [], frameBytes: 0, kinds: [], t0, done: () => done() };
  expecting = e;
  if (e.pending.size === 0) e.done();
  return {
    e,
    wait: async () => {
      try {
        await withTimeout(finished, STEP_TIMEOUT_MS, `fan-out to ${recipients.length} sockets (${e.pending.size} still missing)`);
      } finally {
        expecting = undefined;
      }
      const s = summarize(e.arrivals);
      return {
        sockets: recipients.length,
        firstMs: round(s.min ?? null, 1),
        p50Ms: round(s.p50, 1),
        p90Ms: round(s.p90, 1),
        lastMs: round(s.max, 1),
        largestFrameBytes: e.frameBytes,
        kinds: e.kinds,
      };
    },
  };
}

/** Runs engine.receive on every processor's queued frames (after the fan-out); times each frame. */
async function drainProcessors(processors) {
  const results = [];
  for (const dev of processors) {
    while (dev.queue.length > 0) {
      const buf = dev.queue.shift();
      const frame = JSON.parse(buf.toString("utf8"));
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const events = await dev.engine.receive(frame);
      const ms = performance.now() - t0;
      results.push({
        device: dev.label,
        kind: frame.kind,
        ms: round(ms, 1),
        cpuMs: cpuMs(c0),
        events: events.map((ev) => ev.type + (ev.type === "undecryptable" ? `: ${ev.reason}` : "")),
        text: events.find((ev) => ev.type === "message")?.message.text,
      });
    }
  }
  return results;
}

/** Sequential claims, as Messenger.claimPeople does: one keys.claim round trip per person. */
async function claimPeople(owner, devs) {
  const people = [];
  for (const dev of devs) {
    const result = await request(owner, { t: "keys.claim", user: dev.user });
    if (result.devices.length === 0) throw new Error(`no KeyPackage for ${dev.user}`);
    people.push({ user: dev.user, devices: result.devices });
  }
  return people;
}

function stateCodec(owner, group) {
  const bytes = owner.store.groups.get(group);
  if (!bytes) return null;
  const config = clientConfig(owner.engine.identity.orgKey);
  let t = performance.now();
  const state = decodeState(bytes, config);
  const decodeMs = performance.now() - t;
  t = performance.now();
  encodeState(state);
  const encodeMs = performance.now() - t;
  return { stateBytes: bytes.length, decodeMs: round(decodeMs, 1), encodeMs: round(encodeMs, 1) };
}

/**
 * One commit from the owner: build (timed), send, wait for ok and for every socket, then let the
 * processors process their entries. `build` returns the PendingCommit.
 */
async function commitStep(label, ctx, build, { processors, claim = [], create = false }) {
  const { owner } = ctx;
  const step = { step: label };
  const other = otherCpuMark();
  const stopRss = rssSampler();
  const profileStart = monotonicMicros();
  const cpu0 = cpuSeconds(server.pid);

  let t = performance.now();
  const people = claim.length > 0 ? await claimPeople(owner, claim) : [];
  if (claim.length > 0) step.claimMs = round(performance.now() - t, 1);

  const c0 = process.cpuUsage();
  t = performance.now();
  const pending = await build(people);
  step.buildMs = round(performance.now() - t, 1);
  step.buildCpuMs = cpuMs(c0);
  step.commitBytes = Buffer.from(pending.commit, "base64").length;
  step.welcomeBytes = pending.welcome ? Buffer.from(pending.welcome, "base64").length : 0;
  const frameText = JSON.stringify({ t: "group.commit", id: 0, ...pending });
  step.requestFrameBytes = frameText.length;
  step.overDefaultMaxMessageBytes = Math.max(step.commitBytes, step.welcomeBytes) > DEFAULT_MAX_MESSAGE_BYTES;

  const before = new Set(ctx.members);
  const after = pending.members;
  const receivers = [
    ...[...before].filter((a) => a !== owner.address), // commit to the old epoch (removed members included)
    ...after.filter((a) => !before.has(a)), // Welcome to the new ones
  ];
  const added = after.filter((a) => !before.has(a));
  step.commitReceivers = receivers.length - added.length;
  step.welcomeReceivers = added.length;
  // What the server stores: one mailbox copy per receiving device.
  step.mailboxPayloadBytes = step.commitBytes * step.commitReceivers + step.welcomeBytes * step.welcomeReceivers;
  for (const a of added) {
    const dev = ctx.byAddress.get(a);
    if (dev && processors.includes(dev)) dev.processGroups.add(pending.group);
  }

  const t0 = performance.now();
  const fan = expectFanOut(pending.group, receivers, t0);
  let okMs;
  try {
    await request(owner, { t: "group.commit", ...pending }, STEP_TIMEOUT_MS);
    okMs = performance.now() - t0;
  } catch (error) {
    owner.engine.commitRejected(pending.group);
    expecting = undefined;
    throw error;
  }
  const c1 = process.cpuUsage();
  t = performance.now();
  await owner.engine.commitAccepted(pending.group);
  step.commitAcceptedMs = round(performance.now() - t, 1);
  step.clientCpuMs = round(step.buildCpuMs + cpuMs(c1), 1);
  step.serverOkMs = round(okMs, 1);
  step.fanOut = await fan.wait();
  step.serverCpuSeconds = round(cpuSeconds(server.pid) - cpu0, 2);
  step.serverRssPeakKiB = stopRss();
  step.profileWindow = [profileStart, monotonicMicros()];
  ctx.members = after;
  step.members = after.length;
  step.epoch = await owner.engine.epoch(pending.group);
  step.sqlite = sqliteSizes();
  if (create) step.mailboxAfterFanOut = mailboxStats();

  step.processing = await drainProcessors(processors);
  step.stateCodec = stateCodec(owner, pending.group);
  step.otherProcessesCpuSeconds = other();
  return step;
}

function printCommitStep(s) {
  const proc = s.processing.map((p) => `${p.device} ${p.kind} ${p.ms} ms${p.events.some((e) => e.startsWith("undecryptable")) ? ` (${p.events.join(",")})` : ""}`).join("; ");
  console.log(
    `  ${s.step}: ${s.members} devices, epoch ${s.epoch}` +
      (s.claimMs !== undefined ? `\n    claim ${s.claimMs} ms (sequential keys.claim)` : "") +
      `\n    client: build ${s.buildMs} ms + commitAccepted ${s.commitAcceptedMs} ms (client CPU ${s.clientCpuMs} ms)` +
      `\n    commit ${s.commitBytes} B, Welcome ${s.welcomeBytes} B, request frame ${s.requestFrameBytes} B; mailbox copies ${s.commitReceivers}x commit + ${s.welcomeReceivers}x Welcome = ${round(s.mailboxPayloadBytes / 2 ** 20, 2)} MiB${s.overDefaultMaxMessageBytes ? " (over the default 1 MiB --max-message-bytes!)" : ""}` +
      `\n    server ok ${s.serverOkMs} ms; fan-out to ${s.fanOut.sockets} sockets: first ${s.fanOut.firstMs}, p50 ${s.fanOut.p50Ms}, last ${s.fanOut.lastMs} ms` +
      `\n    server CPU ${s.serverCpuSeconds} s, RSS peak ${round(s.serverRssPeakKiB / 1024, 1)} MiB; SQLite ${s.sqlite.totalMiB} MiB (main ${round(s.sqlite.mainBytes / 2 ** 20, 1)} + WAL ${round(s.sqlite.walBytes / 2 ** 20, 1)})` +
      (s.mailboxAfterFanOut ? `; mailbox right after fan-out: ${s.mailboxAfterFanOut.rows} rows, ${s.mailboxAfterFanOut.payloadMiB} MiB` : "") +
      `\n    processing: ${proc || "-"}` +
      (s.stateCodec ? `\n    owner group state ${s.stateCodec.stateBytes} B: decode ${s.stateCodec.decodeMs} ms, encode ${s.stateCodec.encodeMs} ms` : "") +
      `\n    (other processes on the machine used ${s.otherProcessesCpuSeconds} CPU s during this step)`,
  );
}

async function postStep(ctx, group, processors, i) {
  const { owner } = ctx;
  const other = otherCpuMark();
  const stopRss = rssSampler();
  const profileStart = monotonicMicros();
  const cpu0 = cpuSeconds(server.pid);
  const c0 = process.cpuUsage();
  let t = performance.now();
  const message = await owner.engine.encryptText(group, `${POST_TEXT} (#${i + 1})`);
  const encryptMs = performance.now() - t;
  const encryptCpuMs = cpuMs(c0);
  const receivers = ctx.members.filter((a) => a !== owner.address);
  const t0 = performance.now();
  const fan = expectFanOut(group, receivers, t0);
  const result = await request(owner, { t: "group.send", group, epoch: message.epoch, data: message.data }, STEP_TIMEOUT_MS);
  const okMs = performance.now() - t0;
  const fanOut = await fan.wait();
  const serverCpu = cpuSeconds(server.pid) - cpu0;
  const rssPeak = stopRss();
  const profileWindow = [profileStart, monotonicMicros()];
  const processing = await drainProcessors(processors);
  const first = processing[0];
  return {
    post: i + 1,
    dataBytes: Buffer.from(message.data, "base64").length,
    encryptMs: round(encryptMs, 1),
    encryptCpuMs,
    serverOkMs: round(okMs, 1),
    delivered: result.delivered,
    fanOut,
    endToLastMs: round(encryptMs + fanOut.lastMs, 1),
    serverCpuSeconds: round(serverCpu, 3),
    serverRssPeakKiB: rssPeak,
    decryptMs: first?.ms ?? null,
    decryptOk: processing.every((p) => p.text === `${POST_TEXT} (#${i + 1})`),
    processing,
    profileWindow,
    otherProcessesCpuSeconds: other(),
  };
}

// --- diagnostics ------------------------------------------------------------------------------------
/** Ed25519 verify: noble (pure JS, what ts-mls and the credential check use) vs node:crypto. */
function ed25519Diagnostic() {
  const count = 200;
  const { secretKey, publicKey } = ed25519.keygen();
  const msg = randomBytes(300);
  const sig = ed25519.sign(msg, secretKey);
  const pair = generateKeyPairSync("ed25519");
  const nsig = nodeSign(null, msg, pair.privateKey);
  for (let i = 0; i < 100; i++) {
    // warm-up (JIT, noble's precomputed tables)
    ed25519.verify(sig, msg, publicKey);
    nodeVerify(null, msg, pair.publicKey, nsig);
  }
  let t = performance.now();
  for (let i = 0; i < count; i++) ed25519.verify(sig, msg, publicKey);
  const nobleUs = ((performance.now() - t) * 1000) / count;
  t = performance.now();
  for (let i = 0; i < count; i++) nodeVerify(null, msg, pair.publicKey, nsig);
  const nodeUs = ((performance.now() - t) * 1000) / count;
  return { nobleVerifyMicros: round(nobleUs, 1), nodeCryptoVerifyMicros: round(nodeUs, 1) };
}

/** The server's hottest functions (self time) inside each measured window, from its --cpu-prof. */
function profileSummary(dir, windows) {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) return null;
  const profile = JSON.parse(readFileSync(join(dir, files[0]), "utf8"));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const times = [];
  let t = profile.startTime;
  for (const d of profile.timeDeltas) times.push((t += d));
  const summaries = {};
  for (const { label, window } of windows) {
    const self = new Map();
    let total = 0;
    for (let i = 0; i < profile.samples.length; i++) {
      if (times[i] < window[0] || times[i] > window[1]) continue;
      const dt = (times[i + 1] ?? times[i]) - times[i];
      const cf = nodes.get(profile.samples[i]).callFrame;
      const key = `${cf.functionName || "(anonymous)"} ${cf.url.replace(/^.*node_modules\//, "").replace(/^.*\/packages\//, "packages/").replace(/^file:\/\//, "")}${cf.url ? `:${cf.lineNumber + 1}` : ""}`;
      self.set(key, (self.get(key) ?? 0) + dt);
      total += dt;
    }
    summaries[label] = {
      windowMs: round((window[1] - window[0]) / 1000, 1),
      sampledMs: round(total / 1000, 1),
      top: [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([fn, us]) => ({ fn, ms: round(us / 1000, 1) })),
    };
  }
  return summaries;
}

// --- main -----------------------------------------------------------------------------------------
let finishing = false;
async function finish(code, reason) {
  if (finishing) return;
  finishing = true;
  if (reason) out.aborted = reason;
  out.totalSeconds = round(elapsedS(), 1);
  try {
    const file = writeResult("channel", out);
    console.log(`\nwrote ${file}`);
  } catch (error) {
    console.error("could not write the result file:", error);
  }
  killServerNow();
  process.exit(code);
}

async function main() {
  const pinned = pinToCore(process.pid, 1);
  const watchdog = setTimeout(() => {
    console.error(`\nchannel bench: still running after ${BUDGET_S} s, giving up (partial results follow)`);
    finish(2, `budget of ${BUDGET_S} s exceeded`);
  }, BUDGET_S * 1000);

  console.log(
    `channel bench: ${N} members + owner + ${1 + EXTRA_MANY} extra people; ${PROCESSORS} processing members; ${POSTS} posts; ` +
      `create ${[...CREATE].join("+")}; budget ${BUDGET_S} s; bench ${pinned ? "pinned to core 1" : "not pinned"}, server ${hasTaskset() ? "pinned to core 0" : "not pinned"}`,
  );
  out.diagnostics = { ed25519: ed25519Diagnostic() };
  out.loadAverageStart = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);

  root = mkdtempSync(join(tmpdir(), "momedo-channel-"));
  const dataDir = join(root, "data");
  mkdirSync(dataDir);
  const s = await startServer({
    main: SERVER_BIN,
    dataDir,
    name: "channel",
    profile: args.profile,
    extraArgs: ["--max-message-bytes", String(MAX_MESSAGE_BYTES)],
    stopTimeoutMs: 30_000,
    onSpawn: (state) => (server = state),
    onUnexpectedExit: () => finish(1, "server exited"),
  });
  console.log(`  server pid ${s.pid} at ${s.url} (data ${dataDir})${s.profileDir ? `, CPU profile -> ${s.profileDir}` : ""}`);
  const wsUrl = s.url.replace(/^http/, "ws") + "/api/v1/ws";

  // People: the owner (teacher), N members, one person to add later, EXTRA_MANY to add at once.
  let t = performance.now();
  const names = ["Lehrerin Owner", ...Array.from({ length: N }, (_, i) => `Kind ${i + 1}`), "Nachzuegler", ...Array.from({ length: EXTRA_MANY }, (_, i) => `Neu ${i + 1}`)];
  const people = importUsers(SERVER_BIN, dataDir, names);
  out.setup.importSeconds = round((performance.now() - t) / 1000, 2);

  t = performance.now();
  const c0 = process.cpuUsage();
  const labels = ["owner", ...Array.from({ length: N }, (_, i) => `m${i}`), "late", ...Array.from({ length: EXTRA_MANY }, (_, i) => `new${i}`)];
  let done = 0;
  const devices = await pool(people, CONCURRENCY, async (person, i) => {
    const dev = await enrollDevice(s.url, wsUrl, person, labels[i]);
    if (++done % 200 === 0) console.log(`  enrolled ${done}/${people.length} (${round(elapsedS(), 0)} s)`);
    return dev;
  });
  const enrollSeconds = (performance.now() - t) / 1000;
  out.setup.enroll = {
    devices: devices.length,
    seconds: round(enrollSeconds, 1),
    perSecond: round(devices.length / enrollSeconds, 1),
    benchCpuSeconds: round(cpuMs(c0) / 1000, 1),
    benchCpuMsPerDevice: round(cpuMs(c0) / people.length, 1),
    perDeviceMs: summarize(devices.map((d) => d.enrollMs)),
    createKeyPackagesMs: summarize(devices.map((d) => d.keyPackageMs)),
    keyPackageBytes: devices[1].keyPackageBytes,
  };
  for (const k of ["perDeviceMs", "createKeyPackagesMs"]) {
    const v = out.setup.enroll[k];
    out.setup.enroll[k] = { p50: round(v.p50, 1), p90: round(v.p90, 1), max: round(v.max, 1) };
  }
  const health = await (await fetch(`${s.url}/api/v1/health`)).json();
  await sleep(500);
  out.setup.online = health.online;
  out.setup.serverRssKiBIdle = memKiB(s.pid).rss;
  out.setup.sqliteBefore = sqliteSizes();
  console.log(
    `  imported ${people.length} people in ${out.setup.importSeconds} s; enrolled + connected + KeyPackages uploaded at ${out.setup.enroll.perSecond}/s ` +
      `(${out.setup.enroll.seconds} s; bench CPU ${out.setup.enroll.benchCpuMsPerDevice} ms per device incl. 3 KeyPackages of ${out.setup.enroll.keyPackageBytes} B; ` +
      `wall p50 per device ${out.setup.enroll.perDeviceMs.p50} ms with ${CONCURRENCY} in flight); ` +
      `${health.online} online; server RSS ${round(out.setup.serverRssKiBIdle / 1024, 1)} MiB`,
  );

  const owner = devices[0];
  const members = devices.slice(1, N + 1);
  const late = devices[N + 1];
  const many = devices.slice(N + 2);
  const byAddress = new Map(devices.map((d) => [d.address, d]));
  const processorIdx = [...new Set(Array.from({ length: PROCESSORS }, (_, k) => (PROCESSORS === 1 ? 0 : Math.round((k * (N - 1)) / (PROCESSORS - 1)))))];
  const processors = processorIdx.map((i) => members[i]);
  const removeTarget = members.find((d, i) => !processorIdx.includes(i));
  out.setup.processors = processors.map((d) => d.label);

  // --- channel A: all members in one commit ---------------------------------------------------
  if (CREATE.has("all")) {
    const group = `g.${crockford(randomBytes(17), 26)}`;
    const ctx = { owner, members: [owner.address], byAddress };
    console.log(`\nchannel A (${group}): create with all ${N} members in one commit`);
    const create = await commitStep("create (all in one commit)", ctx, (claimed) => owner.engine.createGroup(group, DEFAULT_CIPHERSUITE, claimed, { kind: "channel", name: "Klasse" }), {
      processors,
      claim: members,
      create: true,
    });
    // Welcomes are acked as they arrive; a ping per socket returns after the acks' deletes are durable.
    await pool(devices, 100, (d) => request(d, { t: "ping" }));
    create.sqliteAfterAcks = sqliteSizes();
    create.mailboxAfterAcks = mailboxStats();
    create.serverRssKiBAfter = memKiB(s.pid);
    out.steps.push({ channel: "A", ...create });
    printCommitStep(create);
    console.log(
      `    after all acks: SQLite ${create.sqliteAfterAcks.totalMiB} MiB (WAL ${round(create.sqliteAfterAcks.walBytes / 2 ** 20, 1)} MiB), mailbox ${create.mailboxAfterAcks.rows} rows; ` +
        `server RSS ${round(create.serverRssKiBAfter.rss / 1024, 1)} MiB (peak so far ${round(create.serverRssKiBAfter.hwm / 1024, 1)} MiB)`,
    );

    // Processors of channel A: the first, middle and last member; then each person added joins them.
    const active = [...processors, late];
    const addOne = await commitStep("add 1", ctx, (claimed) => owner.engine.addMembers(group, claimed), { processors: active, claim: [late] });
    out.steps.push({ channel: "A", ...addOne });
    printCommitStep(addOne);

    const removeOne = await commitStep("remove 1", ctx, () => owner.engine.removeMembers(group, [removeTarget.user]), { processors: active });
    out.steps.push({ channel: "A", ...removeOne });
    printCommitStep(removeOne);

    const addMany = await commitStep(`add ${EXTRA_MANY} at once`, ctx, (claimed) => owner.engine.addMembers(group, claimed), {
      processors: [...active, many[0]],
      claim: many,
    });
    out.steps.push({ channel: "A", ...addMany });
    printCommitStep(addMany);

    // Posts: only the first processor decrypts (the others would only repeat the same work).
    for (const p of processors.slice(1)) p.processGroups.delete(group);
    late.processGroups.delete(group);
    many[0].processGroups.delete(group);
    console.log(`\n  ${POSTS} posts to ${ctx.members.length - 1} devices (one receiver decrypts: ${processors[0].label})`);
    const posts = [];
    for (let i = 0; i < POSTS; i++) {
      const p = await postStep(ctx, group, [processors[0]], i);
      posts.push(p);
      if (i < 3 || i === POSTS - 1) {
        console.log(
          `    post ${p.post}: encrypt ${p.encryptMs} ms, server ok ${p.serverOkMs} ms, last socket ${p.fanOut.lastMs} ms (p50 ${p.fanOut.p50Ms}), decrypt ${p.decryptMs} ms${p.decryptOk ? "" : " (DECRYPT FAILED)"}`,
        );
      }
    }
    const pick = (f) => {
      const v = summarize(posts.map(f));
      return { p50: round(v.p50, 1), max: round(v.max, 1), min: round(v.min, 1) };
    };
    const postSummary = {
      channel: "A",
      step: `post x${POSTS}`,
      receivers: ctx.members.length - 1,
      dataBytes: posts[0].dataBytes,
      encryptMs: pick((p) => p.encryptMs),
      serverOkMs: pick((p) => p.serverOkMs),
      fanOutLastMs: pick((p) => p.fanOut.lastMs),
      fanOutP50Ms: pick((p) => p.fanOut.p50Ms),
      encryptPlusFanOutMs: pick((p) => p.endToLastMs),
      decryptMs: pick((p) => p.decryptMs),
      serverCpuSecondsPerPost: pick((p) => p.serverCpuSeconds),
      otherProcessesCpuSeconds: round(posts.reduce((sum, p) => sum + p.otherProcessesCpuSeconds, 0), 2),
      allDecrypted: posts.every((p) => p.decryptOk),
      stateCodec: stateCodec(owner, group),
      posts,
    };
    out.steps.push(postSummary);
    console.log(
      `  posts (median / max): encrypt ${postSummary.encryptMs.p50} / ${postSummary.encryptMs.max} ms; server ok ${postSummary.serverOkMs.p50} / ${postSummary.serverOkMs.max} ms; ` +
        `last socket ${postSummary.fanOutLastMs.p50} / ${postSummary.fanOutLastMs.max} ms after send; encrypt+fan-out ${postSummary.encryptPlusFanOutMs.p50} / ${postSummary.encryptPlusFanOutMs.max} ms; ` +
        `decrypt ${postSummary.decryptMs.p50} / ${postSummary.decryptMs.max} ms; ${postSummary.allDecrypted ? "all decrypted" : "SOME POSTS NOT DECRYPTED"}; ` +
        `server CPU per post ${postSummary.serverCpuSecondsPerPost.p50} s; other processes ${postSummary.otherProcessesCpuSeconds} CPU s in all`,
    );
    for (const d of devices) d.processGroups.delete(group);
  }

  // --- channel B: created small, then BATCH at a time ------------------------------------------
  if (CREATE.has("batched")) {
    const remaining = BUDGET_S - elapsedS();
    // Conservative: per batch commit about 1 s plus 6 s per 1,000 members (build, fan-out, one processor).
    const estimate = Math.ceil(N / BATCH) * (1 + (N / 1000) * 6);
    if (remaining < estimate) {
      const note = `channel B (batched) skipped: ${round(remaining, 0)} s of the budget left, about ${round(estimate, 0)} s needed`;
      console.log(`\n${note}`);
      out.notes.push(note);
    } else {
      const group = `g.${crockford(randomBytes(17), 26)}`;
      const ctx = { owner, members: [owner.address], byAddress };
      const bProcessors = [members[0]]; // joins with the first batch, then processes every later commit
      console.log(`\nchannel B (${group}): create with ${Math.min(BATCH, N)} members, then add ${BATCH} at a time up to ${N}`);
      const batches = [];
      // Pushed now and completed below, so an abort (budget) still writes the batches done so far.
      const summaryB = { channel: "B", step: `create batched (${BATCH} per commit)`, complete: false, batches };
      out.steps.push(summaryB);
      for (let start = 0; start < N; start += BATCH) {
        const slice = members.slice(start, start + BATCH);
        const label = start === 0 ? `create with ${slice.length}` : `add ${slice.length} (${start} -> ${start + slice.length})`;
        const step =
          start === 0
            ? await commitStep(label, ctx, (claimed) => owner.engine.createGroup(group, DEFAULT_CIPHERSUITE, claimed, { kind: "channel", name: "Klasse B" }), { processors: bProcessors, claim: slice })
            : await commitStep(label, ctx, (claimed) => owner.engine.addMembers(group, claimed), { processors: bProcessors, claim: slice });
        batches.push(step);
        const proc = step.processing.find((p) => p.device === members[0].label);
        console.log(
          `  ${label.padEnd(22)} build ${String(step.buildMs).padStart(7)} ms  commit ${String(step.commitBytes).padStart(7)} B  Welcome ${String(step.welcomeBytes).padStart(7)} B  ` +
            `ok ${String(step.serverOkMs).padStart(7)} ms  last socket ${String(step.fanOut.lastMs).padStart(7)} ms  ${members[0].label} ${proc?.kind ?? "-"} ${proc?.ms ?? "-"} ms`,
        );
        if (elapsedS() > BUDGET_S - 20) {
          out.notes.push(`channel B stopped after ${ctx.members.length - 1} members: budget nearly used`);
          console.log("  (stopping channel B: budget nearly used)");
          break;
        }
      }
      const total = (f) => round(batches.reduce((sum, b) => sum + (f(b) ?? 0), 0), 1);
      Object.assign(summaryB, {
        complete: ctx.members.length - 1 === N,
        members: ctx.members.length - 1,
        commits: batches.length,
        totalClaimMs: total((b) => b.claimMs),
        totalBuildMs: total((b) => b.buildMs),
        totalClientCpuMs: total((b) => b.clientCpuMs),
        totalServerOkMs: total((b) => b.serverOkMs),
        totalFanOutLastMs: total((b) => b.fanOut.lastMs),
        totalCommitBytes: total((b) => b.commitBytes),
        totalWelcomeBytes: total((b) => b.welcomeBytes),
        totalMailboxPayloadBytes: total((b) => b.mailboxPayloadBytes),
        processorMs: total((b) => b.processing.find((p) => p.device === members[0].label)?.ms),
        last: batches.at(-1),
        batches,
      });
    }
  }

  // --- end: sizes, server memory, shutdown ----------------------------------------------------------
  out.end = { loadAverage: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number), serverMemKiB: memKiB(s.pid), sqlite: sqliteSizes(), mailbox: mailboxStats(), unexpectedFrames, unexpectedCloses, serverStderrLines: s.stderrLines };
  clearTimeout(watchdog);
  for (const d of devices) d.closing = true;
  for (const d of devices) d.ws.terminate();
  await s.stop();
  if (s.profileDir) {
    const windows = out.steps.flatMap((st) =>
      st.posts ? [{ label: st.step, window: [st.posts[0].profileWindow[0], st.posts.at(-1).profileWindow[1]] }] : st.batches ? [] : [{ label: `${st.channel} ${st.step}`, window: st.profileWindow }],
    );
    out.serverProfile = profileSummary(s.profileDir, windows);
    if (out.serverProfile) {
      console.log("\nserver CPU profile: hottest functions (self time) per step");
      for (const [label, p] of Object.entries(out.serverProfile)) {
        console.log(`  ${label} (window ${p.windowMs} ms, sampled ${p.sampledMs} ms)`);
        for (const { fn, ms } of p.top.slice(0, 8)) console.log(`    ${String(ms).padStart(8)} ms  ${fn}`);
      }
    }
  }

  // --- summary ----------------------------------------------------------------------------------
  console.log(`\nchannel summary (N=${N} members + owner)`);
  const rows = out.steps
    .filter((st) => st.fanOut)
    .map((st) => [
      st.channel,
      st.step,
      st.members,
      st.claimMs ?? null,
      st.buildMs,
      st.commitAcceptedMs,
      st.commitBytes,
      st.welcomeBytes,
      st.serverOkMs,
      st.fanOut.lastMs,
      st.processing.filter((p) => p.kind === "welcome")[0]?.ms ?? null,
      st.processing.filter((p) => p.kind === "commit")[0]?.ms ?? null,
    ]);
  console.log(table(["ch", "step", "devices", "claim ms", "build ms", "accepted ms", "commit B", "Welcome B", "ok ms", "last socket ms", "join ms", "process commit ms"], rows));
  const post = out.steps.find((st) => st.posts);
  if (post) {
    console.log(
      `\n${table(
        ["posts", "receivers", "encrypt ms", "server ok ms", "last socket ms", "encrypt+last ms", "decrypt ms"],
        [
          ["median", post.receivers, post.encryptMs.p50, post.serverOkMs.p50, post.fanOutLastMs.p50, post.encryptPlusFanOutMs.p50, post.decryptMs.p50],
          ["max", post.receivers, post.encryptMs.max, post.serverOkMs.max, post.fanOutLastMs.max, post.encryptPlusFanOutMs.max, post.decryptMs.max],
        ],
      )}`,
    );
  }
  const b = out.steps.find((st) => st.batches);
  if (b) {
    console.log(
      `\nchannel B: ${b.members} members in ${b.commits} commits: claims ${b.totalClaimMs} ms, build ${b.totalBuildMs} ms (client CPU ${b.totalClientCpuMs} ms), ` +
        `server ok ${b.totalServerOkMs} ms, commit bytes ${b.totalCommitBytes}, Welcome bytes ${b.totalWelcomeBytes}; ${members[0].label} processed its commits in ${b.processorMs} ms`,
    );
  }
  console.log(
    `\nserver at the end: RSS ${round(out.end.serverMemKiB.rss / 1024, 1)} MiB (peak ${round(out.end.serverMemKiB.hwm / 1024, 1)} MiB); ` +
      `SQLite ${out.end.sqlite.totalMiB} MiB (main ${round(out.end.sqlite.mainBytes / 2 ** 20, 1)} + WAL ${round(out.end.sqlite.walBytes / 2 ** 20, 1)}); ` +
      `mailbox ${out.end.mailbox.rows} rows; unexpected frames ${unexpectedFrames}, unexpected closes ${unexpectedCloses}`,
  );
  console.log(
    `Ed25519 verify: noble ${out.diagnostics.ed25519.nobleVerifyMicros} µs vs node:crypto ${out.diagnostics.ed25519.nodeCryptoVerifyMicros} µs`,
  );
  console.log(`load average at start ${out.loadAverageStart.join(" ")}, at the end ${out.end.loadAverage.join(" ")} (2 cores; > 2 means other work competed)`);
  console.log(`total ${round(elapsedS(), 1)} s`);
  await finish(0);
}

main().catch((error) => {
  console.error("channel bench failed:", error);
  finish(1, String(error?.stack ?? error));
});
