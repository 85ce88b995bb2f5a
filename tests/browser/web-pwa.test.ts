// The installable, offline-capable app from a real server process (--no-tls) in Chromium: the
// manifest and its icons, the service worker controlling the page, the app shell offline, the
// API never answered from the cache, and a (synthetic) push turned into a content-free notification.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { freePort, SERVER_BIN, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { CHROMIUM, hasChromium, launchBrowser, PHONE, watchPage } from "./browser.js";

const built = existsSync(join(WEB_APP_DIR, "sw.js")) && existsSync(SERVER_BIN.replace(/bin\/momedo-server\.js$/, "dist/main.js"));
if (!hasChromium) console.warn(`web-pwa.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-pwa.test.ts skipped: the server or packages/web/dist is not built (npm run build)");

interface ManifestIcon {
  src: string;
  sizes: string;
  type: string;
  purpose?: string;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): string {
  expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
  return `${bytes.readUInt32BE(16)}x${bytes.readUInt32BE(20)}`;
}

describe.skipIf(!hasChromium || !built)("the web app as a PWA in Chromium", () => {
  let dataDir: string;
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let problems: string[];

  beforeAll(async () => {
    dataDir = tempDir("web-pwa");
    server = await startServer(dataDir, await freePort(), ["--no-tls"]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: PHONE });
    page = await context.newPage();
    problems = await watchPage(page);
    cdp = await context.newCDPSession(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("serves a valid manifest, linked from the page, whose icons exist (maskable too)", async () => {
    const response = await fetch(`${server.url}/manifest.webmanifest`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/manifest+json");
    const manifest = (await response.json()) as { name: string; short_name: string; start_url: string; display: string; theme_color: string; background_color: string; icons: ManifestIcon[] };
    expect(manifest).toMatchObject({ name: "momedo", short_name: "momedo", start_url: "/", display: "standalone" });
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
    for (const icon of manifest.icons) {
      const file = await fetch(`${server.url}${icon.src}`);
      expect(file.status, icon.src).toBe(200);
      expect(file.headers.get("content-type")).toBe(icon.type);
      const bytes = Buffer.from(await file.arrayBuffer());
      if (icon.type === "image/png") expect(pngSize(bytes)).toBe(icon.sizes);
      else expect(bytes.toString("utf8")).toContain("<svg");
    }
    const sizes = (purpose: string) => manifest.icons.filter((i) => (i.purpose ?? "any").split(" ").includes(purpose)).map((i) => i.sizes);
    expect(sizes("any")).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    expect(sizes("maskable")).toContain("512x512");

    await page.goto(`${server.url}/`);
    const head = await page.evaluate(() => ({
      manifest: document.querySelector('link[rel="manifest"]')?.getAttribute("href"),
      theme: document.querySelector('meta[name="theme-color"]')?.getAttribute("content"),
    }));
    expect(head).toEqual({ manifest: "/manifest.webmanifest", theme: manifest.theme_color });
    // Chromium's own reading of the manifest: no parse errors.
    const read = (await cdp.send("Page.getAppManifest")) as { url: string; errors: { message: string }[] };
    expect(read.url).toBe(`${server.url}/manifest.webmanifest`);
    expect(read.errors).toEqual([]);
  });

  it("registers the service worker (scope /), which then controls the page", async () => {
    await page.goto(`${server.url}/`);
    const worker = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return { script: registration.active?.scriptURL, scope: registration.scope };
    });
    expect(worker).toEqual({ script: `${server.url}/sw.js`, scope: `${server.url}/` });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null)).toBe(`${server.url}/sw.js`);
    const sw = await fetch(`${server.url}/sw.js`);
    expect(sw.headers.get("cache-control")).toBe("no-cache");
    // Chromium finds nothing missing for installing the app (test contexts are incognito-like).
    const installability = (await cdp.send("Page.getInstallabilityErrors")) as { installabilityErrors: { errorId: string }[] };
    expect(installability.installabilityErrors.map((e) => e.errorId).filter((id) => id !== "in-incognito")).toEqual([]);
  });

  it("precaches this build's files and never the API or the admin console", async () => {
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
      return urls;
    });
    const html = readFileSync(join(WEB_APP_DIR, "index.html"), "utf8");
    const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    expect(assets.length).toBeGreaterThan(0);
    expect(cached).toEqual(expect.arrayContaining(["/", "/manifest.webmanifest", ...assets]));
    expect(await page.evaluate(() => fetch("/api/v1/health").then((r) => r.status))).toBe(200);
    expect(cached.filter((path) => /^\/(api|admin)(\/|$)/.test(path))).toEqual([]);
  });

  it("offline, reloading / still shows the app shell, and /api/ is not answered from the cache", async () => {
    await context.setOffline(true);
    try {
      const response = await page.reload();
      expect(response?.fromServiceWorker()).toBe(true);
      expect(await page.title()).toBe("momedo");
      await expect.poll(() => page.locator("#app *").count()).toBeGreaterThan(0);
      const api = await page.evaluate(() => fetch("/api/v1/health").then((r) => `HTTP ${r.status}`, (e: Error) => e.name));
      expect(api).toBe("TypeError");
      const admin = await page.evaluate(() => fetch("/admin/").then((r) => `HTTP ${r.status}`, (e: Error) => e.name));
      expect(admin).toBe("TypeError");
      const other = await context.newPage();
      await expect(other.goto(`${server.url}/join`)).resolves.toBeTruthy();
      expect(await other.title()).toBe("momedo");
      await other.close();
    } finally {
      await context.setOffline(false);
    }
  });

  it("shows a content-free notification for a push, in German unless the app was switched (the browser says en-US)", async () => {
    await context.grantPermissions(["notifications"], { origin: server.url });
    const registered = new Promise<string>((resolve) => {
      cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations }: { registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] }) => {
        const mine = registrations.find((r) => r.scopeURL === `${server.url}/` && !r.isDeleted);
        if (mine) resolve(mine.registrationId);
      });
    });
    await cdp.send("ServiceWorker.enable");
    const registrationId = await registered;
    const notifications = () =>
      page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })));
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: server.url, registrationId, data: "" });
    await expect.poll(notifications).toEqual([{ title: "Neue Nachricht", body: "momedo", tag: "momedo-mail" }]);
    // What setNotificationLanguage("en") in pwa.ts stores; the next wake-up replaces the first notification.
    await page.evaluate(async () => (await caches.open("momedo-settings")).put("/settings/language", new Response("en")));
    await cdp.send("ServiceWorker.deliverPushMessage", { origin: server.url, registrationId, data: "" });
    await expect.poll(notifications).toEqual([{ title: "New message", body: "momedo", tag: "momedo-mail" }]);
  });

  it("logged no CSP violation or script error", () => {
    expect(problems).toEqual([]);
  });
});
