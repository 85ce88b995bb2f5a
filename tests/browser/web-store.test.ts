// The web app's IndexedDB store in real Chromium: the checks of packages/web/src/store/
// idbStore.checks.ts, bundled with Vite like the app and run in a page under the app's CSP.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_CSP } from "../../packages/server/src/http/webApp.js";
import { aliases, noNodeBuiltins } from "../../packages/web/vite.config.js";
import type { checks as Checks } from "../../packages/web/src/store/idbStore.checks.js";
import { tempDir } from "../e2e/harness.js";
import { CHROMIUM, hasChromium, launchBrowser, watchPage } from "./browser.js";

const ENTRY = fileURLToPath(new URL("../../packages/web/src/store/idbStore.checks.ts", import.meta.url));
const MARKER = "Geheimnis-Pausenbrot-7319";
type Results = { [K in keyof typeof Checks]: Awaited<ReturnType<(typeof Checks)[K]>> };

/** Bundles a module of the web app for a test page, as the app's build would (same aliases); returns its files by name. */
async function bundle(entry: string, outDir: string): Promise<Map<string, Buffer>> {
  await build({
    configFile: false,
    logLevel: "error",
    plugins: [noNodeBuiltins],
    resolve: { alias: aliases },
    build: { outDir, emptyOutDir: true, minify: false, target: "es2022", lib: { entry, formats: ["es"], fileName: () => "page.js" } },
  });
  return new Map(readdirSync(outDir).map((name) => [`/${name}`, readFileSync(join(outDir, name))]));
}

if (!hasChromium) console.warn(`web-store.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);

describe.skipIf(!hasChromium)("IdbStore in Chromium", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let bundleDir: string | undefined;

  const run = <K extends keyof Results>(name: K): Promise<Results[K]> =>
    page.evaluate((check) => window.momedoStoreChecks[check]() as Promise<never>, name);

  beforeAll(async () => {
    bundleDir = tempDir("web-store-bundle");
    const files = await bundle(ENTRY, bundleDir);
    server = createServer((req, res) => {
      const script = files.get(req.url ?? "");
      res.writeHead(script || req.url === "/" ? 200 : 404, {
        "Content-Type": script ? "text/javascript" : "text/html; charset=utf-8",
        "Content-Security-Policy": WEB_APP_CSP,
      });
      res.end(script ?? '<!doctype html><html lang="de"><title>IdbStore</title><script type="module" src="/page.js"></script></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    browser = await launchBrowser();
    page = await browser.newPage();
    problems = await watchPage(page);
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => "momedoStoreChecks" in window, undefined, { timeout: 10_000 }).catch((error: Error) => {
      throw new Error(`${error.message}\n${problems.join("\n")}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  });

  it("gives back what the engine wrote, also after reopening", async () => {
    const { before, after, expected } = await run("roundTrips");
    expect(before.identity).toEqual(expected.identity);
    expect(before.groups).toEqual(["GROUP-A", "GROUP-B"]);
    expect(before.groupB).toEqual(expected.groupB);
    expect(before.missingGroup).toBeUndefined();
    expect(before.kp?.initPrivateKey).toEqual(expected.initPrivateKey);
    expect(before.kp).toMatchObject({ ref: "KP2", suite: "suite-1", lastResort: true });
    expect([before.lastResort, before.lastResortOtherSuite]).toEqual([true, false]);
    expect(before.messages.map((m) => m.id)).toEqual(["M1", "M2"]);
    expect(before.messages[0]).toMatchObject({ chat: "CHAT1", type: "text", text: `Hallo ${MARKER}`, file: expected.file, outgoing: false });
    expect(before.messages[1]).toMatchObject({ type: "card", card: expected.card });
    expect(before.setting).toEqual(expected.setting);
    expect(before.cursor).toBe(7);
    expect(after).toEqual({ groups: ["GROUP-A"], lastResort: false });
  });

  it("keeps the highest cursor", async () => {
    expect(await run("cursorMax")).toEqual([0, 5, 5, 9, 9]);
  });

  it("stores a message once (INSERT OR IGNORE) and deletes it after inserting", async () => {
    const result = await run("dedupe");
    expect(result.texts).toEqual(["CHAT1/M1:eins", "CHAT2/M1:drei"]);
    expect(result.has).toEqual([true, true, false]);
    expect(result.afterDelete).toEqual(["CHAT1/M1:eins"]);
    expect(result.cursor).toBe(2);
  });

  it("deletes a setting set to null", async () => {
    expect(await run("settingsDelete")).toEqual({ b: [2] });
  });

  it("tells who sent a card and whether they decided it", async () => {
    expect(await run("cardInfo")).toEqual({ card1: { from: "USERCCCC", decided: true }, card2: { from: "USERCCCC", decided: false } });
  });

  it("lists chats with last message and unread count, pages timelines, marks read, searches", async () => {
    const r = await run("uiReads");
    expect(r.chats).toEqual([
      { chat: "CHAT-A", last: "A3", unread: 2 },
      { chat: "CHAT-B", last: "B2", unread: 2 },
    ]);
    expect(r.count).toBe(3);
    expect(r.firstPage).toEqual(["A1", "A2"]);
    expect(r.secondPage).toEqual(["A3"]);
    expect(r.pastEnd).toEqual([]);
    expect(r.unshown).toEqual(["A1", "B1", "B2", "A3"]);
    expect(r.unshownAfter).toEqual(["A1", "B2", "A3"]);
    expect(r.marked).toBe(2);
    expect(r.chatsAfter).toEqual([
      { chat: "CHAT-A", unread: 0 },
      { chat: "CHAT-B", unread: 1 },
    ]);
    expect(r.found).toBe("👍");
    expect(r.replies).toEqual(["B2"]);
    expect(r.search).toEqual(["A3"]);
    expect(r.searchNone).toEqual([]);
  });

  it("pages a chat of 10,000 messages quickly", async () => {
    const r = await run("longChat");
    console.log(`IdbStore, 10,000 messages: written in ${r.writeMs} ms (10 steps), counted and two pages of 50 read in ${r.readMs} ms`);
    expect(r.count).toBe(10_000);
    expect(r.last).toEqual(["Nachricht 9950", "Nachricht 9999", 50]);
    expect(r.middle).toEqual(["Nachricht 5000", 50]);
    expect(r.chats).toEqual([{ chat: "BIG", last: "Nachricht 9999", unread: 10_000 }]);
    expect(r.readMs).toBeLessThan(1000);
  });

  it("keeps no plaintext in IndexedDB, and its key cannot be exported", async () => {
    const r = await run("rawContents");
    expect(r.markerWorks).toBe(true);
    expect(r.records).toBeGreaterThanOrEqual(7);
    expect(r.found).toEqual([]);
    expect(r.key).toEqual({ extractable: false, algorithm: "AES-GCM", length: 256, usages: expect.arrayContaining(["encrypt", "decrypt"]) });
    expect(r.exportError).toBe("InvalidAccessError");
  });

  it("runs the core engine over it: a 1:1 message arrives and is still there after reopening", async () => {
    const r = await run("engineChat");
    const text = `AAAAAAAA:Stunde 1 fällt aus ${MARKER}`;
    expect(r).toEqual({ received: [text], reopenedAs: "BBBBBBBB", stored: [text], groups: 1, cursor: 2 });
  });

  it("refuses a sealed value moved to another record", async () => {
    expect(await run("movedValueRefused")).toEqual({ error: "OperationError", g1Text: "eins" });
  });

  it("ran without CSP violations or script errors", () => {
    expect(problems).toEqual([]);
  });
});
