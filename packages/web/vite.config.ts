// The web app's build. The workspace packages are bundled from their TypeScript sources, so the
// app never depends on their Node builds; crypto (core, protocol, ts-mls, noble, hpke) gets its
// own chunk, which changes rarely and is cached apart from the UI.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const packageSource = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export const aliases = [
  { find: /^@momedo\/client\/browser$/, replacement: packageSource("client/src/browser.ts") },
  { find: /^@momedo\/core$/, replacement: packageSource("core/src/index.ts") },
  { find: /^@momedo\/protocol$/, replacement: packageSource("protocol/src/index.ts") },
];

const CRYPTO = /[\\/](ts-mls|@noble|@hpke)[\\/]|[\\/]packages[\\/](core|protocol)[\\/]src[\\/]/;

/**
 * Fails the build when our own code (any workspace package) imports a Node built-in. Libraries
 * keep theirs: mlkem and @hpke import "crypto" only where globalThis.crypto is missing, and Vite
 * stubs it.
 */
export const noNodeBuiltins: Plugin = {
  name: "momedo-no-node-builtins",
  enforce: "pre",
  resolveId(source, importer) {
    if (importer && !importer.includes("/node_modules/") && isBuiltin(source)) {
      this.error(`${importer} imports the Node built-in "${source}"; the web app runs in browsers`);
    }
    return null;
  },
};

const PUBLIC_DIR = new URL("public/", import.meta.url);

/**
 * Writes this build's file list into sw.js (see src/sw.ts), with a version hashed from the files:
 * the worker precaches exactly this build, and sw.js changes, so browsers update it, with every build.
 */
export const serviceWorkerBuild: Plugin = {
  name: "momedo-service-worker-build",
  enforce: "post",
  generateBundle(_options, bundle) {
    const worker = bundle["sw.js"];
    if (worker?.type !== "chunk") return this.error("sw.js is missing from the bundle");
    const hash = createHash("sha256");
    const files: string[] = [];
    for (const item of Object.values(bundle).filter((i) => i !== worker && !i.fileName.startsWith("."))) {
      files.push(`/${item.fileName}`);
      hash.update(item.fileName).update(item.type === "chunk" ? item.code : item.source);
    }
    for (const name of readdirSync(PUBLIC_DIR).sort()) {
      files.push(`/${name}`);
      hash.update(name).update(readFileSync(new URL(name, PUBLIC_DIR)));
    }
    const build = JSON.stringify({ version: hash.digest("hex").slice(0, 16), files: files.filter((f) => f !== "/index.html") });
    if (!worker.code.includes('"__MOMEDO_BUILD__"')) return this.error("sw.js lost its __MOMEDO_BUILD__ placeholder");
    worker.code = worker.code.replace('"__MOMEDO_BUILD__"', () => JSON.stringify(build));
  },
};

export default defineConfig({
  plugins: [noNodeBuiltins, serviceWorkerBuild],
  resolve: { alias: aliases },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    // Every asset is a file of its own: no data: fonts or scripts for the CSP to allow.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    rollupOptions: {
      // The service worker is an entry of its own, at /sw.js (unhashed: its URL is its identity).
      input: { index: fileURLToPath(new URL("index.html", import.meta.url)), sw: fileURLToPath(new URL("src/sw.ts", import.meta.url)) },
      // mlkem's comments carry annotations Rollup ignores; nothing to act on.
      onwarn: (warning, warn) => (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("/node_modules/") ? undefined : warn(warning)),
      output: {
        entryFileNames: (chunk) => (chunk.name === "sw" ? "sw.js" : "assets/[name]-[hash].js"),
        manualChunks: (id) => (CRYPTO.test(id) ? "crypto" : /[\\/]node_modules[\\/]preact[\\/]/.test(id) ? "preact" : undefined),
      },
    },
  },
});
