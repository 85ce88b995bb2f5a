// "Delivered" with real processes: a message is marked delivered only once every other person of
// the chat fetched it (any of their devices), the mark survives a server crash in between, and
// the server keeps no receipt rows afterwards.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openProfile, type Profile } from "@momedo/client";
import type { EngineEvent } from "@momedo/core";
import { admin, momedo, serverWithTwoPeople, startServer, type ServerProcess } from "./harness.js";

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("delivered: every other person fetched the message", { timeout: 120_000 }, () => {
  let setup: Awaited<ReturnType<typeof serverWithTwoPeople>>;
  let server: ServerProcess;
  let alice: Profile;
  let c: string;
  const delivered: string[] = [];

  const isDelivered = async (chat: string, id: string) => (await alice.store.loadMessage(chat, id))?.delivered === true;
  const receiptRows = () => {
    const db = new Database(join(setup.data, "momedo.sqlite"), { readonly: true });
    try {
      return (db.prepare("SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM receipt_waits) AS n").get() as { n: number }).n;
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    setup = await serverWithTwoPeople("receipts");
    server = setup.server;
    const third = await admin(setup.data, "add-user", "--name", "Carla");
    c = String(third.id);
    await momedo(`${setup.home}/c`, "enroll", String(third.invite));
    alice = await openProfile(`${setup.home}/a`);
    alice.messenger.onEvent((event: EngineEvent) => {
      if (event.type === "delivered") delivered.push(event.id);
    });
    await alice.messenger.connect();
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  it("marks a 1:1 message delivered when the other person fetched it, not before", async () => {
    const sent = await alice.messenger.sendText(setup.b, "Termin am Dienstag");
    await new Promise((r) => setTimeout(r, 300));
    expect(await isDelivered(sent.chat, sent.id)).toBe(false);
    expect(delivered).not.toContain(sent.id);

    const got = await momedo(`${setup.home}/b`, "receive", "--json");
    expect(got.lines.some((l) => l.text === "Termin am Dienstag")).toBe(true);
    await until(() => delivered.includes(sent.id));
    expect(await isDelivered(sent.chat, sent.id)).toBe(true);
    await until(() => receiptRows() === 0);
  });

  it("in a group, waits for every other person; reactions and edits ask for nothing", async () => {
    const group = await alice.messenger.createGroup("Elternbeirat", [setup.b, c]);
    const sent = await alice.messenger.sendText(group, "Sitzung um 19 Uhr");
    await momedo(`${setup.home}/b`, "receive");
    await new Promise((r) => setTimeout(r, 300));
    expect(await isDelivered(group, sent.id)).toBe(false);

    await momedo(`${setup.home}/c`, "receive");
    await until(() => delivered.includes(sent.id));
    expect(await isDelivered(group, sent.id)).toBe(true);

    const before = delivered.length;
    await alice.messenger.react(group, sent.id, "👍");
    await alice.messenger.edit(group, sent.id, "Sitzung um 19:30 Uhr");
    await momedo(`${setup.home}/b`, "receive");
    await momedo(`${setup.home}/c`, "receive");
    await new Promise((r) => setTimeout(r, 300));
    expect(delivered.length).toBe(before);
    // The edit keeps the mark.
    expect(await isDelivered(group, sent.id)).toBe(true);
    expect(receiptRows()).toBe(0);
  });

  it("keeps a waiting receipt through a crash of the server (kill -9)", async () => {
    const sent = await alice.messenger.sendText(setup.b, "Nach dem Neustart");
    await alice.close();
    await server.stop("SIGKILL");
    server = await startServer(setup.data, setup.port);
    await momedo(`${setup.home}/b`, "receive");
    alice = await openProfile(`${setup.home}/a`);
    alice.messenger.onEvent((event: EngineEvent) => {
      if (event.type === "delivered") delivered.push(event.id);
    });
    await alice.messenger.connect();
    await until(() => isDelivered(sent.chat, sent.id));
    expect(delivered).toContain(sent.id);
  });
});
