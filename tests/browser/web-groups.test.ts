// Managing a channel in the web app, in real Chromium against a real server process: the owner
// adds a CLI user found by name, promotes a browser member to admin (whose composer then
// appears), a member leaves and is gone from the list, the last owner is told to hand over
// first, a plain member sees no add or remove controls; axe-core finds nothing on the panel.
// Before that, a person chooses the display name colleagues see, on the welcome after enrolling.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { freePort, momedo, startServer, tempDir, type Line, type ServerProcess } from "../e2e/harness.js";
import { axeViolations, DESKTOP, hasChromium, launchBrowser, PHONE, addPerson, type Person, watchedProfile } from "./browser.js";

const built = existsSync(join(WEB_APP_DIR, "index.html"));


describe.skipIf(!hasChromium || !built)("web app: group management in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-groups-data");
  const home = tempDir("web-groups-home");
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let anna: Person;
  let ben: Person;
  let cem: Person;
  let annaPage: Page;
  let benPage: Page;
  let channel = "";
  const problems: string[][] = [];

  const addUser = (name: string) => addPerson(data, name);

  const profile = async (viewport: { width: number; height: number }) => (await watchedProfile(browser, url, viewport, problems)).page;

  const chatRow = (page: Page, name: string) => page.locator(".chat-row").filter({ has: page.locator(".chat-name", { hasText: name }) });
  const openChat = async (page: Page, name: string) => {
    await expect.poll(() => chatRow(page, name).count(), { timeout: 30_000 }).toBe(1);
    await chatRow(page, name).click();
    await expect.poll(() => page.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(name);
  };
  const openMembers = async (page: Page) => {
    await page.locator(".members-toggle").click();
    await expect.poll(() => page.locator("#chat-members").count(), { timeout: 10_000 }).toBe(1);
  };
  const reopenMembers = async (page: Page) => {
    await page.locator(".members-toggle").click();
    await openMembers(page);
  };
  const memberRows = (page: Page) => page.locator("#chat-members ul.members > li > span:first-child").allTextContents();
  const axe = async (page: Page, screen: string) => expect(await axeViolations(page, url), `axe on ${screen}`).toEqual([]);

  beforeAll(async () => {
    server = await startServer(data, await freePort(), ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    ben = await addUser("Ben Brandt");
    cem = await addUser("Cem Celik");
    await momedo(`${home}/cem`, "enroll", cem.invite);
    browser = await launchBrowser();
    annaPage = await profile(DESKTOP);
    benPage = await profile(PHONE);
    for (const [page, person] of [[annaPage, anna], [benPage, ben]] as const) {
      await page.goto(person.invite);
      await page.locator(".welcome", { hasText: `Willkommen, ${person.name}!` }).waitFor({ timeout: 30_000 });
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("a new person chooses the display name colleagues see, on the welcome", async () => {
    const welcome = benPage.locator(".welcome");
    await expect.poll(() => welcome.textContent(), { timeout: 10_000 }).toContain(`So sehen dich die anderen: ${ben.name}`);
    await welcome.getByRole("button", { name: "ändern" }).click();
    await benPage.getByLabel("Dein Name").fill("Ben Brandt-Yilmaz");
    await axe(benPage, "welcome (choosing a name)");
    await welcome.getByRole("button", { name: "Speichern" }).click();
    await expect.poll(() => welcome.textContent(), { timeout: 10_000 }).toContain("So sehen dich die anderen: Ben Brandt-Yilmaz");
    ben.name = "Ben Brandt-Yilmaz";
    const people = (await momedo(`${home}/cem`, "people")).lines;
    expect(people.find((p) => p.user === ben.id)?.name).toBe(ben.name);
    // Colleagues see it when their app next loads the directory.
    await annaPage.reload();
    await expect.poll(() => annaPage.locator(".connection").textContent(), { timeout: 20_000 }).toBe("Online");
  });

  it("the owner adds a person found by name; the CLI person gets the channel", async () => {
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Name", { exact: true }).fill("Elternrat");
    await annaPage.getByLabel(/Kanal – nur Admins/).check();
    await annaPage.getByRole("group", { name: /Mitglieder/ }).getByLabel(ben.name).check();
    await annaPage.getByRole("button", { name: "Erstellen" }).click();
    await expect.poll(() => annaPage.locator("#chat-title").textContent(), { timeout: 30_000 }).toBe("Elternrat");
    const box = annaPage.locator("#composer-text");
    await box.fill("Willkommen im Elternrat");
    await box.press("Enter");
    await openMembers(annaPage);
    await expect.poll(() => memberRows(annaPage), { timeout: 10_000 }).toEqual(expect.arrayContaining(["Du", ben.name]));
    await annaPage.getByRole("button", { name: "Person hinzufügen" }).click();
    await annaPage.getByLabel("Person suchen (Name)").fill("cem");
    await expect.poll(() => annaPage.locator("#members-add li").allTextContents(), { timeout: 10_000 }).toEqual([`${cem.name} hinzufügen`]);
    await axe(annaPage, "members panel (owner, adding)");
    await annaPage.getByRole("button", { name: `${cem.name} hinzufügen` }).click();
    await expect.poll(() => memberRows(annaPage), { timeout: 30_000 }).toContain(cem.name);
    await expect.poll(() => annaPage.getByRole("status").filter({ hasText: "ist jetzt dabei" }).count(), { timeout: 10_000 }).toBe(1);

    await momedo(`${home}/cem`, "receive");
    const groups = (await momedo(`${home}/cem`, "group", "list")).lines.filter((l: Line) => "group" in l);
    const found = groups.find((g) => g.name === "Elternrat");
    expect(found?.kind).toBe("channel");
    channel = String(found?.group);
    const info = (await momedo(`${home}/cem`, "group", "info", channel)).lines;
    expect(info.find((l) => l.user === ben.id)?.name).toBe(ben.name);
  });

  it("a member sees no add, remove or role controls, and no composer in a channel", async () => {
    await openChat(benPage, "Elternrat");
    await expect.poll(() => benPage.getByRole("note").textContent(), { timeout: 10_000 }).toContain("nur Admins");
    await openMembers(benPage);
    await expect.poll(() => memberRows(benPage), { timeout: 10_000 }).toEqual(expect.arrayContaining([anna.name, "Du", cem.name]));
    expect(await benPage.getByRole("button", { name: "Person hinzufügen" }).count()).toBe(0);
    expect(await benPage.locator("#chat-members").getByRole("button", { name: /entfernen|machen/ }).count()).toBe(0);
    expect(await benPage.getByRole("button", { name: "Unterhaltung verlassen" }).count()).toBe(1);
    await axe(benPage, "members panel (member)");
  });

  it("the owner makes a member admin: their composer appears at once", async () => {
    expect(await benPage.locator("#composer-text").count()).toBe(0);
    await annaPage.getByRole("button", { name: `${ben.name} zum Admin machen` }).click();
    await expect.poll(() => annaPage.locator("#chat-members li").filter({ hasText: ben.name }).locator(".role").textContent(), { timeout: 10_000 }).toBe("Admin");
    // Ben's open chat follows the role notice without reopening anything.
    await expect.poll(() => benPage.locator("#composer-text").count(), { timeout: 10_000 }).toBe(1);
    await reopenMembers(benPage);
    expect(await benPage.getByRole("button", { name: "Person hinzufügen" }).count()).toBe(1);
    const info = (await momedo(`${home}/cem`, "group", "info", channel)).lines;
    expect(info.find((l) => l.user === ben.id)?.role).toBe("admin");
  });

  it("a member who leaves is gone from the list; the last owner is told to hand over first", async () => {
    await momedo(`${home}/cem`, "group", "leave", channel);
    await reopenMembers(annaPage);
    await expect.poll(() => memberRows(annaPage), { timeout: 10_000 }).not.toContain(cem.name);

    await annaPage.getByRole("button", { name: "Unterhaltung verlassen" }).click();
    await expect.poll(() => annaPage.getByRole("alert").textContent(), { timeout: 10_000 }).toContain("einzige Inhaber:in");
    await annaPage.getByRole("button", { name: "Abbrechen" }).click();

    await benPage.getByRole("button", { name: "Unterhaltung verlassen" }).click();
    await benPage.getByRole("button", { name: "Ja" }).click();
    await expect.poll(() => benPage.locator("#chat-title").count(), { timeout: 10_000 }).toBe(0);
    await reopenMembers(annaPage);
    await expect.poll(() => memberRows(annaPage), { timeout: 10_000 }).toEqual(["Du"]);
    await axe(annaPage, "members panel (owner)");
  });

  it("the owner removes a person after confirming", async () => {
    await annaPage.getByRole("button", { name: "Person hinzufügen" }).click();
    await annaPage.getByLabel("Person suchen (Name)").fill("ben");
    await annaPage.getByRole("button", { name: `${ben.name} hinzufügen` }).click();
    await expect.poll(() => memberRows(annaPage), { timeout: 30_000 }).toContain(ben.name);
    await annaPage.getByRole("button", { name: `${ben.name} entfernen` }).click();
    await annaPage.getByRole("group", { name: `Entfernen von ${ben.name} bestätigen` }).getByRole("button", { name: "Ja" }).click();
    await expect.poll(() => memberRows(annaPage), { timeout: 30_000 }).toEqual(["Du"]);
    expect(problems.flat()).toEqual([]);
  });
});
