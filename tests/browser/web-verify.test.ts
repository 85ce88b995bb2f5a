// Verification and devices in the web app, in real Chromium against a real server process: two
// browser people see each other as vouched for by the organisation and not yet verified by
// themselves, with the same safety number; one confirms the other with the other's code and sees
// "verified"; the other removes a device of theirs on the devices screen (a CLI device of the same
// person, which the server then refuses) and the key change turns the verified mark into a plain
// warning. axe-core checks the verification panel and the devices screen.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { admin, freePort, momedo, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { CHROMIUM, DESKTOP, hasChromium, launchBrowser, PHONE, axeViolations, screenshotDir, addPerson, type Person, watchedProfile } from "./browser.js";

// MOMEDO_SCREENSHOTS=1 writes the pictures into docs/screenshots (as web-chat.test.ts does).
const SCREENSHOTS = screenshotDir(tempDir("web-verify-screenshots"));

const built = existsSync(join(WEB_APP_DIR, "index.html"));



if (!hasChromium) console.warn(`web-verify.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-verify.test.ts skipped: packages/web/dist is not built (npm run build)");

describe.skipIf(!hasChromium || !built)("web app: verification and devices in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-verify-data");
  const home = tempDir("web-verify-home");
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let anna: Person;
  let ben: Person;
  let cem: Person;
  let annaPage: Page;
  let benPage: Page;
  /** The browser linked to Cem's account in the linking test. */
  let linked: Page | undefined;
  const problems: string[][] = [];

  const addUser = (name: string) => addPerson(data, name);

  const newPage = async () => (await watchedProfile(browser, url, DESKTOP, problems)).page;

  const axe = async (page: Page, screen: string) => {
    const violations = await axeViolations(page, url);
    expect(violations, `axe on ${screen}`).toEqual([]);
  };

  /** The screen at phone and desktop size. */
  const shoot = async (page: Page, name: string) => {
    for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(SCREENSHOTS, `web-${name}-${size}.png`) });
    }
    await page.setViewportSize(DESKTOP);
  };

  const write = async (page: Page, text: string) => {
    const box = page.locator("#composer-text");
    await box.fill(text);
    await box.press("Enter");
  };

  const badge = (page: Page) => page.locator(".chat-head .verify-badge");
  const panel = (page: Page) => page.locator("dialog.verify-dialog[open]");

  const openPanel = async (page: Page) => {
    await expect.poll(() => badge(page).count(), { timeout: 20_000 }).toBe(1);
    await badge(page).click();
    await expect.poll(() => panel(page).count(), { timeout: 5_000 }).toBe(1);
  };

  const closePanel = async (page: Page) => {
    await panel(page).getByRole("button", { name: "Schließen" }).click();
    await expect.poll(() => panel(page).count(), { timeout: 5_000 }).toBe(0);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    const port = await freePort();
    server = await startServer(data, port, ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    ben = await addUser("Ben Brandt");
    cem = await addUser("Cem Celik");
    browser = await launchBrowser();
    annaPage = await newPage();
    benPage = await newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("enrolls two browser people from invites, and a second (CLI) device of Ben from another invite", async () => {
    await annaPage.goto(anna.invite);
    await expect.poll(() => annaPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${anna.name}!`);
    await benPage.goto(ben.invite);
    await expect.poll(() => benPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${ben.name}!`);
    // Before anyone writes to him, so that the 1:1 chat holds both of Ben's devices.
    const second = await admin(data, "invite", ben.id);
    await momedo(`${home}/ben-cli`, "enroll", String(second.invite));
  });

  it("two browser people see each other as vouched by the organisation, not yet verified, with the same safety number", async () => {
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Person suchen").fill("ben");
    await annaPage.getByRole("button", { name: `Schreiben an ${ben.name}`, exact: true }).click();
    await write(annaPage, "Hallo Ben, vergleichen wir unsere Sicherheitsnummer?");
    const row = benPage.locator(".chat-row").first();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Sicherheitsnummer");
    await row.click();

    for (const page of [annaPage, benPage]) {
      await expect.poll(() => badge(page).getAttribute("data-status"), { timeout: 20_000 }).toBe("unverified");
      await openPanel(page);
      expect(await panel(page).locator(".verify-org").textContent()).toContain("Von der Organisation bestätigt");
      expect(await panel(page).locator(".verify-personal").textContent()).toBe("Noch nicht von dir bestätigt.");
      await expect.poll(() => panel(page).locator("svg.qr").count()).toBe(1);
    }
    // Anna sees Ben's two devices (browser and CLI); Ben sees Anna's one.
    expect(await panel(annaPage).locator(".verify-facts").textContent()).toContain("Geräte in dieser Unterhaltung: 2");
    expect(await panel(benPage).locator(".verify-facts").textContent()).toContain("Geräte in dieser Unterhaltung: 1");
    const annaNumber = (await panel(annaPage).locator(".safety-number").textContent())!.trim();
    const benNumber = (await panel(benPage).locator(".safety-number").textContent())!.trim();
    expect(annaNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(benNumber).toBe(annaNumber);
    await axe(annaPage, "verification panel");
    await shoot(annaPage, "verification");
  });

  it("marks the other person verified with their code; a wrong code is refused", async () => {
    const benCode = (await panel(benPage).locator(".verify-own-code").textContent())!.trim();
    expect(benCode).toMatch(new RegExp(`^momedo-verify:${ben.id}:\\d{30}$`));
    // A code of someone else (Anna's own) does not verify Ben.
    const annaCode = (await panel(annaPage).locator(".verify-own-code").textContent())!.trim();
    await panel(annaPage).locator("#verify-code").fill(annaCode);
    await panel(annaPage).getByRole("button", { name: "Als bestätigt markieren" }).click();
    await expect.poll(() => panel(annaPage).getByRole("alert").textContent(), { timeout: 5_000 }).toContain("passt nicht");
    expect(await panel(annaPage).locator(".verify-personal").textContent()).toBe("Noch nicht von dir bestätigt.");

    await panel(annaPage).locator("#verify-code").fill(benCode);
    await panel(annaPage).getByRole("button", { name: "Als bestätigt markieren" }).click();
    await expect.poll(() => panel(annaPage).locator(".verify-personal").textContent(), { timeout: 5_000 }).toBe("Von dir bestätigt.");
    await closePanel(annaPage);
    await expect.poll(() => badge(annaPage).getAttribute("data-status"), { timeout: 5_000 }).toBe("verified");
    expect(await badge(annaPage).textContent()).toContain("Von dir bestätigt");
    // Kept (sealed) in the store: still verified after a reload.
    await annaPage.reload();
    await annaPage.locator(".chat-row").first().click();
    await expect.poll(() => badge(annaPage).getAttribute("data-status"), { timeout: 20_000 }).toBe("verified");
    await closePanel(benPage);
  });

  it("lists this browser's device and the same person's CLI device, and removes the CLI one after a confirmation", async () => {
    await benPage.getByRole("button", { name: "Geräte" }).click();
    const dialog = benPage.locator("dialog.devices-dialog[open]");
    const rows = dialog.locator(".device-row");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    expect(await rows.filter({ hasText: "Dieser Browser" }).count()).toBe(1);
    const cli = rows.filter({ hasNotText: "Dieser Browser" });
    const device = (await cli.getAttribute("data-device"))!;
    expect(device).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    await axe(benPage, "devices screen");
    await cli.getByRole("button", { name: `Gerät ${device} entfernen` }).click();
    await expect.poll(() => cli.textContent()).toContain("wirklich entfernen");
    await axe(benPage, "devices screen (confirmation)");
    await shoot(benPage, "devices");
    await cli.getByRole("button", { name: "Ja, entfernen" }).click();
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(1);
    expect(await dialog.getByRole("status").textContent()).toContain(`Gerät ${device} ist entfernt`);
    await dialog.getByRole("button", { name: "Schließen" }).click();
    // The removed device is refused by the server.
    await expect(momedo(`${home}/ben-cli`, "devices")).rejects.toThrow();
  });

  it("turns the verified mark into a plain warning when the verified person's keys change", async () => {
    await write(benPage, "Mein altes Gerät ist entfernt.");
    await expect.poll(() => badge(annaPage).getAttribute("data-status"), { timeout: 20_000 }).toBe("changed");
    expect(await badge(annaPage).textContent()).toContain("Schlüssel geändert");
    await openPanel(annaPage);
    expect(await panel(annaPage).getByRole("alert").textContent()).toContain(`Der Schlüssel von ${ben.name} hat sich geändert`);
    expect(await panel(annaPage).locator(".verify-facts").textContent()).toContain("Geräte in dieser Unterhaltung: 1");
    await axe(annaPage, "verification panel (key changed)");
    await shoot(annaPage, "verification-changed");
    // Both still see one and the same (new) number.
    await openPanel(benPage);
    expect((await panel(benPage).locator(".safety-number").textContent())!.trim()).toBe((await panel(annaPage).locator(".safety-number").textContent())!.trim());
    await closePanel(annaPage);
    await closePanel(benPage);
  });

  it("links an un-enrolled browser as a device of a CLI person: code and QR here, `momedo approve-link CODE` there, then the chats with their history", async () => {
    await momedo(`${home}/cem`, "enroll", cem.invite);
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Person suchen").fill("Cem");
    await annaPage.getByRole("button", { name: `Schreiben an ${cem.name}`, exact: true }).click();
    await write(annaPage, "Hallo Cem, kommst du morgen?");
    for (let i = 0; i < 40; i++) {
      if ((await momedo(`${home}/cem`, "receive")).stdout.includes("Hallo Cem")) break;
      await new Promise((r) => setTimeout(r, 250));
    }

    const page = await newPage();
    await page.goto(`${url}/`);
    await page.getByRole("button", { name: "Dieses Gerät mit meinem Konto verbinden" }).click();
    await expect.poll(() => page.locator(".link-code").count(), { timeout: 10_000 }).toBe(1);
    const code = (await page.locator(".link-code").textContent())!.trim();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}-[0-9A-HJKMNP-TV-Z]{16}$/);
    expect(await page.locator(".link-device svg.qr").count()).toBe(1);
    await axe(page, "link this device");
    await shoot(page, "link-device");

    await momedo(`${home}/cem`, "approve-link", code);
    await expect.poll(() => page.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${cem.name}!`);
    const row = page.locator(".chat-row").filter({ hasText: anna.name });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Hallo Cem, kommst du morgen?");
    // The linked browser writes as Cem; Anna gets it in the same chat.
    await row.click();
    await write(page, "Ja, vom neuen Gerät aus.");
    linked = page;
    await annaPage.locator(".chat-row").filter({ hasText: cem.name }).click();
    await expect.poll(() => annaPage.locator(".timeline .msg .text").allTextContents(), { timeout: 20_000 }).toContain("Ja, vom neuen Gerät aus.");
    // The CLI device sees two devices of Cem now.
    const devices = await momedo(`${home}/cem`, "devices");
    expect(devices.lines.at(-1)).toEqual({ count: 2 });
  });

  it("a browser approves another browser of the same person: the code typed in the devices screen, the chats with their history arrive", async () => {
    // Cem's linked browser (above) now approves one more browser of Cem, as a phone would a desktop.
    const cemPage = linked!;
    const page = await newPage();
    await page.goto(`${url}/`);
    await page.getByRole("button", { name: "Dieses Gerät mit meinem Konto verbinden" }).click();
    await expect.poll(() => page.locator(".link-code").count(), { timeout: 10_000 }).toBe(1);
    const code = (await page.locator(".link-code").textContent())!.trim();

    await cemPage.getByRole("button", { name: "Geräte" }).click();
    const dialog = cemPage.locator("dialog.devices-dialog[open]");
    await dialog.getByLabel("Code vom neuen Gerät").fill("KEIN-CODE");
    await dialog.getByRole("button", { name: "Verbinden", exact: true }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain("kein Code zum Verbinden");
    await axe(cemPage, "devices screen with approving");
    await dialog.getByLabel("Code vom neuen Gerät").fill(code);
    await dialog.getByRole("button", { name: "Verbinden", exact: true }).click();
    await expect.poll(() => dialog.getByRole("status").last().textContent(), { timeout: 60_000 }).toMatch(/^Gerät [0-9A-Z]{8} ist verbunden: \d+ Unterhaltungen, \d+ Nachrichten übertragen\.$/);
    await expect.poll(() => page.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${cem.name}!`);
    const row = page.locator(".chat-row").filter({ hasText: anna.name });
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Ja, vom neuen Gerät aus.");
    await expect.poll(() => dialog.locator(".device-row").count(), { timeout: 10_000 }).toBe(3);
    expect((await momedo(`${home}/cem`, "devices")).lines.at(-1)).toEqual({ count: 3 });
  });

  it("broke no Content-Security-Policy rule and threw no script error", () => {
    expect(problems.flat()).toEqual([]);
  });
});
