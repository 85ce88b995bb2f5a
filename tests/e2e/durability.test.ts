// A message the server acknowledged survives kill -9 of the server.
import { afterAll, describe, expect, it } from "vitest";
import { openProfile } from "@momedo/client";
import { momedo, serverWithTwoPeople, startServer, type ServerProcess } from "./harness.js";

describe("durability", () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop("SIGKILL");
  });

  it("keeps every acknowledged message across kill -9", async () => {
    const setup = await serverWithTwoPeople("durable");
    const { data, home, port } = setup;
    server = setup.server;
    const b = { id: setup.b };

    const sender = await openProfile(`${home}/a`);
    await sender.messenger.connect();
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) {
      // sendText resolves only after the server's acknowledgement.
      await sender.messenger.sendText(String(b.id), `Meldung ${i}`);
      sent.push(`Meldung ${i}`);
    }
    expect(await server.stop("SIGKILL")).toBe(null);
    await sender.close().catch(() => undefined);

    server = await startServer(data, port);
    const received = await momedo(`${home}/b`, "receive");
    expect(received.lines.filter((l) => "text" in l).map((l) => l.text)).toEqual(sent);
  });
});
