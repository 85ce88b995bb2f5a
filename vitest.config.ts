import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: {
      // Exact entry first: "@momedo/client" below would otherwise match it as a prefix.
      "@momedo/client/browser": fileURLToPath(new URL("./packages/client/src/browser.ts", import.meta.url)),
      "@momedo/protocol": src("protocol"),
      "@momedo/core": src("core"),
      "@momedo/client": src("client"),
      "@momedo/bot": src("bot"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
