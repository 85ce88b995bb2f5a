// Images and files in the web app, in real Chromium against a real server process and a CLI
// user: a photo with its location arrives in the browser and shows (decoded, from a decrypted
// object URL), with coordinates and a plain map link and nothing loaded from other origins; the
// full-screen viewer opens and closes with the keyboard; a photo the browser sends with its
// location reaches the CLI downscaled and without its EXIF; a PDF arrives byte for byte; a file
// changed on the server is not handed out. axe-core checks the timeline with an image.
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Jimp } from "jimp";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { admin, filesBelow, freePort, momedo, startServer, tempDir, type Line, type ServerProcess } from "../e2e/harness.js";
import { CHROMIUM, DESKTOP, hasChromium, launchBrowser, PHONE, watchPage, axeViolations, screenshotDir, serveAxe } from "./browser.js";

// MOMEDO_SCREENSHOTS=1 writes the pictures into docs/screenshots; otherwise into a temporary folder.
const SCREENSHOTS = screenshotDir(tempDir("web-files-screenshots"));

const built = existsSync(join(WEB_APP_DIR, "index.html"));
const fileLines = (lines: Line[]) => lines.filter((l) => l.type === "file");

if (!hasChromium) console.warn(`web-files.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-files.test.ts skipped: packages/web/dist is not built (npm run build)");

/** A JPEG with an EXIF segment carrying `marker`, as a camera would write GPS and serial numbers. */
async function jpegWithExif(width: number, height: number, marker: string): Promise<Buffer> {
  const image = new Jimp({ width, height, color: 0x3366ccff });
  for (let x = 0; x < width; x += 7) image.setPixelColor(0xffcc00ff, x, Math.floor(height / 2));
  const jpeg = await image.getBuffer("image/jpeg", { quality: 90 });
  const payload = Buffer.concat([Buffer.from("Exif\0\0MM\0*\0\0\0\x08", "latin1"), Buffer.from(marker)]);
  const app1 = Buffer.concat([Buffer.from([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff]), payload]);
  return Buffer.concat([jpeg.subarray(0, 2), app1, jpeg.subarray(2)]);
}


describe.skipIf(!hasChromium || !built)("web app: images and files in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-files-data");
  const home = tempDir("web-files-home");
  const cemHome = `${home}/cem`;
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let anna: { id: string; name: string; invite: string };
  let cem: { id: string; name: string; invite: string };
  let dora: { id: string; name: string; invite: string };
  const foreign: string[] = [];
  let problems: string[] = [];

  const addUser = async (name: string) => {
    const line = await admin(data, "add-user", "--name", name);
    return { id: String(line.id), name, invite: String(line.invite) };
  };

  const axe = async (screen: string) => {
    const violations = await axeViolations(page, url);
    expect(violations, `axe on ${screen}`).toEqual([]);
  };

  /** The screen at phone and desktop size. */
  const shoot = async (name: string) => {
    for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(SCREENSHOTS, `web-${name}-${size}.png`) });
    }
    await page.setViewportSize(DESKTOP);
  };

  const receiveFiles = async (out: string) => {
    for (let i = 0; i < 40; i++) {
      const files = fileLines((await momedo(cemHome, "receive", "--out", out)).lines);
      if (files.length > 0) return files;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error("no file arrived at the CLI");
  };

  const newestBlob = () =>
    filesBelow(join(data, "blobs"))
      .filter((f) => !f.includes("partial"))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0]!;

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = await freePort();
    server = await startServer(data, port, ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    cem = await addUser("Cem Celik");
    await momedo(cemHome, "enroll", cem.invite);
    dora = await addUser("Dora Dietz");
    await momedo(`${home}/dora`, "enroll", dora.invite);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: DESKTOP });
    await serveAxe(context, url);
    page = await context.newPage();
    problems = await watchPage(page);
    page.on("request", (request) => {
      const u = request.url();
      if (!u.startsWith(url) && !u.startsWith("data:") && !u.startsWith("blob:")) foreign.push(u);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("enrolls a browser profile from its invite", async () => {
    await page.goto(anna.invite);
    await expect.poll(() => page.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${anna.name}!`);
  });

  it("an image with location from the CLI arrives and displays, with coordinates and a map link; nothing from other origins", async () => {
    const photo = join(home, "einsatz.jpg");
    writeFileSync(photo, await jpegWithExif(800, 600, "SERIAL-CEM-0001"));
    await momedo(cemHome, "send-file", anna.id, photo, "--lat", "52.52", "--lon", "13.405", "--accuracy", "8");
    const row = page.locator(".chat-row").filter({ hasText: cem.name });
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    await row.click();
    await expect.poll(() => page.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(cem.name);
    const img = page.locator(".attachment img.image");
    await expect
      .poll(() => img.evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)).catch(() => 0), { timeout: 20_000 })
      .toBe(800);
    expect(await img.getAttribute("src")).toMatch(/^blob:/);
    expect(await page.locator(".attachment .location").textContent()).toContain("52.52000, 13.40500");
    const link = page.getByRole("link", { name: /Auf der Karte öffnen/ });
    expect(await link.getAttribute("href")).toBe("https://www.openstreetmap.org/?mlat=52.52000&mlon=13.40500#map=17/52.52000/13.40500");
    expect(foreign).toEqual([]);
    await axe("timeline with an image");
    await shoot("chat-image");
  });

  it("the full-screen viewer opens from the image and closes with Escape, focus back on the image", async () => {
    const open = page.getByRole("button", { name: "Bild einsatz.jpg groß anzeigen" });
    await open.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Bild einsatz.jpg" });
    await expect.poll(() => dialog.count(), { timeout: 5_000 }).toBe(1);
    expect(await dialog.locator("img").evaluate((el: HTMLImageElement) => el.naturalWidth)).toBe(800);
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Schließen");
    await axe("image viewer");
    // At this size only: resizing to a phone would re-render the chat behind the viewer.
    await page.screenshot({ path: join(SCREENSHOTS, "web-image-viewer-desktop.png") });
    await page.keyboard.press("Escape");
    await expect.poll(() => dialog.count(), { timeout: 5_000 }).toBe(0);
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label") ?? document.activeElement?.tagName), { timeout: 5_000 })
      .toBe("Bild einsatz.jpg groß anzeigen");
  });

  it("a photo sent from the browser with its location reaches the CLI downscaled, without EXIF, with the location", async () => {
    await context.grantPermissions(["geolocation"], { origin: url });
    await context.setGeolocation({ latitude: 48.1374, longitude: 11.5755, accuracy: 12 });
    await page.getByLabel("Standort anhängen").check();
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 10_000 }).toBe("Standort wird mitgesendet.");
    const marker = "GPS-SECRET-48.1374";
    await page.locator("#composer-camera").setInputFiles({ name: "foto.jpg", mimeType: "image/jpeg", buffer: await jpegWithExif(3000, 1500, marker) });
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 30_000 }).toBe("foto.jpg gesendet.");
    // Shown on the sender's side from what it sent.
    await expect
      .poll(() => page.locator(".msg.own .attachment img.image").evaluate((el: HTMLImageElement) => (el.complete ? el.naturalWidth : 0)).catch(() => 0), {
        timeout: 20_000,
      })
      .toBe(2048);
    const out = tempDir("web-files-photo");
    const [got] = await receiveFiles(out);
    expect(got).toMatchObject({ from: anna.id, text: "foto.jpg", file: { mediaType: "image/jpeg", width: 2048, height: 1024, location: { lat: 48.1374, lon: 11.5755, accuracy: 12 } } });
    expect((got!.file as Line).thumbnailBytes).toBeGreaterThan(100);
    const saved = readFileSync(String(got!.saved));
    expect(saved.includes(Buffer.from(marker))).toBe(false);
    expect(saved.includes(Buffer.from("Exif\0\0"))).toBe(false);
    const image = await Jimp.read(saved);
    expect([image.width, image.height]).toEqual([2048, 1024]);
  });

  it("a small photo goes stripped byte for byte (no re-encoding), and a PDF arrives with the same bytes", async () => {
    await page.getByLabel("Standort anhängen").uncheck();
    const marker = "KAMERA-SERIENNUMMER";
    const small = await jpegWithExif(640, 480, marker);
    await page.locator("#composer-file").setInputFiles({ name: "klein.jpg", mimeType: "image/jpeg", buffer: small });
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 30_000 }).toBe("klein.jpg gesendet.");
    const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(200_000, 7), Buffer.from("\n%%EOF\n")]);
    await page.locator("#composer-file").setInputFiles({ name: "elternbrief.pdf", mimeType: "application/pdf", buffer: pdf });
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 30_000 }).toBe("elternbrief.pdf gesendet.");
    const out = tempDir("web-files-pdf");
    const files: Line[] = [];
    for (let i = 0; i < 40 && files.length < 2; i++) files.push(...(await receiveFiles(out)));
    const [photo, doc] = files;
    expect(photo).toMatchObject({ text: "klein.jpg", file: { width: 640, height: 480 } });
    expect(photo!.file).not.toHaveProperty("location");
    // Exactly the EXIF segment is gone.
    expect(readFileSync(String(photo!.saved)).length).toBe(small.length - (2 + 2 + 14 + marker.length));
    expect(doc).toMatchObject({ text: "elternbrief.pdf", file: { mediaType: "application/pdf", size: pdf.length } });
    expect(readFileSync(String(doc!.saved)).equals(pdf)).toBe(true);
  });

  it("a file from the CLI is a download button; changed on the server, it is refused, not handed out", async () => {
    const text = join(home, "bescheid.txt");
    writeFileSync(text, "Bescheid: ".repeat(20_000));
    await momedo(cemHome, "send-file", anna.id, text);
    const button = page.getByRole("button", { name: /bescheid\.txt herunterladen \(195,3 KB\)/ });
    await expect.poll(() => button.count(), { timeout: 20_000 }).toBe(1);
    const stored = newestBlob();
    const bytes = readFileSync(stored);
    bytes[100_000]! ^= 0x01;
    writeFileSync(stored, bytes);
    await button.click();
    await expect.poll(() => page.locator(".file-problem").last().textContent(), { timeout: 20_000 }).toContain("verändert");
    expect(readdirSync(join(data, "blobs")).length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it("a file can be the first message of a new conversation (the 1:1 chat is made for it)", async () => {
    await page.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await page.getByLabel("Person suchen").fill("Dora");
    await page.getByRole("button", { name: `Schreiben an ${dora.name}`, exact: true }).click();
    await expect.poll(() => page.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(dora.name);
    const list = Buffer.from("Name;Klasse\nAnna;7b\n", "utf8");
    await page.locator("#composer-file").setInputFiles({ name: "liste.csv", mimeType: "text/csv", buffer: list });
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 30_000 }).toBe("liste.csv gesendet.");
    const out = tempDir("web-files-dora");
    let got: Line[] = [];
    for (let i = 0; i < 40 && got.length === 0; i++) got = fileLines((await momedo(`${home}/dora`, "receive", "--out", out)).lines);
    expect(got[0]).toMatchObject({ from: anna.id, text: "liste.csv" });
    expect(readFileSync(String(got[0]!.saved)).equals(list)).toBe(true);
  });

  it("without permission the location is not attached, and the person is told why", async () => {
    await context.clearPermissions();
    const box = page.getByLabel("Standort anhängen");
    await box.click();
    await expect.poll(() => page.locator(".attach-note").textContent(), { timeout: 10_000 }).toBe("Der Standort ist im Browser nicht erlaubt.");
    expect(await box.isChecked()).toBe(false);
    expect(problems).toEqual([]);
  });
});
