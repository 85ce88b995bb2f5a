#!/usr/bin/env node
// Encrypted files on loopback: upload (`momedo send-file`) and download (`momedo receive --out`)
// of 1 MB and 50 MB files between two enrolled CLI profiles, with the peak memory of the server
// (VmHWM growth) and of each CLI process (its VmHWM). Throughput is net of a command's fixed
// cost (start, sign-in, mailbox catch-up), measured with a 1-byte file just before.
//   node bench/files.js [--sizes 1,50] [--runs 3]
import { execFileSync, spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupOnExit, machineInfo, memKiB, parseArgs, positiveNumber, REPO_DIR, round, startServer, table, writeResult } from "./lib.js";

const args = parseArgs(process.argv.slice(2), { lists: ["sizes"], known: ["sizes", "runs"] });
const sizes = (args.sizes ?? ["1", "50"]).map((s) => positiveNumber("--sizes", s));
const runs = positiveNumber("--runs", args.runs ?? "3");
const SERVER = join(REPO_DIR, "packages/server/bin/momedo-server.js");
const CLI = join(REPO_DIR, "packages/cli/bin/momedo.js");
const MB = 1024 * 1024;

const work = mkdtempSync(join(tmpdir(), "momedo-bench-files-"));
let server;
cleanupOnExit({ name: "files", kill: () => server?.kill(), remove: () => rmSync(work, { recursive: true, force: true }) });

/** Runs the CLI; resolves with wall time, its JSON lines and its peak memory (KiB). */
function cli(profile, ...argv) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, ...argv, "--profile", profile, "--json"], {
      env: { ...process.env, MOMEDO_REPORT_MAX_RSS: "1" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`momedo ${argv.join(" ")}: ${stdout}${stderr}`));
      const lines = stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      const peak = stderr.split("\n").find((l) => l.startsWith('{"maxRssKiB"'));
      resolve({ seconds, lines, maxRssKiB: JSON.parse(peak).maxRssKiB });
    });
  });
}

function writeRandomFile(path, bytes) {
  const fd = openSync(path, "w");
  for (let left = bytes; left > 0; left -= MB) writeSync(fd, randomBytes(Math.min(MB, left)));
  closeSync(fd);
}

async function main() {
  const data = join(work, "data");
  server = await startServer({ main: SERVER, dataDir: data, name: "files", extraArgs: ["--file-quota-user-mb", String(Math.max(...sizes) * 4)] });
  const people = ["Amt", "Bürger"].map((name) => JSON.parse(execFileSync(process.execPath, [SERVER, "admin", "add-user", "--name", name, "--data", data, "--json"], { encoding: "utf8" })));
  const [a, b] = [join(work, "a"), join(work, "b")];
  await cli(a, "enroll", people[0].invite);
  await cli(b, "enroll", people[1].invite);
  await cli(a, "send", people[1].id, "Hallo");
  await cli(b, "receive");
  const tiny = join(work, "tiny.bin");
  writeFileSync(tiny, "x");

  const rows = [];
  for (const mb of sizes) {
    const file = join(work, `file-${mb}.bin`);
    writeRandomFile(file, mb * MB);
    for (let run = 1; run <= runs; run++) {
      const out = mkdtempSync(join(work, "out-"));
      const baseUp = await cli(a, "send-file", people[1].id, tiny);
      const baseDown = await cli(b, "receive", "--out", out);
      const serverBefore = memKiB(server.pid).hwm;
      const up = await cli(a, "send-file", people[1].id, file);
      const down = await cli(b, "receive", "--out", out);
      const saved = down.lines.find((l) => l.saved && l.text === `file-${mb}.bin`);
      if (!saved) throw new Error(`file not saved: ${JSON.stringify(down.lines)}`);
      const row = {
        mb,
        run,
        uploadSeconds: round(up.seconds, 3),
        uploadMBps: round(mb / Math.max(0.001, up.seconds - baseUp.seconds), 1),
        downloadSeconds: round(down.seconds, 3),
        downloadMBps: round(mb / Math.max(0.001, down.seconds - baseDown.seconds), 1),
        commandOverheadSeconds: round((baseUp.seconds + baseDown.seconds) / 2, 3),
        senderPeakMiB: round(up.maxRssKiB / 1024, 1),
        senderBaselineMiB: round(baseUp.maxRssKiB / 1024, 1),
        receiverPeakMiB: round(down.maxRssKiB / 1024, 1),
        receiverBaselineMiB: round(baseDown.maxRssKiB / 1024, 1),
        serverPeakGrowthMiB: round((memKiB(server.pid).hwm - serverBefore) / 1024, 1),
        serverPeakMiB: round(memKiB(server.pid).hwm / 1024, 1),
      };
      rows.push(row);
      rmSync(out, { recursive: true, force: true });
    }
  }
  await server.stop();

  console.log(
    table(
      ["MB", "run", "up s", "up MB/s", "down s", "down MB/s", "sender MiB", "receiver MiB", "server peak MiB (+growth)"],
      rows.map((r) => [r.mb, r.run, r.uploadSeconds, r.uploadMBps, r.downloadSeconds, r.downloadMBps, `${r.senderPeakMiB} (tiny ${r.senderBaselineMiB})`, `${r.receiverPeakMiB} (tiny ${r.receiverBaselineMiB})`, `${r.serverPeakMiB} (+${r.serverPeakGrowthMiB})`]),
    ),
  );
  const median = (values) => [...values].sort((x, y) => x - y)[Math.floor((values.length - 1) / 2)];
  const summary = sizes.map((mb) => {
    const of = rows.filter((r) => r.mb === mb);
    return {
      mb,
      uploadSeconds: median(of.map((r) => r.uploadSeconds)),
      uploadMBps: median(of.map((r) => r.uploadMBps)),
      downloadSeconds: median(of.map((r) => r.downloadSeconds)),
      downloadMBps: median(of.map((r) => r.downloadMBps)),
      senderPeakMiB: Math.max(...of.map((r) => r.senderPeakMiB)),
      receiverPeakMiB: Math.max(...of.map((r) => r.receiverPeakMiB)),
      serverPeakMiB: Math.max(...of.map((r) => r.serverPeakMiB)),
    };
  });
  console.log(`\nmedians of ${runs} run(s); peaks are the highest seen (a 1-byte file: sender ${median(rows.map((r) => r.senderBaselineMiB))} MiB, receiver ${median(rows.map((r) => r.receiverBaselineMiB))} MiB):`);
  console.log(
    table(
      ["MB", "up s", "up MB/s net", "down s", "down MB/s net", "sender peak MiB", "receiver peak MiB", "server peak MiB"],
      summary.map((r) => [r.mb, r.uploadSeconds, r.uploadMBps, r.downloadSeconds, r.downloadMBps, r.senderPeakMiB, r.receiverPeakMiB, r.serverPeakMiB]),
    ),
  );
  const file = writeResult("files", { date: new Date().toISOString(), machine: machineInfo(), sizes, runs, summary, results: rows });
  console.log(`\nwritten: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
