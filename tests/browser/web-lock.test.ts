// The optional app lock in real Chromium against a real server process: a PIN is set (typed
// twice, checked), the app opens locked with nothing of the conversations in the page, a wrong PIN
// is refused and counted, it locks again when it goes to the background, from the fifth wrong PIN
// it waits (a reload does not help), it can be turned off with the PIN, and whoever forgot the PIN
// can reset the browser. axe-core checks the lock screen and the settings.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { admin, freePort, momedo, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { axeViolations, CHROMIUM, DESKTOP, hasChromium, launchBrowser, PHONE, screenshotDir, serveAxe, watchPage } from "./browser.js";

const SCREENSHOTS = screenshotDir(tempDir("web-lock-screenshots"));
const built = existsSync(join(WEB_APP_DIR, "index.html"));
if (!hasChromium) console.warn(`web-lock.test.ts skipped: no Chromium at ${CHROMIUM}`);
else if (!built) console.warn("web-lock.test.ts skipped: packages/web/dist is not built (npm run build)");

describe.skipIf(!hasChromium || !built)("web app: the app lock", { timeout: 180_000 }, () => {
  const data = tempDir("web-lock-data");
  const home = tempDir("web-lock-home");
  let url: string;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  const axe = async (screen: string) => expect(await axeViolations(page, url), `axe on ${screen}`).toEqual([]);
  const lockHeading = () => page.getByRole("heading", { name: "momedo ist gesperrt" });
  const unlock = async (pin: string) => {
    await page.getByLabel("PIN", { exact: true }).fill(pin);
    await page.getByRole("button", { name: "Entsperren" }).click();
  };
  const setPin = async (pin: string, again: string) => {
    await page.getByLabel("Neue PIN (4 bis 8 Ziffern)").fill(pin);
    await page.getByLabel("PIN wiederholen").fill(again);
    await page.getByRole("button", { name: "App-Sperre einschalten" }).click();
  };
  /** What the browser does when the app goes to the background and comes back. */
  const visibility = (state: "hidden" | "visible") =>
    page.evaluate((s) => {
      Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
      document.dispatchEvent(new Event("visibilitychange"));
    }, state);

  beforeAll(async () => {
    server = await startServer(data, await freePort(), ["--no-tls"]);
    url = server.url;
    const anna = await admin(data, "add-user", "--name", "Anna Albers");
    const cem = await admin(data, "add-user", "--name", "Cem Celik");
    await momedo(`${home}/cem`, "enroll", String(cem.invite));
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: PHONE });
    await serveAxe(context, url);
    page = await context.newPage();
    problems = await watchPage(page);
    await page.goto(String(anna.invite));
    await page.locator(".welcome", { hasText: "Willkommen, Anna Albers!" }).waitFor({ timeout: 30_000 });
    await momedo(`${home}/cem`, "send", String(anna.id), "Vertraulich: Noten der 7b");
    await page.locator(".chat-row", { hasText: "Vertraulich" }).waitFor({ timeout: 30_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("sets a PIN only when it has 4 to 8 digits and was typed the same twice", async () => {
    await expect.poll(() => page.locator("#app-lock-state").textContent()).toBe("App-Sperre ist aus.");
    await page.getByRole("button", { name: "PIN festlegen" }).click();
    await setPin("12", "12");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Die PIN hat 4 bis 8 Ziffern.");
    await setPin("2468", "1357");
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Die beiden PINs sind verschieden. Bitte noch einmal.");
    await axe("app lock settings");
    await page.getByLabel("Sperren, wenn momedo im Hintergrund ist").selectOption({ label: "sofort" });
    await setPin("2468", "2468");
    await expect.poll(() => page.locator("#app-lock-state").textContent(), { timeout: 10_000 }).toBe("App-Sperre ist an: momedo fragt nach deiner PIN.");
  });

  it("opens locked: nothing of the conversations is in the page; a wrong PIN is refused", async () => {
    await page.reload();
    await expect.poll(() => lockHeading().count(), { timeout: 15_000 }).toBe(1);
    expect(await page.content()).not.toContain("Vertraulich");
    await axe("lock screen");
    for (const [size, viewport] of [["phone", PHONE], ["desktop", DESKTOP]] as const) {
      await page.setViewportSize(viewport);
      await page.screenshot({ path: join(SCREENSHOTS, `web-lock-${size}.png`) });
    }
    await page.setViewportSize(PHONE);
    await unlock("1111");
    await expect.poll(() => page.getByRole("alert").textContent(), { timeout: 10_000 }).toBe("Falsche PIN (1. Fehlversuch).");
    expect(await page.content()).not.toContain("Vertraulich");
    await unlock("2468");
    await expect.poll(() => page.locator(".chat-row").first().textContent(), { timeout: 15_000 }).toContain("Vertraulich");
  });

  it("locks again when it goes to the background (chosen: at once)", async () => {
    await visibility("hidden");
    await expect.poll(() => lockHeading().count(), { timeout: 5_000 }).toBe(1);
    await visibility("visible");
    expect(await page.content()).not.toContain("Vertraulich");
    await unlock("2468");
    await expect.poll(() => page.locator(".chat-row").count(), { timeout: 15_000 }).toBe(1);
    // The failures before the right PIN are forgiven: the count starts again.
    await page.getByRole("button", { name: "Jetzt sperren" }).click();
    await unlock("0000");
    await expect.poll(() => page.getByRole("alert").textContent(), { timeout: 10_000 }).toBe("Falsche PIN (1. Fehlversuch).");
    await unlock("2468");
    await expect.poll(() => page.locator(".chat-row").count(), { timeout: 15_000 }).toBe(1);
  });

  it("turns off only with the PIN", async () => {
    await page.getByRole("button", { name: "App-Sperre ausschalten" }).click();
    await page.getByLabel("Deine PIN").fill("1234");
    await page.getByRole("button", { name: "Ausschalten" }).click();
    await expect.poll(() => page.getByRole("alert").textContent(), { timeout: 10_000 }).toBe("Falsche PIN (1. Fehlversuch).");
    await page.getByLabel("Deine PIN").fill("2468");
    await page.getByRole("button", { name: "Ausschalten" }).click();
    await expect.poll(() => page.locator("#app-lock-state").textContent(), { timeout: 10_000 }).toBe("App-Sperre ist aus.");
    await page.reload();
    await expect.poll(() => page.locator(".chat-row").count(), { timeout: 15_000 }).toBe(1);
    expect(await lockHeading().count()).toBe(0);
  });

  it("waits after the fifth wrong PIN, also after a reload; a forgotten PIN resets the browser", async () => {
    await page.getByRole("button", { name: "PIN festlegen" }).click();
    await setPin("97531", "97531");
    await expect.poll(() => page.locator("#app-lock-state").textContent(), { timeout: 10_000 }).toContain("App-Sperre ist an");
    await page.reload();
    for (let i = 1; i <= 5; i++) {
      await expect.poll(() => page.getByLabel("PIN", { exact: true }).isEnabled(), { timeout: 10_000 }).toBe(true);
      await unlock(String(1000 + i));
      await expect.poll(() => page.getByRole("alert").textContent(), { timeout: 10_000 }).toContain(`Falsche PIN (${i}. Fehlversuch).`);
    }
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/Nächster Versuch in (30|29|28) Sekunden\./);
    expect(await page.getByLabel("PIN", { exact: true }).isDisabled()).toBe(true);
    await page.reload();
    await expect.poll(() => lockHeading().count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByLabel("PIN", { exact: true }).isDisabled()).toBe(true);
    await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/Nächster Versuch in \d+ Sekunden\./);

    await page.getByRole("button", { name: "PIN vergessen?" }).click();
    await axe("forgot PIN");
    await page.getByRole("button", { name: "Diesen Browser zurücksetzen" }).click();
    // The device's data is gone: the app asks for an invite, as in a new browser.
    await expect.poll(() => page.getByRole("status").first().textContent(), { timeout: 15_000 }).toContain("noch nicht eingerichtet");
    expect(await lockHeading().count()).toBe(0);
    // Also after a reload: the device's keys are gone, not merely hidden.
    await page.reload();
    await expect.poll(() => page.getByRole("status").first().textContent(), { timeout: 15_000 }).toContain("noch nicht eingerichtet");
    expect(problems).toEqual([]);
  });
});
