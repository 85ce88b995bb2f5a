// The web app's build. The workspace packages are bundled from their TypeScript sources, so the
// app never depends on their Node builds; crypto (core, protocol, ts-mls, noble, hpke) gets its
// own chunk, which changes rarely and is cached apart from the UI.
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

export default defineConfig({
  plugins: [noNodeBuiltins],
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
      // mlkem's comments carry annotations Rollup ignores; nothing to act on.
      onwarn: (warning, warn) => (warning.code === "INVALID_ANNOTATION" && warning.id?.includes("/node_modules/") ? undefined : warn(warning)),
      output: {
        manualChunks: (id) => (CRYPTO.test(id) ? "crypto" : /[\\/]node_modules[\\/]preact[\\/]/.test(id) ? "preact" : undefined),
      },
    },
  },
});
