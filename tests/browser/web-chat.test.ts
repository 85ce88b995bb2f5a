// The messenger in real Chromium against a real server process: two browser profiles enroll from
// their invite links and chat, one chats with a CLI user, a browser that lost the server gets
// what was sent meanwhile and sends what it wrote meanwhile, a channel member gets a note instead
// of a composer; axe-core finds no WCAG 2.1 A/AA violation on any main screen, the CSP is strict
// and never broken. Prints the time to interactive and the time to open and scroll 10,000 messages.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_CSP, WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { aliases, noNodeBuiltins } from "../../packages/web/vite.config.js";
import { freePort, momedo, startServer, tempDir, texts, type ServerProcess } from "../e2e/harness.js";
import { CHROMIUM, DESKTOP, hasChromium, launchBrowser, PHONE, axeViolations, screenshotDir, addPerson, type Person, watchedProfile } from "./browser.js";

// MOMEDO_SCREENSHOTS=1 writes the pictures into docs/screenshots (to review and commit them);
// otherwise they go to a temporary folder, so a test run leaves the working tree as it was.
const SCREENSHOTS = screenshotDir(tempDir("web-screenshots"));
const STORE = fileURLToPath(new URL("../../packages/web/src/store/idbStore.ts", import.meta.url));
const SEEDED = 10_000;
const built = existsSync(join(WEB_APP_DIR, "index.html"));



if (!hasChromium) console.warn(`web-chat.test.ts skipped: no Chromium at ${CHROMIUM} (install it or set MOMEDO_CHROMIUM)`);
else if (!built) console.warn("web-chat.test.ts skipped: packages/web/dist is not built (npm run build)");

/**
 * A page script that stores `count` messages of a chat in the app's IndexedDB store in one
 * IdbStore.apply, bundled from the app's own store module (served from the app's origin, so the
 * page's CSP stays as it is).
 */
async function seedScript(): Promise<Buffer> {
  const dir = tempDir("web-seed");
  const entry = join(dir, "seed.ts");
  writeFileSync(
    entry,
    `import { IdbStore } from ${JSON.stringify(STORE)};
(globalThis as any).momedoSeed = async (chat: string, people: string[], count: number, endAt: number) => {
  const store = await IdbStore.open();
  const step = Math.floor((10 * 86_400_000) / count);
  const messages = Array.from({ length: count }, (_, i) => {
    const at = endAt - (count - i) * step;
    return { id: "SEED" + String(i).padStart(12, "0"), chat, from: people[i % 2], fromDevice: "SEED", type: "text" as const,
      text: "Nachricht " + (i + 1) + " von " + count, sentAt: at, receivedAt: at, outgoing: false };
  });
  await store.apply({ messages });
  store.close();
};
`,
  );
  const out = join(dir, "out");
  await build({
    configFile: false,
    logLevel: "error",
    plugins: [noNodeBuiltins],
    resolve: { alias: aliases },
    build: { outDir: out, emptyOutDir: true, target: "es2022", lib: { entry, formats: ["es"], fileName: () => "seed.js" } },
  });
  const { readFileSync } = await import("node:fs");
  return readFileSync(join(out, "seed.js"));
}

async function waitFor<T>(probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!hasChromium || !built)("web app: chatting in Chromium", { timeout: 120_000 }, () => {
  const data = tempDir("web-chat-data");
  const home = tempDir("web-chat-home");
  let port: number;
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let anna: Person;
  let ben: Person;
  let cem: Person;
  let benContext: BrowserContext;
  let annaPage: Page;
  let benPage: Page;
  const problems: string[][] = [];
  const figures: string[] = [];

  const addUser = (name: string) => addPerson(data, name);

  /** A browser profile of its own (its own IndexedDB), watched for CSP violations; axe is served from the app's origin. */
  const profile = (viewport: { width: number; height: number }) => watchedProfile(browser, url, viewport, problems);

  /** Navigation start to the chats list on screen (the app marks it), in ms. */
  const chatsShown = async (page: Page) => {
    await page.waitForFunction(() => performance.getEntriesByName("momedo:chats-shown").length > 0);
    return page.evaluate(() => performance.getEntriesByName("momedo:chats-shown")[0]!.startTime);
  };

  const status = (page: Page) => page.locator(".connection").textContent();

  const openChat = async (page: Page, name: string) => {
    await chatRow(page, name).click();
    await expect.poll(() => page.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(name);
  };

  /** The chats list's row of a chat by its name (not a row whose last message merely mentions it). */
  const chatRow = (page: Page, name: string) => page.locator(".chat-row").filter({ has: page.locator(".chat-name", { hasText: name }) });

  const write = async (page: Page, text: string) => {
    const box = page.locator("#composer-text");
    await box.fill(text);
    await box.press("Enter");
  };

  const bubbles = (page: Page) => page.locator(".timeline .msg .text").allTextContents();

  const axe = async (page: Page, screen: string) => {
    const violations = await axeViolations(page, url);
    expect(violations, `axe on ${screen}`).toEqual([]);
  };

  /** The screen at phone and desktop size. */
  const shoot = async (page: Page, name: string) => {
    const before = page.viewportSize() ?? DESKTOP;
    for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      await page.waitForTimeout(150);
      await page.screenshot({ path: join(SCREENSHOTS, `web-${name}-${size}.png`) });
    }
    await page.setViewportSize(before);
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    port = await freePort();
    server = await startServer(data, port, ["--no-tls"]);
    url = server.url.replace(/\/+$/, "");
    anna = await addUser("Anna Albers");
    ben = await addUser("Ben Brandt");
    cem = await addUser("Cem Celik");
    await momedo(`${home}/cem`, "enroll", cem.invite);
    browser = await launchBrowser();
    ({ page: annaPage } = await profile(DESKTOP));
    ({ context: benContext, page: benPage } = await profile(PHONE));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (figures.length > 0) console.log(`web app figures:\n  ${figures.join("\n  ")}`);
  });

  it("says how to get an invite when this browser has no device, under the strict CSP", async () => {
    const response = await annaPage.goto(`${url}/`);
    expect(response?.headers()["content-security-policy"]).toBe(WEB_APP_CSP);
    expect(WEB_APP_CSP).toMatch(/script-src 'self';/);
    expect(WEB_APP_CSP).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    await expect.poll(() => annaPage.getByRole("status").textContent(), { timeout: 10_000 }).toContain("noch nicht eingerichtet");
    expect(await annaPage.locator("main").textContent()).toContain("QR-Code");
    await axe(annaPage, "entrance");
    await shoot(annaPage, "entrance");
  });

  it("refuses a broken invite in words, in the chosen language", async () => {
    await annaPage.goto(`${url}/join#c=${"A".repeat(16)}`);
    await expect.poll(() => annaPage.getByRole("status").textContent(), { timeout: 10_000 }).toContain("Diese Einladung ist ungültig");
    await annaPage.getByRole("button", { name: /English/ }).click();
    await expect.poll(() => annaPage.getByRole("status").textContent(), { timeout: 10_000 }).toContain("This invite is not valid");
    await annaPage.getByRole("button", { name: /Deutsch/ }).click();
  });

  it("enrolls two browser profiles from their invite links: Willkommen, NAME", async () => {
    await annaPage.goto("about:blank");
    await annaPage.goto(anna.invite);
    await expect.poll(() => annaPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${anna.name}!`);
    expect(new URL(annaPage.url()).hash).toBe(""); // the invite's code is gone from the address bar
    await benPage.goto(ben.invite);
    await expect.poll(() => benPage.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${ben.name}!`);
    await expect.poll(() => status(annaPage), { timeout: 10_000 }).toBe("Online");
    await axe(annaPage, "chats list (empty, welcome)");
    await shoot(annaPage, "welcome");
  });

  it("says plainly that a used invite is used", async () => {
    const { context, page } = await profile(PHONE);
    await page.goto(anna.invite);
    await expect.poll(() => page.getByRole("status").textContent(), { timeout: 10_000 }).toContain("bereits verwendet");
    await context.close();
  });

  it("measures the time to interactive on loopback (navigation start to the chats list)", async () => {
    await annaPage.goto(`${url}/`);
    const shown = await chatsShown(annaPage);
    expect(shown).toBeGreaterThan(0);
    figures.push(`time to interactive (navigation start → chats list): ${shown.toFixed(0)} ms`);
  });

  it("two browsers chat: a person found by name, Enter sends, Shift+Enter breaks the line, reactions", async () => {
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Person suchen").fill("ben");
    await axe(annaPage, "new conversation");
    await shoot(annaPage, "new-conversation");
    await annaPage.getByRole("button", { name: `Schreiben an ${ben.name}`, exact: true }).click();
    await expect.poll(() => annaPage.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(ben.name);
    await write(annaPage, "Hallo Ben, denkst du an den Elternabend?");
    // Ben's browser is online: "gesendet" may already have turned into "zugestellt".
    await expect.poll(() => annaPage.locator(".msg.own .state").last().textContent(), { timeout: 20_000 }).toMatch(/gesendet|zugestellt/);

    // Ben: the chat is in the list with Anna's name, the message and one unread.
    const row = benPage.locator(".chat-row").first();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("Hallo Ben");
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain(anna.name);
    await expect.poll(() => row.textContent(), { timeout: 10_000 }).toContain("1 ungelesen");
    await row.click();
    await expect.poll(() => bubbles(benPage), { timeout: 10_000 }).toEqual(["Hallo Ben, denkst du an den Elternabend?"]);
    const box = benPage.locator("#composer-text");
    await box.fill("Ja!");
    await box.press("Shift+Enter");
    await box.pressSequentially("Bis heute Abend");
    await box.press("Enter");
    await expect.poll(() => bubbles(annaPage), { timeout: 20_000 }).toEqual(["Hallo Ben, denkst du an den Elternabend?", "Ja!\nBis heute Abend"]);
    await expect.poll(() => annaPage.locator(".msg.own .state").first().textContent(), { timeout: 20_000 }).toContain("zugestellt");

    // Ben reacts to Anna's message; Anna sees it under the message.
    await benPage.locator(".msg").first().getByRole("button", { name: "Reagieren" }).click();
    await benPage.getByRole("button", { name: "Mit 👍 reagieren" }).click();
    await expect.poll(() => annaPage.locator(".msg").first().locator(".reactions").getAttribute("aria-label"), { timeout: 20_000 }).toBe(
      "Reaktionen: 👍 1",
    );
    await axe(annaPage, "timeline");
    await axe(benPage, "timeline (phone)");
    await shoot(annaPage, "chat");
  });

  it("chats with a CLI user", async () => {
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Person suchen").fill("Cem");
    await annaPage.getByRole("button", { name: `Schreiben an ${cem.name}`, exact: true }).click();
    await write(annaPage, "Hallo Cem, hier ist der Browser.");
    const got = await waitFor(
      async () => texts((await momedo(`${home}/cem`, "receive")).lines),
      (t) => t.length > 0,
    );
    expect(got).toContain("Hallo Cem, hier ist der Browser.");
    await momedo(`${home}/cem`, "send", anna.id, "Hallo zurück von der Kommandozeile");
    await expect.poll(() => bubbles(annaPage), { timeout: 20_000 }).toContain("Hallo zurück von der Kommandozeile");
    // Screen readers hear it: the live region says who wrote what.
    await expect.poll(() => annaPage.locator("[aria-live]").textContent(), { timeout: 10_000 }).toBe(`Neue Nachricht von ${cem.name}: Hallo zurück von der Kommandozeile`);
    // Latest activity first.
    await expect.poll(() => annaPage.locator(".chat-row").allTextContents(), { timeout: 10_000 }).toEqual([
      expect.stringContaining(cem.name),
      expect.stringContaining(ben.name),
    ]);
  });

  it("works with the keyboard alone: skip link first, a visible focus, Enter opens and sends", async () => {
    await annaPage.goto(`${url}/`);
    await chatsShown(annaPage);
    const focused = () =>
      annaPage.evaluate(() => {
        const element = document.activeElement as HTMLElement;
        return { text: element.textContent ?? "", id: element.id, outline: getComputedStyle(element).outlineStyle };
      });
    const tabTo = async (found: (f: { text: string; id: string }) => boolean) => {
      for (let i = 0; i < 25 && !found(await focused()); i++) await annaPage.keyboard.press("Tab");
      const f = await focused();
      expect(found(f), JSON.stringify(f)).toBe(true);
      expect(f.outline).toBe("solid");
    };
    await annaPage.keyboard.press("Tab");
    expect((await focused()).text).toBe("Zum Inhalt springen");
    await tabTo((f) => f.text.includes(ben.name));
    await annaPage.keyboard.press("Enter");
    await expect.poll(async () => (await focused()).id, { timeout: 10_000 }).toBe("chat-title");
    await tabTo((f) => f.id === "composer-text");
    await annaPage.keyboard.type("Nur mit der Tastatur geschrieben");
    await annaPage.keyboard.press("Enter");
    await expect.poll(() => bubbles(benPage), { timeout: 20_000 }).toContain("Nur mit der Tastatur geschrieben");
  });

  it("a browser without the server: what was sent meanwhile arrives, what it wrote goes out after reconnect", async () => {
    await openChat(annaPage, ben.name);
    await benPage.getByRole("button", { name: "Zurück" }).click();
    await server.stop();
    await expect.poll(() => status(benPage), { timeout: 15_000 }).not.toBe("Online");
    await openChat(benPage, anna.name);
    await write(benPage, "Geschrieben im Funkloch");
    await expect.poll(() => status(benPage), { timeout: 10_000 }).toContain("1 Nachricht wartet");
    await expect.poll(() => benPage.locator(".msg.pending .state").textContent(), { timeout: 10_000 }).toContain("wird gesendet");

    server = await startServer(data, port, ["--no-tls"]);
    await expect.poll(() => bubbles(annaPage), { timeout: 45_000 }).toContain("Geschrieben im Funkloch");
    await expect.poll(() => status(benPage), { timeout: 10_000 }).toBe("Online");
    await expect.poll(() => benPage.locator(".msg.pending").count(), { timeout: 10_000 }).toBe(0);

    // Ben's profile loses the network (the page stays open); Anna and Cem write meanwhile, Ben
    // writes too; once the network is back, both ways arrive.
    await benContext.setOffline(true);
    await expect.poll(() => status(benPage), { timeout: 15_000 }).not.toBe("Online");
    await write(annaPage, "Während du weg warst");
    // Sent (the server has it), not delivered: Ben has not fetched it.
    await expect.poll(() => annaPage.locator(".msg.own .state").last().textContent(), { timeout: 20_000 }).toContain("gesendet");
    await momedo(`${home}/cem`, "send", ben.id, "Grüße von Cem");
    await write(benPage, "Bin gleich wieder da");
    await expect.poll(() => status(benPage), { timeout: 10_000 }).toContain("1 Nachricht wartet");
    expect(await bubbles(benPage)).not.toContain("Während du weg warst");
    await benContext.setOffline(false);
    await expect.poll(() => bubbles(benPage), { timeout: 30_000 }).toContain("Während du weg warst");
    await expect.poll(() => annaPage.locator(".msg.own .state").last().textContent(), { timeout: 20_000 }).toContain("zugestellt");
    await expect.poll(() => bubbles(annaPage), { timeout: 30_000 }).toContain("Bin gleich wieder da");
    await benPage.getByRole("button", { name: "Zurück" }).click();
    await expect.poll(() => benPage.locator(".chat-row").allTextContents(), { timeout: 30_000 }).toEqual(
      expect.arrayContaining([expect.stringContaining("Grüße von Cem"), expect.stringContaining("Bin gleich wieder da")]),
    );
  });

  it("a channel member cannot post: a note instead of the composer; the admin posts", async () => {
    await annaPage.getByRole("button", { name: "Neue Unterhaltung" }).click();
    await annaPage.getByLabel("Name", { exact: true }).fill("Elternbrief 7b");
    await annaPage.getByLabel(/Kanal – nur Admins/).check();
    await annaPage.getByRole("group", { name: /Mitglieder/ }).getByLabel(ben.name).check();
    await annaPage.getByRole("button", { name: "Erstellen" }).click();
    await expect.poll(() => annaPage.locator("#chat-title").textContent(), { timeout: 30_000 }).toBe("Elternbrief 7b");
    await write(annaPage, "Am Freitag fällt die 6. Stunde aus.");
    await expect.poll(() => annaPage.locator(".msg.own .state").last().textContent(), { timeout: 20_000 }).toMatch(/gesendet|zugestellt/);

    await openChat(benPage, "Elternbrief 7b");
    await expect.poll(() => bubbles(benPage), { timeout: 20_000 }).toEqual(["Am Freitag fällt die 6. Stunde aus."]);
    await expect.poll(() => benPage.getByRole("note").textContent(), { timeout: 10_000 }).toContain("In diesem Kanal schreiben nur Admins");
    expect(await benPage.locator("#composer-text").count()).toBe(0);
    await expect.poll(() => benPage.locator(".msg .sender").first().textContent(), { timeout: 10_000 }).toBe(anna.name);
    await benPage.getByRole("button", { name: "Mitglieder (2)" }).click();
    await expect.poll(() => benPage.locator("#chat-members li").allTextContents(), { timeout: 10_000 }).toEqual(
      expect.arrayContaining([`${anna.name}Inhaber:in`, "DuMitglied"]),
    );
    await axe(benPage, "channel (member)");
    await shoot(benPage, "channel");
  });

  it("finds a message in the local history", async () => {
    await benPage.getByRole("button", { name: "Zurück" }).click();
    await benPage.getByRole("button", { name: "Suchen" }).click();
    await benPage.getByLabel("Suchbegriff").fill("elternabend");
    await benPage.getByLabel("Suchbegriff").press("Enter");
    await expect.poll(() => benPage.locator("#search-status").textContent(), { timeout: 10_000 }).toBe("1 Treffer");
    await axe(benPage, "search");
    await shoot(benPage, "search");
    await benPage.locator(".chat-row").first().click();
    await expect.poll(() => benPage.locator("#chat-title").textContent(), { timeout: 10_000 }).toBe(anna.name);
  });

  it("switches to English everywhere", async () => {
    await annaPage.getByRole("button", { name: /English/ }).click();
    await expect.poll(() => annaPage.getByRole("heading", { name: "Conversations" }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => annaPage.getAttribute("html", "lang"), { timeout: 10_000 }).toBe("en");
    await axe(annaPage, "chats list (English)");
    await annaPage.getByRole("button", { name: /Deutsch/ }).click();
  });

  it("offers notifications for this device and asks the browser only on a click", async () => {
    await annaPage.setViewportSize(DESKTOP);
    const state = annaPage.locator("#notifications-state");
    await expect.poll(() => state.textContent(), { timeout: 10_000 }).toBe("Benachrichtigungen sind aus.");
    const button = annaPage.getByRole("button", { name: "Benachrichtigungen einschalten" });
    expect(await button.count()).toBe(1);
    expect(await annaPage.evaluate(() => Notification.permission)).toBe("default");
    await axe(annaPage, "chats list with notifications");
  });

  it("keeps its contrast in dark mode", async () => {
    await annaPage.emulateMedia({ colorScheme: "dark" });
    await openChat(annaPage, ben.name);
    await axe(annaPage, "timeline (dark)");
    await shoot(annaPage, "chat-dark");
    await annaPage.emulateMedia({ colorScheme: "light" });
  });

  it("opens a chat of 10,000 messages and scrolls to its top (only a window is in the page)", async () => {
    const seed = await seedScript();
    await benContext.route(`${url}/__test/seed.js`, (route) => route.fulfill({ body: seed, contentType: "text/javascript" }));
    await benPage.setViewportSize(DESKTOP);
    await benPage.addScriptTag({ url: `${url}/__test/seed.js`, type: "module" });
    const chat = await chatRow(benPage, anna.name).getAttribute("data-chat");
    const firstReal = await benPage.evaluate(() => Date.now() - 3_600_000);
    await benPage.evaluate(
      ([c, people, n, end]) => (globalThis as unknown as { momedoSeed: (...a: unknown[]) => Promise<void> }).momedoSeed(c, people, n, end),
      [chat, [anna.id, ben.id], SEEDED, firstReal] as const,
    );
    await benPage.goto(`${url}/`);
    const tti = await chatsShown(benPage);
    figures.push(`time to interactive with ${SEEDED} more messages stored: ${tti.toFixed(0)} ms`);

    const started = Date.now();
    await chatRow(benPage, anna.name).click();
    await benPage.locator(".msg .text", { hasText: "Während du weg warst" }).waitFor();
    const opened = Date.now() - started;
    const inPage = await benPage.locator(".timeline .msg").count();
    expect(inPage).toBeLessThan(200);
    // Opening marks the chat's 5,000 unread messages read (in the background, after they show).
    await expect.poll(() => chatRow(benPage, anna.name).locator(".unread").count(), { timeout: 30_000 }).toBe(0);
    const read = Date.now() - started;

    const scrolling = Date.now();
    await benPage.locator(".scroller").evaluate((el) => (el.scrollTop = 0));
    await benPage.locator(".msg .text", { hasText: `Nachricht 1 von ${SEEDED}` }).waitFor({ timeout: 20_000 });
    const scrolled = Date.now() - scrolling;
    // Ten days ago: the day separator names the date (today's says "Heute").
    expect(await benPage.locator(".day h3").first().textContent()).toMatch(/^\w+, \d+\. \w+ \d{4}$/u);
    expect(await benPage.locator(".timeline .msg").count()).toBeLessThan(200);
    figures.push(
      `open a chat of ${SEEDED} messages: ${opened} ms to show its end (${inPage} messages in the page), ${read} ms until ${SEEDED / 2} unread are marked read; scroll to its top: ${scrolled} ms`,
    );
    // Scrolling back down by wheel moves the window along: later messages come into the page.
    const box = (await benPage.locator(".scroller").boundingBox())!;
    await benPage.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 6; i++) {
      await benPage.mouse.wheel(0, 2000);
      await benPage.waitForTimeout(100);
    }
    await expect.poll(() => benPage.locator(".timeline .msg .text").first().textContent(), { timeout: 10_000 }).not.toBe(`Nachricht 1 von ${SEEDED}`);
    await shoot(benPage, "long-chat");

    // A search hit in the middle opens the chat there, the hit focused and in view.
    await benPage.getByRole("button", { name: "Suchen" }).click();
    const searching = Date.now();
    await benPage.getByLabel("Suchbegriff").fill(`Nachricht 5000 von`);
    await benPage.getByLabel("Suchbegriff").press("Enter");
    await expect.poll(() => benPage.locator("#search-status").textContent(), { timeout: 20_000 }).toBe("1 Treffer");
    const searched = Date.now() - searching;
    const jumping = Date.now();
    await benPage.locator(".found .chat-row").first().click();
    await expect.poll(() => benPage.evaluate(() => document.activeElement?.textContent ?? ""), { timeout: 10_000 }).toContain(`Nachricht 5000 von ${SEEDED}`);
    const jumped = Date.now() - jumping;
    const inView = await benPage.locator(".msg.hit").evaluate((hit) => {
      const box = hit.getBoundingClientRect();
      const view = hit.closest(".scroller")!.getBoundingClientRect();
      return box.top >= view.top && box.bottom <= view.bottom;
    });
    expect(inView).toBe(true);
    figures.push(`search the local history (over ${SEEDED} messages): ${searched} ms; open the chat at the hit: ${jumped} ms`);
  });

  it("logged no CSP violation or script error on any page", () => {
    expect(problems.flat()).toEqual([]);
  });
});
