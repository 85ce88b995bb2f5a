// Shared helpers for the hand-run benchmarks in bench/: argument parsing, percentiles,
// result files (bench/results/<name>-<timestamp>.json) and plain-text tables.
import { mkdirSync, writeFileSync } from "node:fs";
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
