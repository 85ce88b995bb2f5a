// Headless Chromium for browser tests: playwright-core drives the system's Chromium (CI installs
// it at /usr/bin/chromium), and every page is watched for what must never happen.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { admin } from "../e2e/harness.js";

export const CHROMIUM = process.env.MOMEDO_CHROMIUM ?? "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/**
 * Collects Content-Security-Policy violations and script errors of a page. Chromium reports a
 * violation as a console message; the page's own `securitypolicyviolation` event is reported too,
 * through a script the browser injects before the page's own (not subject to the page's CSP).
 */
export async function watchPage(page: Page): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (load|execute|apply|evaluate|connect|frame)|CSP violation/i.test(text)) {
      problems.push(`${message.type()}: ${text}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
    });
  });
  return problems;
}

const AXE_SCRIPT = fileURLToPath(new URL("../../node_modules/axe-core/axe.min.js", import.meta.url));
const AXE_PATH = "/__test/axe.js";

/**
 * Serves axe-core to the context's pages from the app's own origin (`origin` + /__test/axe.js),
 * so the scan runs under the page's strict CSP unchanged.
 */
export async function serveAxe(context: BrowserContext, origin: string): Promise<void> {
  await context.route(`${origin}${AXE_PATH}`, (route) => route.fulfill({ path: AXE_SCRIPT, contentType: "text/javascript" }));
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: { target: string[] }[];
}

/** The WCAG 2.1 A and AA violations axe-core finds on the page (after serveAxe). */
export async function axeViolations(page: Page, origin: string): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ url: `${origin}${AXE_PATH}` });
  return page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (c: unknown, o: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}

/** Where a test writes its screenshots: docs/screenshots with MOMEDO_SCREENSHOTS=1 (to review and commit), else a temporary folder. */
export function screenshotDir(fallback: string): string {
  return process.env.MOMEDO_SCREENSHOTS ? fileURLToPath(new URL("../../docs/screenshots/", import.meta.url)) : fallback;
}

/** A person the admin added (`momedo-server admin add-user`), with their invite link. */
export interface Person {
  id: string;
  name: string;
  invite: string;
}

export async function addPerson(data: string, name: string): Promise<Person> {
  const line = await admin(data, "add-user", "--name", name);
  return { id: String(line.id), name, invite: String(line.invite) };
}

/**
 * A browser profile of its own (its own IndexedDB) at `viewport`, watched for CSP violations
 * and script errors (collected into `problems`); axe is served from the app's origin `url`.
 */
export async function watchedProfile(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number },
  problems: string[][],
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  await serveAxe(context, url);
  const page = await context.newPage();
  problems.push(await watchPage(page));
  return { context, page };
}
