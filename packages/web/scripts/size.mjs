// The compressed size of the JavaScript a first visit loads: the entry script of dist/index.html
// and every module it preloads (gzip -9 and brotli -11, as a server or CDN would send them).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const BUDGET_KIB = 250;
const dist = fileURLToPath(new URL("../dist/", import.meta.url));
let html;
try {
  html = readFileSync(join(dist, "index.html"), "utf8");
} catch {
  console.error("dist/index.html fehlt: erst `npm run build` / dist/index.html missing: run `npm run build` first");
  process.exit(1);
}
const files = [...html.matchAll(/<(?:script[^>]*\bsrc|link[^>]*rel="modulepreload"[^>]*\bhref)="\/([^"]+\.js)"/g)].map((m) => m[1]);
const kib = (bytes) => (bytes / 1024).toFixed(1);
const rows = files.map((file) => {
  const bytes = readFileSync(join(dist, file));
  return {
    file,
    raw: bytes.length,
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
});
const total = rows.reduce((sum, r) => ({ raw: sum.raw + r.raw, gzip: sum.gzip + r.gzip, brotli: sum.brotli + r.brotli }), { raw: 0, gzip: 0, brotli: 0 });
console.log("First-load JavaScript (KiB)      raw     gzip   brotli");
for (const r of rows) console.log(`${r.file.padEnd(30)} ${kib(r.raw).padStart(8)} ${kib(r.gzip).padStart(8)} ${kib(r.brotli).padStart(8)}`);
console.log(`${"total".padEnd(30)} ${kib(total.raw).padStart(8)} ${kib(total.gzip).padStart(8)} ${kib(total.brotli).padStart(8)}`);
console.log(`budget ${BUDGET_KIB} KiB compressed: ${total.gzip <= BUDGET_KIB * 1024 ? "kept" : "EXCEEDED"} (gzip)`);
if (total.gzip > BUDGET_KIB * 1024) process.exitCode = 1;
