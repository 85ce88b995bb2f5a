// A backup taken while messages flow restores to a server where every message acknowledged
// before the backup began is present; the restored server keeps its certificate and org key.
import { afterAll, describe, expect, it } from "vitest";
import { openProfile } from "@momedo/client";
import { momedo, run, SERVER_BIN, serverWithTwoPeople, startServer, tempDir, type ServerProcess } from "./harness.js";

describe("backup and restore", () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("restores every message acknowledged before a backup taken under load", async () => {
    const setup = await serverWithTwoPeople("backup");
    const { data, home, port } = setup;
    server = setup.server;
    const b = { id: setup.b };

    const sender = await openProfile(`${home}/a`);
    await sender.messenger.connect();
    const acknowledged: { text: string; at: number }[] = [];
    let sending = true;
    const load = (async () => {
      for (let i = 0; sending && i < 400; i++) {
        const text = `Meldung ${i}`;
        await sender.messenger.sendText(String(b.id), text);
        acknowledged.push({ text, at: Date.now() });
      }
    })();
    while (acknowledged.length < 10) await new Promise((r) => setTimeout(r, 20));
    const backupStarted = Date.now();
    const file = `${tempDir("backup-file")}/momedo.backup`;
    const backedUp = await run(SERVER_BIN, ["backup", file, "--data", data, "--json"]);
    sending = false;
    await load;
    await sender.close();
    expect(backedUp.code).toBe(0);
    expect(backedUp.lines.at(-1)).toMatchObject({ file, people: 2 });
    const before = acknowledged.filter((m) => m.at < backupStarted).map((m) => m.text);
    expect(before.length).toBeGreaterThanOrEqual(10);

    await server.stop();
    const restoredData = tempDir("restored");
    const refused = await run(SERVER_BIN, ["restore", file, "--data", data, "--json"]);
    expect(refused.lines.at(-1)).toMatchObject({ error: { code: "usage" } });
    const restored = await run(SERVER_BIN, ["restore", file, "--data", restoredData, "--json"]);
    expect(restored.lines.at(-1)).toMatchObject({ people: 2 });

    // Same port and certificate: Bob's device neither notices nor needs a new invite.
    server = await startServer(restoredData, port);
    const received = (await momedo(`${home}/b`, "receive")).lines.filter((l) => "text" in l).map((l) => l.text);
    expect(received.slice(0, before.length)).toEqual(before);
  }, 120_000);
});
