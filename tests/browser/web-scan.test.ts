// Scanning QR codes in the web app, in real Chromium against a real server process. Chromium's
// fake camera plays a Y4M file drawn from a QR code (tests/browser/qrImage.ts); the file is
// rewritten before each scan, and Chromium reads it anew whenever the camera starts. Anna scans
// Ben's safety-number code and sees him verified, while her own code and a code with other digits
// change nothing; a fresh browser enrolls by scanning its invite, refuses another server's invite
// and a QR code that is no invite; a browser without a camera says so and reads a photo instead.
// axe-core checks the scanner in the verification panel and on the entrance.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { freePort, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { axeViolations, CHROMIUM, DESKTOP, hasChromium, launchBrowser, serveAxe, watchPage, addPerson, type Person } from "./browser.js";
import { qrPng, writeQrY4m } from "./qrImage.js";

const built = existsSync(join(WEB_APP_DIR, "index.html"));


if (!hasChromium) console.warn(`web-scan.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-scan.test.ts skipped: packages/web/dist is not built (npm run build)");

describe.skipIf(!hasChromium || !built)("web app: scanning QR codes with the camera in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-scan-data");
  const files = tempDir("web-scan-files");
  const camera = join(files, "camera.y4m");
  let url: string;
  let server: ServerProcess;
  let withCamera: Browser;
  let withoutCamera: Browser;
  let anna: Person;
  let ben: Person;
  let annaPage: Page;
  let benPage: Page;
  const problems: string[][] = [];
  const decoderLoads: string[] = [];

  const addUser = (name: string) => addPerson(data, name);

  /** A page of a fresh profile; every camera stream it opens is kept in `__streams`, to check that it was stopped. */
  const newPage = async (browser: Browser): Promise<Page> => {
    const context: BrowserContext = await browser.newContext({ viewport: DESKTOP });
    await serveAxe(context, url);
    await context.addInitScript(() => {
      const streams: MediaStream[] = [];
      (globalThis as unknown as { __streams: MediaStream[] }).__streams = streams;
      const devices = navigator.mediaDevices;
      if (!devices) return;
      const open = devices.getUserMedia.bind(devices);
      devices.getUserMedia = async (constraints) => {
        const stream = await open(constraints);
        streams.push(stream);
        return stream;
      };
    });
    const page = await context.newPage();
    problems.push(await watchPage(page));
    return page;
  };

  /** How many camera streams the page opened, and how many of their tracks are still live. */
  const cameraUse = (page: Page) =>
    page.evaluate(() => {
      const streams = (globalThis as unknown as { __streams: MediaStream[] }).__streams;
      return { opened: streams.length, live: streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === "live").length };
    });

  const axe = async (page: Page, screen: string) => {
    expect(await axeViolations(page, url), `axe on ${screen}`).toEqual([]);
  };

  const badge = (page: Page) => page.locator(".chat-head .verify-badge");
  const panel = (page: Page) => page.locator("dialog.verify-dialog[open]");
  const scanner = (page: Page) => page.locator(".qr-scanner");

  const openPanel = async (page: Page) => {
    await expect.poll(() => badge(page).count(), { timeout: 20_000 }).toBe(1);
    await badge(page).click();
    await expect.poll(() => panel(page).count(), { timeout: 5_000 }).toBe(1);
  };

  /** Puts `text` in front of the fake camera and scans it in Anna's verification panel. */
  const scanInPanel = async (text: string) => {
    writeQrY4m(camera, text);
    await panel(annaPage).getByRole("button", { name: "Code scannen" }).click();
    await expect.poll(() => scanner(annaPage).count(), { timeout: 5_000 }).toBe(1);
    // The scanner closes by itself once it read a code.
    await expect.poll(() => scanner(annaPage).count(), { timeout: 20_000 }).toBe(0);
  };

  beforeAll(async () => {
    const port = await freePort();
    server = await startServer(data, port, ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    ben = await addUser("Ben Brandt");
    // Chromium needs the file at launch; each scan below writes its own picture into it.
    writeQrY4m(camera, undefined);
    withCamera = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        `--use-file-for-fake-video-capture=${camera}`,
      ],
    });
    withoutCamera = await launchBrowser();
    annaPage = await newPage(withCamera);
    benPage = await newPage(withoutCamera);
  });

  afterAll(async () => {
    await withCamera?.close();
    await withoutCamera?.close();
    await server?.stop();
  });

  it("enrolls two browser people from invites; they open their 1:1 chat's verification panel", async () => {
    annaPage.on("request", (request) => decoderLoads.push(request.url()));
    await annaPage.goto(anna.invite);
    await expect.poll(() => annaPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${anna.name}!`);
    await benPage.goto(ben.invite);
    await expect.poll(() => benPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${ben.name}!`);
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Person suchen").fill("ben");
    await annaPage.getByRole("button", { name: `Schreiben an ${ben.name}`, exact: true }).click();
    const box = annaPage.locator("#composer-text");
    await box.fill("Hallo Ben, ich scanne deinen Code.");
    await box.press("Enter");
    const row = benPage.locator(".chat-row").first();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("ich scanne deinen Code");
    await row.click();
    await openPanel(annaPage);
    await openPanel(benPage);
    expect(await panel(annaPage).locator(".verify-personal").textContent()).toBe("Noch nicht von dir bestätigt.");
    // The JS decoder is a chunk of its own, not part of the first load.
    expect(decoderLoads.filter((u) => /\/assets\/decode-[\w-]+\.js$/.test(u))).toEqual([]);
  });

  it("shows the live camera in the scanner, passes axe, and Escape closes the scanner (not the panel) and stops the camera", async () => {
    writeQrY4m(camera, undefined);
    await panel(annaPage).getByRole("button", { name: "Code scannen" }).click();
    await expect.poll(() => scanner(annaPage).getByRole("status").textContent(), { timeout: 10_000 }).toContain("sucht nach einem QR-Code");
    const video = scanner(annaPage).getByLabel("Kamerabild: Halte den QR-Code in die Mitte des Bildes.");
    await expect.poll(() => video.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBe(640);
    expect(await scanner(annaPage).getByRole("heading").textContent()).toBe(`Code von ${ben.name} scannen`);
    expect(await panel(annaPage).getByRole("button", { name: "Code scannen" }).getAttribute("aria-expanded")).toBe("true");
    expect(await cameraUse(annaPage)).toEqual({ opened: 1, live: 1 });
    await axe(annaPage, "scanner in the verification panel");
    // Headless Chromium on Linux has no BarcodeDetector for QR codes: the JS decoder was loaded now, under the CSP.
    if (!(await annaPage.evaluate(() => "BarcodeDetector" in globalThis))) {
      expect(decoderLoads.filter((u) => /\/assets\/decode-[\w-]+\.js$/.test(u))).toHaveLength(1);
    }

    await scanner(annaPage).getByRole("button", { name: "Abbrechen" }).focus();
    await annaPage.keyboard.press("Escape");
    await expect.poll(() => scanner(annaPage).count(), { timeout: 5_000 }).toBe(0);
    expect(await panel(annaPage).count()).toBe(1);
    // Focus goes back to the button that opened the scanner.
    expect(await annaPage.evaluate(() => document.activeElement?.textContent)).toBe("Code scannen");
    expect(await cameraUse(annaPage)).toEqual({ opened: 1, live: 0 });
  });

  it("refuses Anna's own code and a code for Ben with other digits; nothing changes", async () => {
    const annaCode = (await panel(annaPage).locator(".verify-own-code").textContent())!.trim();
    await scanInPanel(annaCode);
    await expect.poll(() => panel(annaPage).getByRole("alert").textContent(), { timeout: 5_000 }).toContain(`gehört zu einer anderen Person, nicht zu ${ben.name}`);
    expect(await cameraUse(annaPage)).toEqual({ opened: 2, live: 0 });

    await scanInPanel(`momedo-verify:${ben.id}:${"0".repeat(30)}`);
    await expect.poll(() => panel(annaPage).getByRole("alert").textContent(), { timeout: 5_000 }).toContain(`passt nicht zu den Schlüsseln von ${ben.name}`);

    await scanInPanel("https://example.org/");
    await expect.poll(() => panel(annaPage).getByRole("alert").textContent(), { timeout: 5_000 }).toContain("kein Code zum Bestätigen");
    expect(await panel(annaPage).locator(".verify-personal").textContent()).toBe("Noch nicht von dir bestätigt.");
    expect(await badge(annaPage).getAttribute("data-status")).toBe("unverified");
  });

  it("marks Ben verified from his scanned safety-number code, and keeps it after a reload", async () => {
    const benCode = (await panel(benPage).locator(".verify-own-code").textContent())!.trim();
    expect(benCode).toMatch(new RegExp(`^momedo-verify:${ben.id}:\\d{30}$`));
    await scanInPanel(benCode);
    await expect.poll(() => panel(annaPage).locator(".verify-personal").textContent(), { timeout: 5_000 }).toBe("Von dir bestätigt.");
    expect(await panel(annaPage).locator(".verify-scanned").textContent()).toBe(`Der gescannte Code passt: ${ben.name} ist jetzt von dir bestätigt.`);
    expect(await panel(annaPage).getByRole("alert").count()).toBe(0);
    expect(await cameraUse(annaPage)).toEqual({ opened: 5, live: 0 });
    await panel(annaPage).getByRole("button", { name: "Schließen" }).click();
    await expect.poll(() => badge(annaPage).getAttribute("data-status"), { timeout: 5_000 }).toBe("verified");
    await annaPage.reload();
    await annaPage.locator(".chat-row").first().click();
    await expect.poll(() => badge(annaPage).getAttribute("data-status"), { timeout: 20_000 }).toBe("verified");
  });

  it("enrolls a fresh browser by scanning its invite; refuses another server's invite and a QR code that is no invite", async () => {
    const cem = await addUser("Cem Celik");
    const page = await newPage(withCamera);
    await page.goto(`${url}/`);
    await expect.poll(() => page.locator(".entrance-status").textContent()).toContain("noch nicht eingerichtet");
    const scan = async (text: string) => {
      writeQrY4m(camera, text);
      await page.getByRole("button", { name: "Einladung scannen" }).click();
      await expect.poll(() => scanner(page).count(), { timeout: 5_000 }).toBe(1);
      await expect.poll(() => scanner(page).count(), { timeout: 20_000 }).toBe(0);
    };

    await scan(`https://other.example/join#c=${"A".repeat(16)}&fp=${"A".repeat(43)}`);
    expect(await page.getByRole("alert").textContent()).toContain("Diese Einladung gehört zu einem anderen Server (https://other.example)");
    await scan(`momedo-verify:${ben.id}:${"1".repeat(30)}`);
    expect(await page.getByRole("alert").textContent()).toContain("Dieser QR-Code ist keine Einladung für momedo.");
    expect(await page.locator(".entrance-status").first().textContent()).toContain("noch nicht eingerichtet");

    writeQrY4m(camera, undefined);
    await page.getByRole("button", { name: "Einladung scannen" }).click();
    await expect.poll(() => scanner(page).getByRole("status").textContent(), { timeout: 10_000 }).toContain("sucht nach einem QR-Code");
    await axe(page, "scanner on the entrance");
    await scanner(page).getByRole("button", { name: "Abbrechen" }).press("Enter");
    await expect.poll(() => scanner(page).count()).toBe(0);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Einladung scannen");
    expect(await cameraUse(page)).toEqual({ opened: 3, live: 0 });

    await scan(cem.invite);
    await expect.poll(() => page.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${cem.name}!`);
    expect(new URL(page.url()).pathname).toBe("/");
    expect(await cameraUse(page)).toEqual({ opened: 4, live: 0 });
  });

  it("says plainly when there is no camera, and reads the invite from a photo instead", async () => {
    const dana = await addUser("Dana Demir");
    const page = await newPage(withoutCamera);
    await page.goto(`${url}/`);
    await page.getByRole("button", { name: "Einladung scannen" }).click();
    await expect.poll(() => scanner(page).getByRole("status").textContent(), { timeout: 10_000 }).toBe("Hier ist keine Kamera verfügbar. Wähle ein Foto des Codes oder tippe den Code ein.");
    expect(await scanner(page).locator("video").isVisible()).toBe(false);
    await axe(page, "scanner without a camera");

    const input = scanner(page).locator('input[type="file"]');
    const blank = join(files, "blank.png");
    writeFileSync(blank, qrPng("x").subarray(0, 40));
    await input.setInputFiles(blank);
    await expect.poll(() => scanner(page).getByRole("alert").textContent(), { timeout: 5_000 }).toContain("lässt sich nicht öffnen");
    const wall = join(files, "wall.png");
    writeFileSync(wall, qrPng(undefined));
    await input.setInputFiles(wall);
    await expect.poll(() => scanner(page).getByRole("alert").textContent(), { timeout: 5_000 }).toContain("kein QR-Code zu erkennen");

    const photo = join(files, "invite.png");
    writeFileSync(photo, qrPng(dana.invite));
    await input.setInputFiles(photo);
    await expect.poll(() => page.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${dana.name}!`);
  });

  it("broke no Content-Security-Policy rule and threw no script error", () => {
    expect(problems.flat()).toEqual([]);
  });
});
