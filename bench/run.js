#!/usr/bin/env node
// `npm run bench`: the client crypto benchmark, the relay benchmark with its defaults
// (N=200 and N=2000), the 1,000-member channel, the file transfers, bot cards and bridge webhooks, one after the other in
// child processes, then one summary table.
// Arguments are passed on to relay.js (and --quick also to crypto.js): npm run bench -- --quick
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BENCH_DIR, RESULTS_DIR, table, writeResult } from "./lib.js";

const passed = process.argv.slice(2);
let current;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    // The child handles the signal itself (it stops its server); make sure it gets it.
    if (current && current.exitCode === null) current.kill(signal);
    process.exitCode = 130;
  });
}

function runScript(name, args) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    current = spawn(process.execPath, [join(BENCH_DIR, `${name}.js`), ...args], { stdio: "inherit" });
    current.once("error", reject);
    current.once("exit", (code, signal) => {
      current = undefined;
      if (code !== 0) return reject(new Error(`${name}.js ended with ${signal ?? `exit code ${code}`}`));
      resolve(newestResult(name, started));
    });
  });
}

/** The result file a script wrote: the newest bench/results/<name>-*.json since `since`. */
function newestResult(name, since) {
  const files = readdirSync(RESULTS_DIR)
    .filter((f) => f.startsWith(`${name}-`) && f.endsWith(".json"))
    .map((f) => join(RESULTS_DIR, f))
    .filter((f) => statSync(f).mtimeMs >= since - 1000)
    .sort();
  if (files.length === 0) throw new Error(`${name}.js wrote no result file`);
  return { file: files.at(-1), data: JSON.parse(readFileSync(files.at(-1), "utf8")) };
}

async function main() {
  console.log("== crypto (client engine) ==");
  const crypto = await runScript("crypto", passed.includes("--quick") ? ["--quick"] : []);
  if (process.exitCode === 130) return;
  console.log("\n== relay (one server, loopback) ==");
  const relay = await runScript("relay", passed);
  if (process.exitCode === 130) return;
  console.log("\n== channel (1,000 members) ==");
  const channel = await runScript("channel", passed.includes("--quick") ? ["--quick"] : []);
  if (process.exitCode === 130) return;
  console.log("\n== files (1 MB and 50 MB, loopback) ==");
  const files = await runScript("files", passed.includes("--quick") ? ["--runs", "1"] : []);
  if (process.exitCode === 130) return;
  console.log("\n== bot cards (one bot, one member) ==");
  const cards = await runScript("cards", passed.includes("--quick") ? ["--cards", "100", "--round-trips", "50"] : []);
  if (process.exitCode === 130) return;
  console.log("\n== bridge webhooks (message to receiver) ==");
  const bridge = await runScript("bridge", passed.includes("--quick") ? ["--messages", "20"] : []);

  console.log("\n================ summary ================");
  for (const r of crypto.data.results) {
    console.log(`client crypto, ${r.suite} (ms, p50 / p90):`);
    console.log(
      table(
        ["operation", "p50 ms", "p90 ms"],
        [
          ["encryptText 200 B", r.ms.encryptText200.p50, r.ms.encryptText200.p90],
          ["receive 200 B", r.ms.receive200.p50, r.ms.receive200.p90],
          ["KeyPackage generation", r.ms.keyPackage.p50, r.ms.keyPackage.p90],
          ["createDirectChat, 2 devices", r.ms.createDirectChat2Devices.p50, r.ms.createDirectChat2Devices.p90],
        ],
      ),
    );
    const b = r.bytes;
    console.log(
      `sizes (median bytes): KeyPackage ${b.keyPackageMessage.p50}, commit ${b.commit1Device.p50} (2 devices: ${b.commit2Devices.p50}), ` +
        `Welcome ${b.welcome1Device.p50} (2 devices: ${b.welcome2Devices.p50}), app message for 200 B text ${b.appMessage200.p50}`,
    );
  }
  console.log("\nrelay:");
  const rows = [];
  for (const r of relay.data.results) {
    for (const m of r.modes) {
      rows.push([r.devices, m.otherProcessesCpuUtilisation > 0.25 ? `${m.mode} *` : m.mode, m.deliveredPerSecond, m.latencyMs.p50, m.latencyMs.p99, m.latencyMs.max, m.serverCpuMicrosPerMessage, m.otherProcessesCpuUtilisation]);
    }
  }
  console.log(table(["N", "mode", "msgs/s", "p50 ms", "p99 ms", "max ms", "srv µs/msg", "other CPU"], rows));
  if (rows.some((r) => String(r[1]).endsWith("*"))) console.log("* other processes used more than 0.25 cores during that window: figures disturbed, run again");
  console.log(
    table(
      ["N", "logins/s", "KiB/idle conn", "RSS after KiB", "mailbox left"],
      relay.data.results.map((r) => [r.devices, r.phases.login.loginsPerSecond, r.serverRssKiB.perIdleConnection, r.serverRssKiB.afterRun, r.mailboxLeftovers]),
    ),
  );
  console.log("\nfiles (medians):");
  console.log(
    table(
      ["MB", "up MB/s net", "down MB/s net", "sender peak MiB", "receiver peak MiB", "server peak MiB"],
      files.data.summary.map((r) => [r.mb, r.uploadMBps, r.downloadMBps, r.senderPeakMiB, r.receiverPeakMiB, r.serverPeakMiB]),
    ),
  );
  console.log("\nbots:");
  console.log(
    table(
      ["measure", "per second", "p50 ms", "p99 ms"],
      [
        ["cards posted by one bot", cards.data.posting.cardsPerSecond, cards.data.posting.ms.p50, cards.data.posting.ms.p99],
        ["card -> action -> outcome", cards.data.roundTrips.perSecond, cards.data.roundTrips.ms.p50, cards.data.roundTrips.ms.p99],
      ],
    ),
  );
  console.log(`webhook latency, message to receiver: median ${bridge.data.latencyMs.median} ms, p95 ${bridge.data.latencyMs.p95} ms`);
  const file = writeResult("summary", { crypto: crypto.file, relay: relay.file, channel: channel.file, files: files.file, cards: cards.file, bridge: bridge.file });
  console.log(`\nresults: ${crypto.file}\n         ${relay.file}\n         ${channel.file} (channel: see its own table above)\n         ${files.file}\n         ${cards.file}\n         ${bridge.file}\n         ${file}`);
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exitCode = 1;
});
