// The post-quantum option: a server configured for the hybrid X-Wing ciphersuite.
import { afterAll, describe, expect, it } from "vitest";
import { momedo, serverWithTwoPeople, type ServerProcess } from "./harness.js";

describe("post-quantum ciphersuite", () => {
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("runs 1:1 chats end to end with X-Wing when the server asks for it", async () => {
    const setup = await serverWithTwoPeople("xwing", ["--ciphersuite", "xwing"]);
    const { data, home } = setup;
    server = setup.server;
    const b = { id: setup.b };
    await momedo(`${home}/a`, "send", String(b.id), "quantensicher");
    const received = await momedo(`${home}/b`, "receive");
    expect(received.lines.filter((l) => "text" in l).map((l) => l.text)).toEqual(["quantensicher"]);
    const { default: Database } = await import("better-sqlite3");
    const db = new Database(`${data}/momedo.sqlite`, { readonly: true });
    const suites = db.prepare("SELECT DISTINCT suite FROM key_packages").all() as { suite: string }[];
    db.close();
    expect(suites.map((s) => s.suite)).toEqual(["MLS_256_XWING_AES256GCM_SHA512_Ed25519"]);
  });
});
