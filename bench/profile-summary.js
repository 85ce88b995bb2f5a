#!/usr/bin/env node
// Summarizes the server CPU profiles written by `node bench/relay.js --profile`: for every
// measured mode, where the server's main thread spent its time during the measured window only
// (self time per function and per category). Profiles and windows share CLOCK_MONOTONIC.
//   node bench/profile-summary.js [bench/results/relay-<timestamp>.json] [--top 25]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs, RESULTS_DIR, table } from "./lib.js";

const argv = process.argv.slice(2);
const positional = argv.filter((a, i) => !a.startsWith("--") && !(i > 0 && argv[i - 1] === "--top"));
const flags = parseArgs(argv.filter((a) => !positional.includes(a)));
const top = Number(flags.top ?? 25);
const resultFile =
  positional[0] ??
  join(
    RESULTS_DIR,
    readdirSync(RESULTS_DIR)
      .filter((f) => /^relay-\d.*\.json$/.test(f))
      .sort()
      .at(-1) ?? "",
  );
const result = JSON.parse(readFileSync(resultFile, "utf8"));

const CATEGORIES = [
  ["idle (waiting for I/O)", (u, f) => f === "(idle)"],
  ["GC", (u, f) => f === "(garbage collector)"],
  ["SQLite (incl. fsync wait)", (u) => u.includes("better-sqlite3") || u.includes("mailbox/") || u.includes("storage/")],
  ["socket writes", (u, f) => f === "writev" || f === "writeBuffer" || f === "writeUtf8String" || u.includes("streams/writable") || u.includes("stream_base_commons") || u.includes("ws/lib/sender")],
  ["ws frame parsing", (u) => u.includes("ws/lib/receiver") || u.includes("ws/lib/buffer-util")],
  ["frame validation (TypeBox)", (u, f) => u.includes("@sinclair/typebox") || u.includes("protocol/dist/frames") || f.startsWith("RegExp:")],
  ["ed25519 (noble)", (u) => u.includes("@noble/")],
  ["momedo server code", (u) => u.includes("packages/server/dist")],
  ["momedo protocol code", (u) => u.includes("packages/protocol/dist")],
  ["node internals / other", () => true],
];

function shortUrl(url) {
  return url.replace(/^.*node_modules\//, "").replace(/^.*\/packages\//, "packages/").replace(/^file:\/\//, "");
}

function analyse(profile, [from, to]) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const categories = new Map(CATEGORIES.map(([name]) => [name, 0]));
  let t = profile.startTime;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    t += delta;
    if (t < from || t > to) continue;
    total += delta;
    const frame = nodes.get(profile.samples[i]).callFrame;
    const url = frame.url ?? "";
    const name = frame.functionName || "(anonymous)";
    const key = `${name}  ${url ? `${shortUrl(url)}:${frame.lineNumber + 1}` : ""}`;
    self.set(key, (self.get(key) ?? 0) + delta);
    const [category] = CATEGORIES.find(([, test]) => test(url, name));
    categories.set(category, categories.get(category) + delta);
  }
  return { total, self, categories };
}

for (const r of result.results) {
  if (!r.serverProfileDir) {
    console.log(`N=${r.devices}: no profile (run relay.js with --profile)`);
    continue;
  }
  const files = readdirSync(r.serverProfileDir).filter((f) => f.endsWith(".cpuprofile"));
  if (files.length === 0) {
    console.log(`N=${r.devices}: no .cpuprofile in ${r.serverProfileDir}`);
    continue;
  }
  const profile = JSON.parse(readFileSync(join(r.serverProfileDir, files[0]), "utf8"));
  const login = r.phases?.login;
  const windows = [
    ...(login?.windowMonotonicMicros
      ? [{ mode: "login phase", unit: "login", units: r.devices, rate: `${login.loginsPerSecond} logins/s`, window: login.windowMonotonicMicros }]
      : []),
    ...r.modes.map((m) => ({ mode: m.mode, unit: "msg", units: m.deliveredInWindow, rate: `${m.deliveredPerSecond} msgs/s`, window: m.windowMonotonicMicros })),
  ];
  for (const m of windows) {
    if (!m.window) continue;
    const { total, self, categories } = analyse(profile, m.window);
    if (total === 0) {
      console.log(`N=${r.devices} ${m.mode}: the window lies outside the profile`);
      continue;
    }
    const perMsg = (us) => (m.units ? (us / m.units).toFixed(1) : "-");
    console.log(`\nN=${r.devices}, ${m.mode}: ${m.rate}, ${(total / 1e6).toFixed(2)} s of server main-thread wall time sampled`);
    console.log(
      table(
        ["category", "% of wall", `µs/${m.unit}`],
        [...categories].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, Number(((v / total) * 100).toFixed(1)), Number(perMsg(v))]),
      ),
    );
    console.log(
      table(
        ["function (self time)", "% of wall", `µs/${m.unit}`],
        [...self].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, v]) => [k, Number(((v / total) * 100).toFixed(1)), Number(perMsg(v))]),
      ),
    );
  }
}
