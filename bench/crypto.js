#!/usr/bin/env node
// Client crypto benchmark with the real engine (@momedo/core, ts-mls) and in-memory stores:
// encryptText / receive of a 200-byte text in a 1:1 group, KeyPackage generation, creating a
// 1:1 group with two peer devices, and the wire sizes of the MLS messages involved.
// Run: node bench/crypto.js [--iterations 300] [--warmup 30] [--suite NAME|all]
import { ed25519 } from "@noble/curves/ed25519.js";
import { Engine, MemoryStore, systemEnv, DEFAULT_CIPHERSUITE, SUPPORTED_CIPHERSUITES } from "@momedo/core";
import { encodeCredentialIdentity, fromBase64, signCredential, toBase64 } from "@momedo/protocol";
import { machineInfo, parseArgs, positiveNumber, round, summarize, table, writeResult } from "./lib.js";

const args = parseArgs(process.argv.slice(2), { booleans: ["quick"] });
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
  result.bytes.keyPackageMessage = fromBase64(bobKps[0]).length;

  // 1:1 group with both of Bob's devices (commit + Welcome for two new members).
  const createTimes = [];
  const group = alice.engine.directChat("B0000000");
  let twoDeviceSizes;
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
    twoDeviceSizes = { commit: fromBase64(pending.commit).length, welcome: fromBase64(pending.welcome).length };
  }
  result.ms.createDirectChat2Devices = ms(createTimes);

  // The group used for messages: Alice and one device of Bob (a plain 1:1 chat).
  const pending = await alice.engine.createDirectChat("B0000000", [{ device: bob.engine.device, keyPackage: bobKps[0] }], []);
  await alice.engine.commitAccepted(group);
  result.bytes.commit1Device = fromBase64(pending.commit).length;
  result.bytes.welcome1Device = fromBase64(pending.welcome).length;
  result.bytes.commit2Devices = twoDeviceSizes.commit;
  result.bytes.welcome2Devices = twoDeviceSizes.welcome;
  const joinTime = await time(async () => {
    const events = await bob.engine.receive(deliver(group, "welcome", alice.engine.address, pending.welcome));
    if (events[0]?.type !== "joined") throw new Error(`welcome not processed: ${JSON.stringify(events)}`);
  });
  result.ms.joinFromWelcomeOnce = round(joinTime, 3);

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
  result.bytes.appMessage200 = fromBase64(outgoing[0].data).length;
  result.bytes.appMessage200Base64 = outgoing[0].data.length;

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
    ];
    console.log(table(["operation", "p50", "p90", "p99", "mean", "n"], rows.map(([name, s]) => [name, s.p50, s.p90, s.p99, s.mean, s.n])));
    console.log(`join from Welcome (single sample): ${r.ms.joinFromWelcomeOnce} ms`);
    console.log(`\nsizes (bytes, MLSMessage encoding; frames carry them as base64, +33 %)`);
    console.log(
      table(
        ["message", "bytes"],
        [
          ["KeyPackage message", r.bytes.keyPackageMessage],
          ["commit (1 peer device added)", r.bytes.commit1Device],
          ["Welcome (1 peer device added)", r.bytes.welcome1Device],
          ["commit (2 peer devices added)", r.bytes.commit2Devices],
          ["Welcome (2 peer devices added)", r.bytes.welcome2Devices],
          ["application message (200 B text)", r.bytes.appMessage200],
        ],
      ),
    );
  }
  const file = writeResult("crypto", { bench: "crypto", started: started.toISOString(), machine: machineInfo(), results });
  console.log(`\nwrote ${file}`);
  return results;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
