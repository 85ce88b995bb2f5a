#!/usr/bin/env node
// Client crypto benchmark with the real engine (@momedo/core, ts-mls) and in-memory stores:
// encryptText / receive of a 200-byte text in a 1:1 group, KeyPackage generation, creating a
// 1:1 group with two peer devices, and the wire sizes of the MLS messages involved.
// Run: node bench/crypto.js [--iterations 300] [--warmup 30] [--suite NAME|all] [--quick]
import { ed25519 } from "@noble/curves/ed25519.js";
import { Engine, MemoryStore, systemEnv, DEFAULT_CIPHERSUITE, SUPPORTED_CIPHERSUITES } from "@momedo/core";
import { encodeCredentialIdentity, fromBase64, signCredential, toBase64 } from "@momedo/protocol";
import { machineInfo, parseArgs, positiveNumber, round, summarize, table, writeResult } from "./lib.js";

const args = parseArgs(process.argv.slice(2), { booleans: ["quick"], known: ["quick", "iterations", "warmup", "suite"] });
const quick = args.quick === true;
const iterations = Math.floor(positiveNumber("iterations", args.iterations ?? (quick ? 30 : 300)));
const warmup = Math.floor(positiveNumber("warmup", args.warmup ?? (quick ? 5 : 30)));
const suites = args.suite === "all" ? [...SUPPORTED_CIPHERSUITES] : [args.suite ?? DEFAULT_CIPHERSUITE];

const org = ed25519.keygen();
let nextId = 0;
// Short IDs are 8 Crockford base32 characters; the engine does not care what they are.
const shortId = (prefix) => (prefix + String(nextId++).padStart(7, "0")).slice(0, 8);

async function enroll(suite, user) {
  const store = new MemoryStore();
  const device = shortId("D");
  const keys = await Engine.newSignatureKeys(suite);
  const credential = signCredential(org.secretKey, user, device, keys.publicKey);
  const engine = await Engine.enroll(store, systemEnv, keys, {
    user,
    device,
    name: user,
    organization: "Bench",
    credential: toBase64(encodeCredentialIdentity(credential)),
    orgKey: toBase64(org.publicKey),
    ciphersuite: suite,
  });
  return { engine, store };
}

async function time(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Sizes vary a little (GREASE values in capabilities, varint lengths): keep min, median, max. */
function sizes(values) {
  const s = summarize(values);
  return { min: s.min, p50: s.p50, max: s.max, n: s.count };
}

function ms(values) {
  const s = summarize(values);
  return { n: s.count, p50: round(s.p50, 3), p90: round(s.p90, 3), p99: round(s.p99, 3), mean: round(s.mean, 3), max: round(s.max, 3) };
}

let seq = 0;
const deliver = (group, kind, from, data) => ({ t: "msg", seq: ++seq, group, kind, from, data, at: Date.now() });

async function benchSuite(suite) {
  const text = "x".repeat(200);
  const alice = await enroll(suite, "A0000000");
  const bob = await enroll(suite, "B0000000");
  const bob2 = await enroll(suite, "B0000000");
  const result = { suite, iterations, warmup, ms: {}, bytes: {} };

  // KeyPackage generation, one package per call (the first call also makes the last-resort one).
  const kpTimes = [];
  for (let i = 0; i < warmup + iterations; i++) {
    const t = await time(() => bob.engine.createKeyPackages(1));
    if (i >= warmup) kpTimes.push(t);
  }
  result.ms.keyPackage = ms(kpTimes);

  // Fresh KeyPackages for every group creation below, so no package is used twice.
  const total = warmup + iterations;
  const bobKps = (await bob.engine.createKeyPackages(total + 1)).keyPackages;
  const bob2Kps = (await bob2.engine.createKeyPackages(total)).keyPackages;
  result.bytes.keyPackageMessage = sizes([...bobKps, ...bob2Kps].map((k) => fromBase64(k).length));

  // 1:1 group with both of Bob's devices (commit + Welcome for two new members).
  const createTimes = [];
  const group = alice.engine.directChat("B0000000");
  const commit2 = [];
  const welcome2 = [];
  for (let i = 0; i < total; i++) {
    const peers = [
      { device: bob.engine.device, keyPackage: bobKps[i + 1] },
      { device: bob2.engine.device, keyPackage: bob2Kps[i] },
    ];
    let pending;
    const t = await time(async () => {
      pending = await alice.engine.createDirectChat("B0000000", peers, []);
    });
    alice.engine.commitRejected(group);
    if (i >= warmup) createTimes.push(t);
    commit2.push(fromBase64(pending.commit).length);
    welcome2.push(fromBase64(pending.welcome).length);
  }
  result.ms.createDirectChat2Devices = ms(createTimes);

  // The group used for messages: Alice and one device of Bob (a plain 1:1 chat). One sample of
  // the one-device commit/Welcome sizes comes from it; more come from throw-away groups.
  const commit1 = [];
  const welcome1 = [];
  for (let i = 0; i < 30; i++) {
    const extra = await alice.engine.createDirectChat("B0000000", [{ device: bob2.engine.device, keyPackage: bob2Kps[i] }], []);
    alice.engine.commitRejected(group);
    commit1.push(fromBase64(extra.commit).length);
    welcome1.push(fromBase64(extra.welcome).length);
  }
  const pending = await alice.engine.createDirectChat("B0000000", [{ device: bob.engine.device, keyPackage: bobKps[0] }], []);
  await alice.engine.commitAccepted(group);
  result.bytes.commit1Device = sizes([...commit1, fromBase64(pending.commit).length]);
  result.bytes.welcome1Device = sizes([...welcome1, fromBase64(pending.welcome).length]);
  result.bytes.commit2Devices = sizes(commit2);
  result.bytes.welcome2Devices = sizes(welcome2);
  const events = await bob.engine.receive(deliver(group, "welcome", alice.engine.address, pending.welcome));
  if (events[0]?.type !== "joined") throw new Error(`welcome not processed: ${JSON.stringify(events)}`);

  // Joining from a Welcome (receive of kind "welcome"), on a third person's device: each round
  // Alice makes a fresh 1:1 group for Carol from a fresh KeyPackage. After the first join Carol
  // already holds the group, so later rounds do the full MLS join but skip storing the state.
  const carol = await enroll(suite, "C0000000");
  const joins = Math.min(iterations, 100);
  const joinWarmup = Math.min(warmup, 5);
  const carolKps = (await carol.engine.createKeyPackages(joins + joinWarmup)).keyPackages;
  const carolGroup = alice.engine.directChat("C0000000");
  const joinTimes = [];
  for (let i = 0; i < joins + joinWarmup; i++) {
    const chat = await alice.engine.createDirectChat("C0000000", [{ device: carol.engine.device, keyPackage: carolKps[i] }], []);
    alice.engine.commitRejected(carolGroup);
    const frame = deliver(carolGroup, "welcome", alice.engine.address, chat.welcome);
    let joined;
    const t = await time(async () => {
      joined = await carol.engine.receive(frame);
    });
    if (joined.some((e) => e.type === "undecryptable")) throw new Error(`welcome ${i} not processed: ${JSON.stringify(joined)}`);
    if (i >= joinWarmup) joinTimes.push(t);
  }
  result.ms.joinFromWelcome = ms(joinTimes);

  // encryptText, then receive of the very messages produced, in order.
  const encTimes = [];
  const outgoing = [];
  for (let i = 0; i < total; i++) {
    let out;
    const t = await time(async () => {
      out = await alice.engine.encryptText(group, text);
    });
    outgoing.push(out);
    if (i >= warmup) encTimes.push(t);
  }
  result.ms.encryptText200 = ms(encTimes);
  result.bytes.appMessage200 = sizes(outgoing.map((o) => fromBase64(o.data).length));
  result.bytes.appMessage200Base64 = sizes(outgoing.map((o) => o.data.length));

  const recvTimes = [];
  for (let i = 0; i < total; i++) {
    const frame = deliver(group, "app", alice.engine.address, outgoing[i].data);
    let events;
    const t = await time(async () => {
      events = await bob.engine.receive(frame);
    });
    if (events[0]?.type !== "message" || events[0].message.text !== text) {
      throw new Error(`message ${i} not decrypted: ${JSON.stringify(events).slice(0, 200)}`);
    }
    if (i >= warmup) recvTimes.push(t);
  }
  result.ms.receive200 = ms(recvTimes);
  return result;
}

async function main() {
  const started = new Date();
  const results = [];
  for (const suite of suites) {
    console.log(`crypto: ${suite}, ${iterations} iterations after ${warmup} warm-up …`);
    results.push(await benchSuite(suite));
  }
  for (const r of results) {
    console.log(`\n${r.suite} (ms, one operation)`);
    const rows = [
      ["encryptText (200 B text)", r.ms.encryptText200],
      ["receive / decrypt (200 B text)", r.ms.receive200],
      ["KeyPackage generation (per package)", r.ms.keyPackage],
      ["createDirectChat (2 peer devices)", r.ms.createDirectChat2Devices],
      ["join from a Welcome (1:1 group)", r.ms.joinFromWelcome],
    ];
    console.log(table(["operation", "p50", "p90", "p99", "mean", "n"], rows.map(([name, s]) => [name, s.p50, s.p90, s.p99, s.mean, s.n])));
    console.log(`\nsizes (bytes, MLSMessage encoding; frames carry them as base64, +33 %)`);
    const sizeRows = [
      ["KeyPackage message", r.bytes.keyPackageMessage],
      ["commit (1 peer device added)", r.bytes.commit1Device],
      ["Welcome (1 peer device added)", r.bytes.welcome1Device],
      ["commit (2 peer devices added)", r.bytes.commit2Devices],
      ["Welcome (2 peer devices added)", r.bytes.welcome2Devices],
      ["application message (200 B text)", r.bytes.appMessage200],
    ];
    console.log(table(["message", "median", "min", "max", "n"], sizeRows.map(([name, s]) => [name, s.p50, s.min, s.max, s.n])));
  }
  const file = writeResult("crypto", { bench: "crypto", started: started.toISOString(), machine: machineInfo(), results });
  console.log(`\nwrote ${file}`);
  return results;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
