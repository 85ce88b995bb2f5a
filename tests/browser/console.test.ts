// The admin console in a real browser against a real server: first-run set-up, a class list
// imported through the file picker, handouts downloaded and read like a phone reads them, a
// pupil enrolled from one of them; the console's CSP is strict and the page never breaks it.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { totpCode } from "../../packages/server/src/admin/account.js";
import { freePort, momedo, run, SERVER_BIN, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { readHandoutPdf } from "../helpers/readHandouts.js";
import { DESKTOP, hasChromium, launchBrowser, PHONE, watchPage, CHROMIUM } from "./browser.js";

// MOMEDO_SCREENSHOTS=1 writes the pictures into docs/screenshots (to review and commit them);
// otherwise they go to a temporary folder, so a test run leaves the working tree as it was.
const SCREENSHOTS = process.env.MOMEDO_SCREENSHOTS
  ? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url))
  : tempDir("console-screenshots");
const PASSWORD = "Sonnenblume im Lehrerzimmer";
const CLASS = "7b";
const FIRST_NAMES = ["Ada", "Ben", "Cem", "Dana", "Emil", "Fatma", "Greta", "Hugo", "Ida", "Jan", "Kira", "Luis", "Mia", "Nils"];
const PUPILS = Array.from({ length: 28 }, (_, i) => `${FIRST_NAMES[i % 14]} ${i < 14 ? "Albers" : "Brandt"}`);
const UNKNOWN_ROLE_NAME = "Herr Hausmeister";
// Line numbers as a spreadsheet shows them: the header is line 1.
const EMPTY_NAME_LINE = 9;
const UNKNOWN_ROLE_LINE = 22;

const HOUR = 3_600_000;

/**
 * Two school days of figures, as the server writes them once a minute into stats_hourly (the
 * test cannot wait for real traffic to fill 48 hours). Returns the hours that carry messages.
 */
function seedHistory(data: string): number {
  const db = new Database(join(data, "momedo.sqlite"));
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  const insert = db.prepare("INSERT OR REPLACE INTO stats_hourly (hour, messages, peak_connected) VALUES (?, ?, ?)");
  let busy = 0;
  for (let i = 1; i < 48; i++) {
    const hour = new Date(now - i * HOUR).getUTCHours();
    const school = hour >= 6 && hour <= 14;
    if (school) busy++;
    insert.run(now - i * HOUR, school ? 120 + ((i * 37) % 180) : 0, school ? 18 + ((i * 7) % 11) : (i % 3));
  }
  db.close();
  return busy;
}

/** 30 rows: 28 pupils of 7b, one without a name, one with a role nobody knows. */
function classList(): string {
  const rows = PUPILS.map((name) => `${name};${CLASS};Schüler`);
  rows.splice(EMPTY_NAME_LINE - 2, 0, `;${CLASS};Schüler`);
  rows.splice(UNKNOWN_ROLE_LINE - 2, 0, `${UNKNOWN_ROLE_NAME};${CLASS};Hausmeister`);
  return ["Name;Klasse;Rolle", ...rows].join("\r\n") + "\r\n";
}

if (!hasChromium) console.warn(`console.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);

describe.skipIf(!hasChromium)("admin console in a browser", () => {
  const data = tempDir("console-data");
  const home = tempDir("console-home");
  let server: ServerProcess;
  let setupUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let importedIds: string[] = [];
  let secondPupil = "";

  const listUsers = async () => {
    const result = await run(SERVER_BIN, ["--data", data, "--json", "admin", "list-users"]);
    expect(result.code).toBe(0);
    return result.lines.filter((l) => "id" in l) as { id: string; name: string; role: string; class: string }[];
  };

  /** Opens a section through the navigation; each page's heading begins with its link's name. */
  const open = async (section: string) => {
    await page.getByRole("navigation").getByRole("link", { name: section, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: new RegExp(`^${section}`) }).waitFor();
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startServer(data, await freePort());
    const start = JSON.parse(server.output().split("\n").find((l) => l.startsWith("{"))!) as { setupUrl: string | null };
    expect(start.setupUrl).toMatch(/\/admin\/#setup=[0-9A-Z]+$/);
    setupUrl = start.setupUrl!;
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: DESKTOP, acceptDownloads: true, locale: "de-DE", timezoneId: "Europe/Berlin" });
    page = await context.newPage();
    problems = await watchPage(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("serves the console with a strict Content-Security-Policy", async () => {
    const response = await page.goto(setupUrl);
    const csp = response!.headers()["content-security-policy"] ?? "";
    const directives = new Map(
      csp
        .split(";")
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name!, values.join(" ")]),
    );
    expect(directives.get("default-src")).toBe("'none'");
    expect(directives.get("script-src")).toBe("'self'");
    expect(directives.get("style-src")).toBe("'self'");
    expect(directives.get("connect-src")).toBe("'self'");
    expect(directives.get("frame-ancestors")).toBe("'none'");
    expect(directives.get("base-uri")).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  it("sets up the server from the first-run link and lands on the overview", async () => {
    await page.getByRole("heading", { name: "momedo einrichten" }).waitFor();
    // The set-up code leaves the address bar at once.
    expect(page.url()).not.toContain("setup=");
    await shoot("setup");
    await page.getByLabel("Name der Organisation").fill("Gesamtschule Nord");
    await page.getByLabel("Passwort für die Verwaltung").fill("zu kurz");
    await page.getByLabel("Passwort wiederholen").fill("zu kurz");
    await page.getByRole("button", { name: "Einrichten und anmelden" }).click();
    await expect.poll(() => page.getByText("mindestens 10 Zeichen").first().isVisible()).toBe(true);
    await page.getByLabel("Passwort für die Verwaltung").fill(PASSWORD);
    await page.getByLabel("Passwort wiederholen").fill(PASSWORD);
    await page.getByRole("button", { name: "Einrichten und anmelden" }).click();
    await page.getByRole("heading", { name: "Übersicht", level: 1 }).waitFor();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("Eingerichtet");
    expect(await page.locator("#org").textContent()).toBe("Gesamtschule Nord");
    expect(await page.getByRole("img", { name: /Nachrichten pro Stunde/ }).count()).toBe(1);
  });

  it("imports a class list of 30 rows: shows the 2 bad rows by line, imports the 28 others", async () => {
    await open("Personen");
    await page.getByText("Klassenliste importieren (CSV)").click();
    const file = join(home, "klasse-7b.csv");
    writeFileSync(file, classList());
    await page.getByLabel("CSV-Datei auswählen").setInputFiles(file);

    const bad = page.locator("table.preview tr.row-error");
    await bad.first().waitFor();
    expect(await bad.count()).toBe(2);
    expect(await bad.evaluateAll((rows) => rows.map((r) => r.getAttribute("data-line")))).toEqual([String(EMPTY_NAME_LINE), String(UNKNOWN_ROLE_LINE)]);
    expect(await bad.nth(0).locator("th").textContent()).toBe(String(EMPTY_NAME_LINE));
    expect(await bad.nth(1).textContent()).toContain("Hausmeister");
    const errors = await page.locator(".error-lines").textContent();
    expect(errors).toContain(`Zeile ${EMPTY_NAME_LINE}:`);
    expect(errors).toContain(`Zeile ${UNKNOWN_ROLE_LINE}:`);
    expect(await page.locator("table.preview caption").textContent()).toContain("28 Zeilen in Ordnung, 2 mit Fehlern");
    await page.locator("table.preview").scrollIntoViewIfNeeded();
    await shoot("import-preview", { scrollTo: ".import-result" });

    await page.getByRole("button", { name: "28 Personen importieren" }).click();
    await page.getByRole("heading", { name: "Importiert: 28 Personen." }).waitFor();
    expect(await page.locator(".imported-list li").count()).toBe(28);
    await page.getByText(`Ausgelassen wegen Fehlern: Zeile ${EMPTY_NAME_LINE}, ${UNKNOWN_ROLE_LINE}.`).waitFor();

    const people = await listUsers();
    expect(people).toHaveLength(28);
    expect(people.map((p) => p.name).sort()).toEqual([...PUPILS].sort());
    expect(people.every((p) => p.class === CLASS && p.role === "pupil")).toBe(true);
    expect(people.some((p) => p.name === UNKNOWN_ROLE_NAME || p.name === "")).toBe(false);
    importedIds = people.map((p) => p.id);
  });

  it("downloads the handouts of 7b: 28 pages, each with a QR code that enrolls its pupil", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: `Handouts (PDF) für ${CLASS}` }).first().click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.pdf$/);
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const { pages } = await readHandoutPdf(bytes);
    expect(pages).toHaveLength(28);
    const invites = pages.map((p) => p.qr);
    for (const invite of invites) expect(invite).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/join#c=[0-9A-Z]+&fp=[A-Za-z0-9_-]{43}$/);
    expect(new Set(invites).size).toBe(28);
    // Each page names one pupil of the list, and every pupil has a page.
    const named = pages.map((p) => PUPILS.filter((name) => p.text.includes(name)));
    expect(named.every((n) => n.length === 1)).toBe(true);

    const enrolled = await momedo(join(home, "pupil-1"), "enroll", invites[0]!);
    const who = enrolled.lines.at(-1) as { id: string };
    expect(importedIds).toContain(who.id);
    expect(pages[0]!.text).toContain(who.id);
    // A second pupil, and a group of the two, so the console has something to show.
    secondPupil = ((await momedo(join(home, "pupil-2"), "enroll", invites[1]!)).lines.at(-1) as { id: string }).id;
    await momedo(join(home, "pupil-1"), "group", "create", "Lerngruppe Mathe", "--members", secondPupil);

    await open("Personen");
    const row = page.locator(`tr[data-id="${who.id}"]`);
    await expect.poll(() => row.locator(".device").count()).toBe(1);
    expect(await row.locator(".fingerprint code").textContent()).toMatch(/^([0-9A-F]{4} ){7}[0-9A-F]{4}$/);
  }, 60_000);

  it("revokes a device and makes a new invite, asking first", async () => {
    const row = page.locator(`tr[data-id="${secondPupil}"]`);
    const revoke = row.getByRole("button", { name: /^Gerät .* sperren$/ });
    await revoke.click();
    const dialog = page.getByRole("dialog", { name: "Gerät sperren?" });
    await dialog.waitFor();
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    // Escape cancels and gives the focus back to the button.
    expect(await revoke.evaluate((b) => b === document.activeElement)).toBe(true);
    await revoke.click();
    await dialog.getByRole("button", { name: "Gerät sperren" }).click();
    await expect.poll(() => row.locator(".device.revoked").count()).toBe(1);
    const person = (await listUsers()).find((p) => p.id === secondPupil) as unknown as { devices: { revoked: boolean }[] };
    expect(person.devices.map((d) => d.revoked)).toEqual([true]);

    await row.getByRole("button", { name: /^Neue Einladung/ }).click();
    const invite = page.getByLabel("Einladungs-Link");
    await invite.waitFor();
    expect(await invite.inputValue()).toMatch(/\/join#c=[0-9A-Z]+&fp=/);
  });

  it("adds a teacher by hand and plans a channel for the class with her as owner", async () => {
    await page.getByText("Eine Person hinzufügen").click();
    await page.getByLabel("Name", { exact: true }).fill("Frau Weber");
    await page.getByLabel("Rolle").selectOption("staff");
    await page.getByRole("button", { name: "Hinzufügen und Einladung erstellen" }).click();
    await page.getByRole("heading", { name: "Einladung für Frau Weber" }).waitFor();
    expect(await page.getByLabel("Einladungs-Link").inputValue()).toMatch(/\/join#c=[0-9A-Z]+&fp=/);
    const teacher = (await listUsers()).find((p) => p.name === "Frau Weber")!;
    expect(teacher.role).toBe("staff");

    await open("Gruppen");
    await page.getByText("Gruppe oder Kanal planen").click();
    await page.getByLabel("Name", { exact: true }).fill("Klasse 7b – Infos");
    await page.getByLabel("Inhaber/in", { exact: true }).selectOption(teacher.id);
    await page.getByLabel("Mitglieder: eine Klasse").selectOption(CLASS);
    await page.getByRole("button", { name: "Planen" }).click();
    const row = page.getByRole("row", { name: /Klasse 7b – Infos/ });
    await row.waitFor();
    expect(await row.textContent()).toContain("geplant – entsteht, sobald Frau Weber sich anmeldet");
    expect(await row.textContent()).toContain("Dazu kommen 28 Personen");
  });

  it("switches on the second factor and asks for it at the next login", async () => {
    await open("Sicherheit");
    await page.getByRole("button", { name: "Zweiten Faktor einschalten" }).click();
    const secret = (await page.locator(".secret").textContent())!.replace(/\s/g, "");
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.getByRole("img", { name: "QR-Code für die Authenticator-App" }).isVisible()).toBe(true);
    await shoot("security-totp", { scrollTo: "section[aria-labelledby=totp-heading]" });
    await page.getByLabel("Code aus der App").fill(totpCode(secret));
    await page.getByRole("button", { name: "Bestätigen und einschalten" }).click();
    await expect.poll(() => page.getByRole("status").textContent()).toContain("eingeschaltet");

    await page.getByRole("button", { name: "Abmelden" }).click();
    await page.getByRole("heading", { name: "Anmelden" }).waitFor();
    await page.getByLabel("Passwort", { exact: true }).fill(PASSWORD);
    await page.getByLabel("Code aus der Authenticator-App").fill("000000");
    await page.getByRole("button", { name: "Anmelden" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("Passwort oder Code ist falsch");
    await page.getByLabel("Code aus der Authenticator-App").fill(totpCode(secret));
    await page.getByRole("button", { name: "Anmelden" }).click();
    await page.getByRole("heading", { name: "Übersicht", level: 1 }).waitFor();
  });

  it("switches to English and keeps the choice", async () => {
    await page.getByRole("button", { name: "English" }).click();
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    await page.reload();
    await page.getByRole("heading", { name: "Overview", level: 1 }).waitFor();
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    await page.getByRole("button", { name: "Deutsch" }).click();
    await page.getByRole("heading", { name: "Übersicht", level: 1 }).waitFor();
  });

  it("draws two days of figures as bars and a line, with the figures as text", async () => {
    const busyHours = seedHistory(data);
    await open("Übersicht");
    // The current hour may carry the test's own traffic once the server has written its minute.
    await expect.poll(() => page.locator("svg.chart rect.bar").count()).toBeGreaterThanOrEqual(busyHours);
    expect(await page.locator("svg.chart rect.bar").count()).toBeLessThanOrEqual(busyHours + 1);
    expect(await page.locator("svg.chart polyline.line").count()).toBe(1);
    const chart = page.getByRole("img", { name: /Nachrichten pro Stunde/ });
    expect(await chart.getAttribute("aria-labelledby")).toBeTruthy();
    await page.getByText("Werte als Tabelle").click();
    expect(await page.locator(".figures-table tbody tr").count()).toBe(48);
  });

  it("takes screenshots of the main screens at phone and desktop size", async () => {
    for (const section of [
      ["overview", "Übersicht"],
      ["people", "Personen"],
      ["groups", "Gruppen"],
      ["policy", "Regeln"],
      ["audit", "Protokoll"],
      ["security", "Sicherheit"],
    ] as const) {
      await open(section[1]);
      await shoot(section[0]);
    }
    await page.getByRole("button", { name: "Abmelden" }).click();
    await page.getByRole("heading", { name: "Anmelden" }).waitFor();
    await shoot("login");
  });

  it("logged no Content-Security-Policy violation or script error", async () => {
    expect(problems).toEqual([]);
    // The watcher itself sees a violation when there is one.
    const probe = await context.newPage();
    const seen = await watchPage(probe);
    await probe.goto(new URL("/admin/", server.url).href);
    await probe.evaluate(() => document.body.setAttribute("style", "color: red"));
    await expect.poll(() => seen.length).toBeGreaterThan(0);
    await probe.close();
  });

  /** One screenshot at desktop size and one at phone size, of what a person sees first. */
  async function shoot(name: string, options: { scrollTo?: string } = {}) {
    // No hover effect from the last click in the picture.
    await page.mouse.move(0, 0);
    for (const [size, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
      await page.setViewportSize(viewport);
      if (options.scrollTo) await page.locator(options.scrollTo).evaluate((e) => e.scrollIntoView({ block: "start" }));
      else await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(SCREENSHOTS, `admin-${name}-${size}.png`) });
    }
    await page.setViewportSize(DESKTOP);
  }
});
