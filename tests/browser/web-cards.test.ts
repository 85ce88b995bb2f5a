// A bot's card in the web app, in real Chromium against a real server process: a bot (org-signed
// bot mark, run in-process with the Bot SDK) posts an approval card into a group with two browser
// people and a CLI person. The person allowed to act gets the form and buttons, the other one
// only the card; "Ablehnen" without its reason is refused locally and sends nothing; with it,
// the action goes out (shown as being sent), the bot hears it from that person and decides, and
// both browsers show the outcome and no more buttons. axe-core finds no WCAG 2.1 A/AA violation.
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Bot } from "@momedo/bot";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { admin, freePort, momedo, startServer, tempDir, type Line, type ServerProcess } from "../e2e/harness.js";
import { axeViolations, DESKTOP, hasChromium, launchBrowser, PHONE, screenshotDir, addPerson, type Person, watchedProfile } from "./browser.js";

const SCREENSHOTS = screenshotDir(tempDir("web-cards-screenshots"));
const built = existsSync(join(WEB_APP_DIR, "index.html"));


describe.skipIf(!hasChromium || !built)("web app: a bot's card in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-cards-data");
  const home = tempDir("web-cards-home");
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let bot: Bot;
  let anna: Person;
  let ben: Person;
  let cem: Person;
  let annaPage: Page;
  let benPage: Page;
  let group = "";
  let cardId = "";
  /** Anna's frames to the server wait here while `holding` (to see the card while an action is in flight). */
  let holding = false;
  const held: (() => void)[] = [];
  const heard: { from: string; action: string; values: Record<string, string> }[] = [];
  const refused: string[] = [];
  const problems: string[][] = [];

  const addUser = (name: string) => addPerson(data, name);

  const profile = (viewport: { width: number; height: number }) => watchedProfile(browser, url, viewport, problems);

  const chatRow = (page: Page, name: string) => page.locator(".chat-row").filter({ has: page.locator(".chat-name", { hasText: name }) });
  const openChat = async (page: Page, name: string) => {
    await expect.poll(() => chatRow(page, name).count(), { timeout: 30_000 }).toBe(1);
    await chatRow(page, name).click();
    await expect.poll(() => page.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(name);
  };
  const axe = async (page: Page, screen: string) => expect(await axeViolations(page, url), `axe on ${screen}`).toEqual([]);
  const cardLines = (lines: Line[]) => lines.filter((l) => (l.type === "card_action" || l.type === "card_outcome") && l.target === cardId);

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    server = await startServer(data, await freePort(), ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    ben = await addUser("Ben Brandt");
    cem = await addUser("Cem Celik");
    await momedo(`${home}/cem`, "enroll", cem.invite);

    const added = await admin(data, "add-bot", "--name", "Freigabe-Bot");
    bot = await Bot.enroll(`${home}/bot`, String(added.invite));
    bot.onCardAction(async ({ from, action, values, decide }) => {
      heard.push({ from, action, values });
      await decide(action === "approve" ? "approved" : "rejected", action === "approve" ? "Freigegeben von Anna Albers" : `Abgelehnt von Anna Albers: ${values.reason}`);
    });
    bot.onRefused(({ reason }) => void refused.push(reason));
    await bot.start();

    browser = await launchBrowser();
    const annaProfile = await profile(DESKTOP);
    annaPage = annaProfile.page;
    await annaProfile.context.routeWebSocket(/\/api\/v1\/ws/, (ws) => {
      const toServer = ws.connectToServer();
      ws.onMessage((frame) => (holding ? held.push(() => toServer.send(frame)) : toServer.send(frame)));
      toServer.onMessage((frame) => ws.send(frame));
    });
    benPage = (await profile(PHONE)).page;
    for (const [page, person] of [[annaPage, anna], [benPage, ben]] as const) {
      await page.goto(person.invite);
      await page.locator(".welcome", { hasText: `Willkommen, ${person.name}!` }).waitFor({ timeout: 30_000 });
    }

    group = String((await momedo(`${home}/cem`, "group", "create", "Haustechnik", "--members", `${anna.id},${ben.id},${bot.id}`)).lines.at(-1)!.id);
    await bot.idle();
    const card = await bot.sendCard(group, {
      title: "Auftrag zur Freigabe",
      fields: [
        { label: "Aufgabe", value: "Glühbirne im Flur 2. OG tauschen" },
        { label: "Angefragt von", value: cem.name },
      ],
      inputs: [{ id: "reason", label: "Grund", kind: "text" }],
      actions: [
        { id: "approve", label: "Freigeben", style: "primary" },
        { id: "reject", label: "Ablehnen", style: "danger", needs: ["reason"] },
      ],
      allowed: [anna.id],
    });
    cardId = card.id;
  });

  afterAll(async () => {
    await bot?.stop().catch(() => undefined);
    await browser?.close();
    await server?.stop();
  });

  it("shows the card with its title, fields and buttons to the person allowed to act; the chats list says it is a card", async () => {
    await expect.poll(() => chatRow(annaPage, "Haustechnik").locator(".chat-last").textContent(), { timeout: 30_000 }).toBe(
      "Freigabe-Bot: Karte: Auftrag zur Freigabe",
    );
    await openChat(annaPage, "Haustechnik");
    const card = annaPage.locator(`.msg[data-id="${cardId}"] .card`);
    await expect.poll(() => card.getByRole("heading").textContent(), { timeout: 20_000 }).toBe("Auftrag zur Freigabe");
    expect(await annaPage.getByRole("region", { name: "Auftrag zur Freigabe" }).count()).toBe(1);
    expect(await card.locator("dt").allTextContents()).toEqual(["Aufgabe", "Angefragt von"]);
    expect(await card.locator("dd").allTextContents()).toEqual(["Glühbirne im Flur 2. OG tauschen", cem.name]);
    expect(await card.getByRole("button").allTextContents()).toEqual(["Freigeben", "Ablehnen"]);
    const reason = card.getByLabel("Grund");
    expect(await reason.getAttribute("aria-describedby")).toBeTruthy();
    expect(await card.locator(`#${await reason.getAttribute("aria-describedby")}`).textContent()).toBe("Nötig für: Ablehnen");
    await axe(annaPage, "timeline with an open card");
  });

  it("shows the card without form and buttons to a member the card does not name", async () => {
    await openChat(benPage, "Haustechnik");
    const card = benPage.locator(`.msg[data-id="${cardId}"] .card`);
    await expect.poll(() => card.getByRole("heading").textContent(), { timeout: 20_000 }).toBe("Auftrag zur Freigabe");
    expect(await card.locator(".card-note").textContent()).toBe(`Hier entscheidet: ${anna.name}`);
    expect(await card.getByRole("button").count()).toBe(0);
    expect(await card.getByRole("textbox").count()).toBe(0);
    await axe(benPage, "timeline with a card (phone, not allowed to act)");
  });

  it("refuses 'Ablehnen' without a reason locally, tied to the field, and sends nothing", async () => {
    const card = annaPage.locator(`.msg[data-id="${cardId}"] .card`);
    await card.getByRole("button", { name: "Ablehnen" }).click();
    const problem = card.locator(".problem");
    await expect.poll(() => problem.textContent(), { timeout: 5_000 }).toBe("Bitte „Grund“ ausfüllen – nötig für „Ablehnen“. Nichts wurde gesendet.");
    const reason = card.getByLabel("Grund");
    expect((await reason.getAttribute("aria-describedby"))?.split(" ")).toContain(await problem.getAttribute("id"));
    expect(await reason.getAttribute("aria-invalid")).toBe("true");
    await expect.poll(() => reason.evaluate((el) => el === document.activeElement), { timeout: 5_000 }).toBe(true);
    await axe(annaPage, "card with a local refusal");
    await annaPage.emulateMedia({ colorScheme: "dark" });
    await axe(annaPage, "card with a local refusal (dark)");
    await annaPage.emulateMedia({ colorScheme: "light" });
    await annaPage.setViewportSize(PHONE);
    await card.scrollIntoViewIfNeeded();
    await annaPage.screenshot({ path: join(SCREENSHOTS, "web-card-refused-phone.png") });
    await annaPage.setViewportSize(DESKTOP);
    // Nothing reached the chat: the CLI member sees no action on the card, the bot heard nothing.
    await new Promise((r) => setTimeout(r, 1500));
    await bot.idle();
    expect(cardLines((await momedo(`${home}/cem`, "receive")).lines)).toEqual([]);
    expect(heard).toEqual([]);
    expect(refused).toEqual([]);
  });

  it("sends the action with its reason (shown as being sent), the bot hears it from Anna and decides; everyone sees the outcome", async () => {
    const card = annaPage.locator(`.msg[data-id="${cardId}"] .card`);
    await card.getByLabel("Grund").fill("Leiter fehlt");
    expect(await card.locator(".problem").count()).toBe(0);
    holding = true;
    await card.getByRole("button", { name: "Ablehnen" }).click();
    await expect.poll(() => card.getByRole("status").textContent(), { timeout: 5_000 }).toBe("„Ablehnen“ wird gesendet …");
    expect(await card.getByRole("button", { name: "Freigeben" }).isDisabled()).toBe(true);
    expect(await card.getByRole("button", { name: "Ablehnen" }).isDisabled()).toBe(true);
    holding = false;
    for (const send of held.splice(0)) send();

    await expect.poll(() => heard, { timeout: 30_000 }).toEqual([{ from: anna.id, action: "reject", values: { reason: "Leiter fehlt" } }]);
    const outcome = "Ergebnis: Abgelehnt von Anna Albers: Leiter fehlt";
    await expect.poll(() => card.locator(".card-outcome").textContent(), { timeout: 30_000 }).toBe(outcome);
    expect(await card.getByRole("button").count()).toBe(0);
    expect(await card.getByRole("textbox").count()).toBe(0);
    expect(await card.locator(".card-answers li").allTextContents()).toEqual(["Du: Ablehnen (Grund: Leiter fehlt)"]);
    await axe(annaPage, "card with its outcome");
    await annaPage.setViewportSize(PHONE);
    await card.scrollIntoViewIfNeeded();
    await annaPage.screenshot({ path: join(SCREENSHOTS, "web-card-decided-phone.png") });
    await annaPage.setViewportSize(DESKTOP);

    const benCard = benPage.locator(`.msg[data-id="${cardId}"] .card`);
    await expect.poll(() => benCard.locator(".card-outcome").textContent(), { timeout: 30_000 }).toBe(outcome);
    expect(await benCard.locator(".card-answers li").allTextContents()).toEqual([`${anna.name}: Ablehnen (Grund: Leiter fehlt)`]);
    expect(await benCard.locator(".card-note").count()).toBe(0);

    // The CLI member sees the same action (from Anna) and outcome; the bot decided exactly once.
    const lines = cardLines((await momedo(`${home}/cem`, "receive")).lines);
    expect(lines.map((l) => [l.type, l.from])).toEqual([
      ["card_action", anna.id],
      ["card_outcome", bot.id],
    ]);
    expect(refused).toEqual([]);
  });

  it("broke no Content-Security-Policy and threw no script error", () => {
    expect(problems.flat()).toEqual([]);
  });
});
