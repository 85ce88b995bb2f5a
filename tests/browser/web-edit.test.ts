// Replies, edits and deletions for everyone in real Chromium against a real server: a CLI member
// sets up a group with two browser profiles; a reply shows the message it answers, an edit shows
// the new text marked "bearbeitet" on both screens, a deletion "Nachricht gelöscht", and the CLI
// member's `receive --json` reports the edit and the deletion.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_APP_DIR } from "../../packages/server/src/http/webApp.js";
import { admin, freePort, momedo, startServer, tempDir, type ServerProcess } from "../e2e/harness.js";
import { CHROMIUM, DESKTOP, hasChromium, launchBrowser, PHONE, watchPage } from "./browser.js";

const built = existsSync(join(WEB_APP_DIR, "index.html"));
if (!hasChromium) console.warn(`web-edit.test.ts skipped: no Chromium at ${CHROMIUM}`);
else if (!built) console.warn("web-edit.test.ts skipped: packages/web/dist is not built (npm run build)");

describe.skipIf(!hasChromium || !built)("web app: replies, edits and deletions", { timeout: 180_000 }, () => {
  const data = tempDir("web-edit-data");
  const home = tempDir("web-edit-home");
  let server: ServerProcess;
  let browser: Browser;
  let anna: Page;
  let ben: Page;
  const people: Record<string, { id: string; invite: string }> = {};
  const problems: string[][] = [];
  const received: Record<string, unknown>[] = [];

  const page = async (viewport: { width: number; height: number }) => {
    const context = await browser.newContext({ viewport });
    const p = await context.newPage();
    problems.push(await watchPage(p));
    return p;
  };
  /** A message by its own text (not a reply that quotes it). */
  const message = (p: Page, text: string) => p.locator(".timeline .msg").filter({ has: p.locator(".text", { hasText: text }) });
  const receiveCem = async () => {
    received.push(...(await momedo(`${home}/cem`, "receive")).lines);
    return received;
  };
  const act = async (p: Page, text: string, action: string) => {
    await message(p, text).getByRole("button", { name: "Aktionen" }).click();
    await message(p, text).getByRole("button", { name: action }).click();
  };

  beforeAll(async () => {
    server = await startServer(data, await freePort(), ["--no-tls"]);
    for (const [key, name] of [["anna", "Anna Albers"], ["ben", "Ben Brandt"], ["cem", "Cem Celik"]] as const) {
      const line = await admin(data, "add-user", "--name", name);
      people[key] = { id: String(line.id), invite: String(line.invite) };
    }
    await momedo(`${home}/cem`, "enroll", people.cem!.invite);
    browser = await launchBrowser();
    anna = await page(DESKTOP);
    ben = await page(PHONE);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("replies, edits and deletes for everyone; a third member's CLI sees the edit and the deletion", async () => {
    for (const [p, name] of [[anna, "Anna Albers"], [ben, "Ben Brandt"]] as const) {
      await p.goto(people[name === "Anna Albers" ? "anna" : "ben"]!.invite);
      await expect.poll(() => p.locator(".welcome").textContent(), { timeout: 30_000 }).toContain(`Willkommen, ${name}!`);
    }
    const created = await momedo(`${home}/cem`, "group", "create", "Elternbeirat", "--members", `${people.anna!.id},${people.ben!.id}`);
    const group = String(created.lines.at(-1)?.id);
    expect(group).toMatch(/^g\./);
    await momedo(`${home}/cem`, "send", group, "Willkommen im Elternbeirat");
    for (const p of [anna, ben]) {
      const row = p.locator(".chat-row").filter({ hasText: "Elternbeirat" });
      await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
      await row.click();
      await expect.poll(() => p.locator(".timeline .msg .text").allTextContents(), { timeout: 20_000 }).toContain("Willkommen im Elternbeirat");
    }

    // Anna writes; Ben answers her message: both see the quote above the answer.
    const box = anna.locator("#composer-text");
    await box.fill("Treffen um 9 Uhr");
    await box.press("Enter");
    await expect.poll(() => message(ben, "Treffen um 9 Uhr").count(), { timeout: 20_000 }).toBe(1);
    const id = await message(anna, "Treffen um 9 Uhr").getAttribute("data-id");
    await act(ben, "Treffen um 9 Uhr", "Antworten");
    await ben.locator("#composer-text").fill("Passt mir");
    await ben.locator("#composer-text").press("Enter");
    for (const p of [anna, ben]) {
      const reply = p.locator(".timeline .msg").filter({ has: p.locator(".text", { hasText: "Passt mir" }) });
      await expect.poll(() => reply.locator(".quote").textContent(), { timeout: 20_000 }).toContain("Treffen um 9 Uhr");
    }
    // Ben gets no edit or delete on Anna's message, only a reply.
    await message(ben, "Willkommen im Elternbeirat").getByRole("button", { name: "Aktionen" }).click();
    expect(await message(ben, "Willkommen im Elternbeirat").getByRole("button", { name: "Bearbeiten" }).count()).toBe(0);
    expect(await message(ben, "Willkommen im Elternbeirat").getByRole("button", { name: "Für alle löschen" }).count()).toBe(0);
    await message(ben, "Willkommen im Elternbeirat").getByRole("button", { name: "Aktionen" }).click();

    // Anna edits it: the new text, marked "bearbeitet", on both screens; the quote follows.
    await act(anna, "Treffen um 9 Uhr", "Bearbeiten");
    await anna.getByLabel("Neuer Text").fill("Treffen um 10 Uhr");
    await anna.getByRole("button", { name: "Speichern" }).click();
    for (const p of [anna, ben]) {
      const edited = p.locator(`.timeline .msg[data-id="${id}"]`);
      await expect.poll(() => edited.locator(".text").textContent(), { timeout: 20_000 }).toBe("Treffen um 10 Uhr");
      expect(await edited.locator(".edited").textContent()).toContain("bearbeitet");
    }
    await expect
      .poll(async () => (await receiveCem()).find((l) => l.type === "edit" && l.target === id), { timeout: 30_000 })
      .toMatchObject({ from: people.anna!.id, text: "Treffen um 10 Uhr" });

    // Anna deletes it for everyone, after confirming: "Nachricht gelöscht" on both screens.
    await act(anna, "Treffen um 10 Uhr", "Für alle löschen");
    await anna.getByRole("button", { name: "Ja, löschen" }).click();
    for (const p of [anna, ben]) {
      const gone = p.locator(`.timeline .msg[data-id="${id}"]`);
      await expect.poll(() => gone.locator(".text").textContent(), { timeout: 20_000 }).toBe("Nachricht gelöscht");
      await expect.poll(() => p.locator(".timeline").textContent()).not.toContain("Treffen um 10 Uhr");
    }
    await expect
      .poll(async () => (await receiveCem()).find((l) => l.type === "delete" && l.target === id), { timeout: 30_000 })
      .toMatchObject({ from: people.anna!.id });
    expect(problems.flat()).toEqual([]);
  });

  it("offline, a reply, an edit, a deletion, a reaction and a file wait in the outbox and go out once on reconnect", async () => {
    const box = anna.locator("#composer-text");
    for (const text of ["Erst so", "Weg damit"]) {
      await box.fill(text);
      await box.press("Enter");
      await expect.poll(() => message(ben, text).count(), { timeout: 20_000 }).toBe(1);
    }
    const editedId = await message(anna, "Erst so").getAttribute("data-id");
    const deletedId = await message(anna, "Weg damit").getAttribute("data-id");
    const welcomeId = await message(anna, "Willkommen im Elternbeirat").getAttribute("data-id");
    await receiveCem();
    const seenBefore = received.length;

    await anna.context().setOffline(true);
    await expect.poll(() => anna.locator(".connection").getAttribute("data-state"), { timeout: 15_000 }).not.toBe("online");
    await act(anna, "Erst so", "Bearbeiten");
    await anna.getByLabel("Neuer Text").fill("Jetzt anders");
    await anna.getByRole("button", { name: "Speichern" }).click();
    await act(anna, "Weg damit", "Für alle löschen");
    await anna.getByRole("button", { name: "Ja, löschen" }).click();
    await act(anna, "Willkommen im Elternbeirat", "Antworten");
    await box.fill("Offline geschrieben");
    await box.press("Enter");
    await message(anna, "Willkommen im Elternbeirat").getByRole("button", { name: "Reagieren" }).click();
    await anna.getByRole("button", { name: "Mit 👍 reagieren" }).click();
    await anna.locator("#composer-file").setInputFiles({ name: "liste.csv", mimeType: "text/csv", buffer: Buffer.from("Name;Klasse\nAnna;7b\n") });

    // Everything waits, shown as waiting; nothing reached the others.
    await expect.poll(() => anna.locator(".connection").textContent(), { timeout: 10_000 }).toContain("5 Nachrichten warten");
    const waiting = await anna.locator(".msg.pending .text").allTextContents();
    expect(waiting).toEqual(["Änderung: Jetzt anders", "Nachricht wird für alle gelöscht", "Offline geschrieben", "Reaktion 👍", "📎 liste.csv"]);
    expect(await message(ben, "Erst so").count()).toBe(1);

    await anna.context().setOffline(false);
    await expect.poll(() => anna.locator(".msg.pending").count(), { timeout: 45_000 }).toBe(0);
    await expect.poll(() => ben.locator(`.timeline .msg[data-id="${editedId}"] .text`).textContent(), { timeout: 20_000 }).toBe("Jetzt anders");
    await expect.poll(() => ben.locator(`.timeline .msg[data-id="${deletedId}"] .text`).textContent(), { timeout: 20_000 }).toBe("Nachricht gelöscht");
    const reply = message(ben, "Offline geschrieben");
    await expect.poll(() => reply.locator(".quote").textContent(), { timeout: 20_000 }).toContain("Willkommen im Elternbeirat");
    await expect.poll(() => ben.locator(".timeline").textContent(), { timeout: 20_000 }).toContain("liste.csv");
    await expect
      .poll(() => message(ben, "Willkommen im Elternbeirat").locator(".reactions").getAttribute("aria-label"), { timeout: 20_000 })
      .toBe("Reaktionen: 👍 1");

    // The CLI member got each exactly once.
    await expect.poll(async () => (await receiveCem()).length - seenBefore, { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    const fresh = received.slice(seenBefore);
    expect(fresh.filter((l) => l.type === "edit" && l.target === editedId)).toHaveLength(1);
    expect(fresh.filter((l) => l.type === "delete" && l.target === deletedId)).toHaveLength(1);
    expect(fresh.filter((l) => l.text === "Offline geschrieben")).toHaveLength(1);
    expect(fresh.filter((l) => l.type === "reaction" && l.target === welcomeId)).toHaveLength(1);
    expect(fresh.filter((l) => l.type === "file")).toHaveLength(1);
    expect(problems.flat()).toEqual([]);
  });
});
