// The built web app from a real server in Chromium: it loads under the strict CSP without a
// single violation, opens the engine over its IndexedDB store, speaks German first and English
// on request, and /join opens the same app.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_CSP, WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { startServer, type RunningServer } from "../../packages/server/src/server.js";
import { CHROMIUM, hasChromium, launchBrowser, PHONE, watchPage } from "./browser.js";

const built = existsSync(join(WEB_APP_DIR, "index.html"));
if (!hasChromium) console.warn(`web-app.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-app.test.ts skipped: packages/web/dist is not built (npm run build)");

describe.skipIf(!hasChromium || !built)("web app in Chromium", () => {
  let server: RunningServer;
  let dataDir: string;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "momedo-web-app-"));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: PHONE });
    problems = await watchPage(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("loads under the strict CSP and opens the engine over IndexedDB (German first)", async () => {
    const response = await page.goto(`${server.url}/`);
    expect(response?.headers()["content-security-policy"]).toBe(WEB_APP_CSP);
    await expect.poll(() => page.getByRole("status").textContent()).toContain("noch nicht eingerichtet");
    expect(await page.getAttribute("html", "lang")).toBe("de");
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("momedo");
  });

  it("switches to English and keeps the choice", async () => {
    await page.getByRole("button", { name: /English/ }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("not set up yet");
    expect(await page.getAttribute("html", "lang")).toBe("en");
    await page.reload();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("not set up yet");
    await page.getByRole("button", { name: /Deutsch/ }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("noch nicht eingerichtet");
  });

  it("opens the same app at /join (the invite's fragment stays in the browser)", async () => {
    const response = await page.goto(`${server.url}/join#c=AAAAAAAAAAAAAAAA&fp=${"A".repeat(43)}`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()["content-security-policy"]).toBe(WEB_APP_CSP);
    await expect.poll(() => page.getByRole("status").textContent()).toContain("noch nicht eingerichtet");
  });

  it("logged no CSP violation or script error", () => {
    expect(problems).toEqual([]);
  });
});
