// Shared helpers for the hand-run benchmarks in bench/: argument parsing, percentiles,
// result files (bench/results/<name>-<timestamp>.json), plain-text tables, and (for relay.js and
// channel.js) the server child process, /proc readings, CPU pinning and cleanup on exit.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = dirname(BENCH_DIR);
export const RESULTS_DIR = join(BENCH_DIR, "results");

/** Prints a usage error and exits (before anything was started). */
export function usage(message) {
  console.error(`usage: ${message}`);
  process.exit(2);
}

/**
 * Parses `--flag value`, `--flag=value` and bare `--flag` (true). Repeated flags and comma lists
 * accumulate into arrays for the names listed in `lists`.
 */
export function parseArgs(argv, { lists = [], booleans = [], known } = {}) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) usage(`unexpected argument ${arg}`);
    let name = arg.slice(2);
    let value;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else if (booleans.includes(name)) {
      value = true;
    } else {
      value = argv[++i];
      if (value === undefined) usage(`--${name} needs a value`);
    }
    if (known && !known.includes(name)) usage(`unknown flag --${name} (known: ${known.map((k) => `--${k}`).join(" ")})`);
    if (lists.includes(name)) {
      out[name] = [...(out[name] ?? []), ...String(value).split(",").filter(Boolean)];
    } else out[name] = value;
  }
  return out;
}

export function positiveNumber(name, value) {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} ${value}: expected a positive number`);
  return n;
}

/** Percentile by nearest rank on an already sorted array. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return { count: 0, p50: null, p90: null, p99: null, max: null, mean: null };
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: sorted.length,
    min: sorted[0],
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sum / sorted.length,
  };
}

export function round(value, digits = 2) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function timestamp(date = new Date()) {
  return date.toISOString().replace(/[:.]/g, "-");
}

/** Writes bench/results/<name>-<timestamp>.json and returns its path. */
export function writeResult(name, data) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}-${timestamp()}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
  return file;
}

export function machineInfo() {
  return { node: process.version, platform: process.platform, arch: process.arch };
}

/** A plain-text table: `rows` are arrays of cells; numbers are right-aligned. */
export function table(header, rows) {
  const cells = [header, ...rows].map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === null || r[i] === undefined || typeof r[i] === "number"));
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [line(cells[0]), widths.map((w) => "-".repeat(w)).join("  "), ...cells.slice(1).map(line)].join("\n");
}

/** Runs `fn` over `items` with at most `limit` in flight; resolves to the results in order. */
export async function pool(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects after `ms` unless `promise` settles first. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// --- the server child and /proc readings (relay.js, channel.js) --------------------------------

let clkTckValue;
/** Clock ticks per second, the unit of the CPU times in /proc/<pid>/stat (asked once, when needed). */
export function clkTck() {
  if (clkTckValue === undefined) {
    try {
      clkTckValue = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTckValue = 100;
    }
  }
  return clkTckValue;
}

let tasksetValue;
/** Whether `taskset` works here (it may be missing or not permitted); asked once, when needed. */
export function hasTaskset() {
  if (tasksetValue === undefined) {
    try {
      execFileSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" });
      tasksetValue = true;
    } catch {
      tasksetValue = false;
    }
  }
  return tasksetValue;
}

/** Pins every thread of `pid` (-a: V8 and libuv threads too) to `core`; false if taskset failed. */
export function pinToCore(pid, core) {
  try {
    execFileSync("taskset", ["-a", "-cp", String(core), String(pid)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU seconds used by `pid` so far. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Split after "pid (comm) " (comm may contain spaces): utime and stime are then fields 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / clkTck();
}

/** Resident set size of `pid` in KiB, or null if /proc does not report one. */
export function rssKiB(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : null;
}

/** Resident set size of `pid` and its peak so far (VmHWM), in KiB (NaN where not reported). */
export function memKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const get = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: get("VmRSS"), hwm: get("VmHWM") };
}

/** A loopback TCP port that is free right now (the server has no "port 0 and tell me" mode). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts `node <main> start` (no TLS, loopback, fresh port) pinned to core 0 when taskset works and
 * resolves once it printed its JSON "ready" line. With `profile`, node's --cpu-prof writes into
 * bench/results/<name>-profile[-<label>]-<timestamp>/. `onSpawn(state)` runs right after the spawn,
 * so the caller can kill the child even if the start fails; `onUnexpectedExit(code, signal)` runs
 * (after a message) if the server dies while it is not being stopped. Returns the state:
 * { child, pid, url, dataDir, profileDir, stderrLines, stopping, kill(), stop() }.
 */
export async function startServer({ main, dataDir, name, label, profile = false, extraArgs = [], stopTimeoutMs = 15_000, onSpawn, onUnexpectedExit = () => process.exit(1) }) {
  const port = await freePort();
  const nodeArgs = [];
  let profileDir;
  if (profile) {
    profileDir = join(RESULTS_DIR, [name, "profile", label, timestamp()].filter(Boolean).join("-"));
    mkdirSync(profileDir, { recursive: true });
    nodeArgs.push("--cpu-prof", "--cpu-prof-dir", profileDir);
  }
  const serverArgs = [main, "start", "--data", dataDir, "--host", "127.0.0.1", "--port", String(port), "--no-tls", "--json", ...extraArgs];
  const [command, argv] = hasTaskset()
    ? ["taskset", ["-c", "0", process.execPath, ...nodeArgs, ...serverArgs]]
    : [process.execPath, [...nodeArgs, ...serverArgs]];
  const child = spawn(command, argv, { cwd: REPO_DIR, stdio: ["ignore", "pipe", "pipe"] });
  const state = {
    child,
    pid: child.pid,
    url: "",
    dataDir,
    profileDir,
    stderrLines: 0,
    stopping: false,
    /** SIGKILL now, if still running (for exit and signal handlers: no waiting possible there). */
    kill() {
      if (child.exitCode === null && child.signalCode === null) {
        try {
          child.kill("SIGKILL");
        } catch {
          /* already gone */
        }
      }
    },
    /** SIGTERM and wait until it exited; SIGKILL if that takes longer than `stopTimeoutMs`. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      state.stopping = true;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      try {
        await withTimeout(exited, stopTimeoutMs, "server stop");
      } catch {
        child.kill("SIGKILL");
        await withTimeout(exited, 5_000, "server kill").catch(() => undefined);
      }
    },
  };
  onSpawn?.(state);
  child.once("exit", (code, signal) => {
    if (state.stopping || !state.url) return; // expected, or still starting (reported below)
    console.error(`${name} bench: the server exited unexpectedly (${signal ?? `exit code ${code}`}); giving up`);
    onUnexpectedExit(code, signal);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text) => {
    for (const line of text.split("\n")) {
      if (!line) continue;
      state.stderrLines++;
      if (state.stderrLines <= 20) console.error(`  [server] ${line}`);
      else if (state.stderrLines === 21) console.error("  [server] (further stderr lines suppressed)");
    }
  });
  const first = await withTimeout(
    new Promise((resolve, reject) => {
      let buffer = "";
      child.stdout.setEncoding("utf8");
      const onData = (text) => {
        buffer += text;
        const nl = buffer.indexOf("\n");
        if (nl >= 0) {
          child.stdout.off("data", onData);
          child.stdout.resume(); // keep draining anything else it prints
          resolve(buffer.slice(0, nl));
        }
      };
      child.stdout.on("data", onData);
      child.once("exit", (code, signal) => reject(new Error(`server exited before it was ready (${code ?? signal})`)));
      child.once("error", reject);
    }),
    20_000,
    "server start",
  );
  const info = JSON.parse(first);
  if (info.error) throw new Error(`server: ${info.error.code}: ${info.error.message}`);
  state.url = info.url;
  return state;
}

/**
 * Creates one user per name with `<main> admin import-users` (directly on the data dir, before or
 * while the server runs); returns [{ id, name, code }] in order, `code` being the enrollment code.
 */
export function importUsers(main, dataDir, names) {
  const csv = join(dataDir, "..", "users.csv");
  writeFileSync(csv, ["name", ...names].join("\n") + "\n");
  const text = execFileSync(process.execPath, [main, "admin", "import-users", csv, "--data", dataDir, "--json"], {
    cwd: REPO_DIR,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 120_000,
  });
  const users = [];
  let imported = -1;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const value = JSON.parse(line);
    if (value.error) throw new Error(`import-users: ${value.error.code}: ${value.error.message}`);
    if (typeof value.imported === "number") imported = value.imported;
    else {
      const code = new URLSearchParams(new URL(value.invite).hash.slice(1)).get("c");
      if (!code) throw new Error(`import-users: no code in ${value.invite}`);
      users.push({ id: value.id, name: value.name, code });
    }
  }
  if (imported !== names.length || users.length !== names.length) {
    throw new Error(`import-users: expected ${names.length}, got ${users.length}/${imported}`);
  }
  return users;
}

/**
 * Makes sure the server child never outlives the script: on exit `kill()` and `remove()` (temp
 * dirs) run; SIGINT/SIGTERM/SIGHUP print a line, do the same and exit with 130.
 */
export function cleanupOnExit({ name, kill, remove = () => {} }) {
  const cleanup = () => {
    kill();
    remove();
  };
  process.on("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => {
      console.error(`\n${name} bench: ${signal}, stopping the server`);
      cleanup();
      process.exit(130);
    });
  }
}
