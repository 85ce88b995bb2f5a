// The backbone, end to end with real processes: server, admin CLI, and the momedo CLI.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, filesContaining, freePort, momedo, run, CLI_BIN, startServer, tempDir, type ServerProcess, texts } from "./harness.js";


describe("encrypted 1:1 messaging with real processes", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("e2e");
  const profiles = { alice: `${home}/alice`, bob1: `${home}/bob-phone`, bob2: `${home}/bob-tablet` };
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    data = tempDir("data");
    server = await startServer(data, await freePort());
    expect(server.url).toMatch(/^https:\/\//);
    expect(server.fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const a = await admin(data, "add-user", "--name", "Anna Weber");
    const b = await admin(data, "add-user", "--name", "Bernd Krause");
    const b2 = await admin(data, "invite", String(b.id));
    alice = String(a.id);
    bob = String(b.id);
    expect(alice).toMatch(/^[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(String(a.invite)).toContain(`fp=${server.fingerprint}`);
    const enrolled = await momedo(profiles.alice, "enroll", String(a.invite));
    expect(enrolled.lines.at(-1)).toMatchObject({ id: alice });
    await momedo(profiles.bob1, "enroll", String(b.invite));
    await momedo(profiles.bob2, "enroll", String(b2.invite));
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("delivers to both of Bob's devices in order, exactly once, and carries the answer back", async () => {
    // Bob's tablet is offline (no process runs for it) while Alice writes.
    const first = await momedo(profiles.alice, "send", bob, "Stunde 1 fällt aus");
    expect(first.lines.at(-1)).toHaveProperty("id");
    await momedo(profiles.alice, "send", bob, "Stunde 2 findet statt");

    const phone = await momedo(profiles.bob1, "receive");
    expect(texts(phone.lines)).toEqual(["Stunde 1 fällt aus", "Stunde 2 findet statt"]);
    expect(phone.lines[0]).toMatchObject({ from: alice, type: "text", id: first.lines.at(-1)!.id });
    expect(phone.lines[0]).toHaveProperty("sentAt");
    expect(phone.lines[0]).toHaveProperty("chat");

    const tablet = await momedo(profiles.bob2, "receive");
    expect(texts(tablet.lines)).toEqual(["Stunde 1 fällt aus", "Stunde 2 findet statt"]);
    expect(texts((await momedo(profiles.bob2, "receive")).lines)).toEqual([]);
    expect(texts((await momedo(profiles.bob1, "receive")).lines)).toEqual([]);

    await momedo(profiles.bob1, "send", alice, "Danke, ist notiert");
    const atAlice = await momedo(profiles.alice, "receive");
    expect(texts(atAlice.lines)).toEqual(["Danke, ist notiert"]);
    expect(atAlice.lines[0]).toMatchObject({ from: bob });
    // Bob's tablet sees his own answer from the phone, marked as his.
    const synced = await momedo(profiles.bob2, "receive");
    expect(synced.lines.filter((l) => "text" in l)).toEqual([expect.objectContaining({ text: "Danke, ist notiert", outgoing: true })]);
  });

  it("receive --wait returns as soon as a message arrived", async () => {
    const started = Date.now();
    const waiting = run(CLI_BIN, ["receive", "--wait", "30", "--profile", profiles.alice, "--json"]);
    await new Promise((r) => setTimeout(r, 1500));
    await momedo(profiles.bob2, "send", alice, "vom Tablet");
    const result = await waiting;
    expect(result.code).toBe(0);
    expect(texts(result.lines)).toEqual(["vom Tablet"]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it("never stores a message's plaintext on the server, nor unencrypted in a profile", async () => {
    const marker = `Vertraulich-${Math.random().toString(36).slice(2)}`;
    await momedo(profiles.alice, "send", bob, marker);
    const received = await momedo(profiles.bob1, "receive");
    expect(texts(received.lines)).toContain(marker);
    expect(filesContaining(data, marker)).toEqual([]);
    expect(filesContaining(profiles.bob1, marker)).toEqual([]);
    expect(filesContaining(profiles.alice, marker)).toEqual([]);
  });

  it("settles a first-message race: both write first at the same moment and both messages arrive", async () => {
    const c = await admin(data, "add-user", "--name", "Clara");
    const d = await admin(data, "add-user", "--name", "Dieter");
    const pc = `${home}/clara`;
    const pd = `${home}/dieter`;
    await momedo(pc, "enroll", String(c.invite));
    await momedo(pd, "enroll", String(d.invite));
    await Promise.all([momedo(pc, "send", String(d.id), "von Clara"), momedo(pd, "send", String(c.id), "von Dieter")]);
    expect(texts((await momedo(pd, "receive")).lines)).toEqual(["von Clara"]);
    expect(texts((await momedo(pc, "receive")).lines)).toEqual(["von Dieter"]);
  });

  it("refuses a used invite and a bad one with clear errors", async () => {
    const p = `${home}/mallory`;
    const used = await run(CLI_BIN, ["enroll", `${server.url}/join#c=AAAAAAAAAAAAAAAA&fp=${server.fingerprint}`, "--profile", p, "--json"]);
    expect(used.code).toBe(1);
    expect(used.lines.at(-1)).toMatchObject({ error: { code: "invite_invalid" } });
    const garbage = await run(CLI_BIN, ["enroll", "not-an-invite", "--profile", p, "--json"]);
    expect(garbage.lines.at(-1)).toMatchObject({ error: { code: "invite_invalid" } });
    const wrongPin = await run(CLI_BIN, ["enroll", `${server.url}/join#c=AAAAAAAAAAAAAAAA&fp=${"A".repeat(43)}`, "--profile", p, "--json"]);
    expect(wrongPin.code).toBe(1);
    expect(JSON.stringify(wrongPin.lines.at(-1))).toMatch(/does not match the invite/);
  });
});
