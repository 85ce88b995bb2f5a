// The directory policy (R17) with real processes: under `school`, a pupil sees and contacts the
// own class and the staff; the server refuses everything else, whatever the client tries.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, type ServerProcess, texts } from "./harness.js";


describe("directory policy", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("directory");
  const ids: Record<string, string> = {};
  const profile = (name: string) => `${home}/${name}`;
  const people: [string, string, string][] = [
    ["ali", "pupil", "7a"],
    ["alma", "pupil", "7a"],
    ["bea", "pupil", "7b"],
    ["weber", "staff", ""],
  ];

  beforeAll(async () => {
    data = tempDir("directory-data");
    server = await startServer(data, await freePort());
    for (const [name, role, klass] of people) {
      const user = await admin(data, "add-user", "--name", name, "--role", role, "--class", klass);
      ids[name] = String(user.id);
      await momedo(profile(name), "enroll", String(user.invite));
    }
    expect(await admin(data, "policy", "school")).toEqual({ policy: "school" });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("shows a pupil only the own class and the staff", async () => {
    const seen = (await momedo(profile("ali"), "people")).lines.filter((l) => "user" in l).map((l) => l.name);
    expect(seen.sort()).toEqual(["ali", "alma", "weber"]);
    const staff = (await momedo(profile("weber"), "people")).lines.filter((l) => "user" in l).map((l) => l.name);
    expect(staff.sort()).toEqual(["ali", "alma", "bea", "weber"]);
  });

  it("refuses a pupil's message to a pupil of another class with a clear error; nothing arrives", async () => {
    const attempt = await run(CLI_BIN, ["send", ids.bea!, "Hallo aus der 7a", "--profile", profile("ali"), "--json"]);
    expect(attempt.code).toBe(1);
    expect(attempt.lines.at(-1)).toMatchObject({ error: { code: "not_allowed" } });
    expect(String((attempt.lines.at(-1)!.error as { message: string }).message)).toMatch(
      /erlauben keinen Kontakt.*\/.*do not allow contact/,
    );
    const plain = await run(CLI_BIN, ["send", ids.bea!, "Hallo?", "--profile", profile("ali")]);
    expect(plain.stderr).toMatch(/Die Regeln dieses Servers erlauben keinen Kontakt/);
    expect(texts((await momedo(profile("bea"), "receive")).lines)).toEqual([]);
  });

  it("refuses a pupil's group that brings in a pupil of another class", async () => {
    const created = await run(CLI_BIN, ["group", "create", "Fußball", "--members", `${ids.alma},${ids.bea}`, "--profile", profile("ali"), "--json"]);
    expect(created.code).toBe(1);
    expect(created.lines.at(-1)).toMatchObject({ error: { code: "not_allowed" } });
    expect(texts((await momedo(profile("bea"), "receive")).lines)).toEqual([]);
  });

  it("lets pupils of one class, and pupils and staff, write to each other", async () => {
    await momedo(profile("ali"), "send", ids.alma!, "Hausaufgaben?");
    expect(texts((await momedo(profile("alma"), "receive")).lines)).toEqual(["Hausaufgaben?"]);
    await momedo(profile("bea"), "send", ids.weber!, "Frage zur Arbeit");
    expect(texts((await momedo(profile("weber"), "receive")).lines)).toEqual(["Frage zur Arbeit"]);
    // Staff may bring pupils of different classes together (a school club).
    const club = await momedo(profile("weber"), "group", "create", "Schach-AG", "--members", `${ids.ali},${ids.bea}`);
    await momedo(profile("weber"), "send", String(club.lines.at(-1)!.id), "Freitag 14 Uhr");
    expect(texts((await momedo(profile("bea"), "receive")).lines)).toEqual(["Freitag 14 Uhr"]);
  });

  it("open policy: everyone contacts everyone again", async () => {
    expect(await admin(data, "policy", "open")).toEqual({ policy: "open" });
    await momedo(profile("ali"), "send", ids.bea!, "Jetzt geht es");
    expect(texts((await momedo(profile("bea"), "receive")).lines)).toEqual(["Jetzt geht es"]);
  });

  it("counts the messages it relayed for the console's statistics (written at the latest on stop)", async () => {
    await server.stop();
    const stats = await admin(data, "stats");
    const hours = stats.hours as { messages: number }[];
    expect(hours.reduce((sum, h) => sum + h.messages, 0)).toBe(4);
    expect(stats).toMatchObject({ people: 4, devices: 4, backlog: expect.any(Number) });
  });
});
