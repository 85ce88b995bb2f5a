// Groups, channels, linked devices, re-key and passphrases through the momedo CLI and a real server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, freePort, momedo, run, spawnCommand, CLI_BIN, startServer, tempDir, type ServerProcess, texts, type Line } from "./harness.js";


describe("groups and channels from the command line", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("groups");
  const ids: Record<string, string> = {};
  const profile = (name: string) => `${home}/${name}`;

  beforeAll(async () => {
    data = tempDir("groups-data");
    server = await startServer(data, await freePort());
    for (const name of ["teacher", "anna", "ben", "cem"]) {
      const user = await admin(data, "add-user", "--name", name);
      ids[name] = String(user.id);
      await momedo(profile(name), "enroll", String(user.invite));
    }
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("lets only owners and admins post in a channel, add and remove; everyone reads", async () => {
    const created = await momedo(profile("teacher"), "channel", "create", "Klasse 7b", "--members", `${ids.anna},${ids.ben}`);
    const channel = String(created.lines.at(-1)!.id);
    expect(channel).toMatch(/^g\./);
    const stunde = await momedo(profile("teacher"), "send", channel, "Stunde 1 fällt aus");
    const stundeId = stunde.lines.at(-1)!.id;
    expect(texts((await momedo(profile("anna"), "receive")).lines)).toEqual(["Stunde 1 fällt aus"]);

    const post = await run(CLI_BIN, ["send", channel, "Juhu", "--profile", profile("anna"), "--json"]);
    expect(post.code).toBe(1);
    expect(post.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
    const add = await run(CLI_BIN, ["group", "add", channel, ids.cem!, "--profile", profile("anna"), "--json"]);
    expect(add.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
    const remove = await run(CLI_BIN, ["group", "remove", channel, ids.ben!, "--profile", profile("anna"), "--json"]);
    expect(remove.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
    // Nothing changed: same members, and Ben got nothing from Anna.
    const info = await momedo(profile("teacher"), "group", "info", channel);
    expect(info.lines.filter((l) => "role" in l).map((l) => [l.user, l.role]).sort()).toEqual(
      [[ids.anna, "member"], [ids.ben, "member"], [ids.teacher, "owner"]].sort(),
    );
    expect(texts((await momedo(profile("ben"), "receive")).lines)).toEqual(["Stunde 1 fällt aus"]);
    expect(texts((await momedo(profile("ben"), "receive")).lines)).toEqual([]);

    // Members may react in a channel, and only react.
    const reaction = await momedo(profile("anna"), "react", channel, String(stundeId), "👍");
    expect(reaction.lines.at(-1)).toHaveProperty("id");
    const reactions = (await momedo(profile("teacher"), "receive")).lines.filter((l) => l.type === "reaction");
    expect(reactions).toEqual([expect.objectContaining({ text: "👍", target: stundeId, from: ids.anna })]);
    const rename = await run(CLI_BIN, ["group", "rename", channel, "Klasse 7c", "--profile", profile("anna"), "--json"]);
    expect(rename.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
    await momedo(profile("teacher"), "group", "rename", channel, "Klasse 7b (2026)");
    expect((await momedo(profile("anna"), "group", "info", channel)).lines.at(-1)).toMatchObject({ name: "Klasse 7b (2026)" });

    await momedo(profile("teacher"), "group", "promote", channel, ids.anna!, "--role", "admin");
    await momedo(profile("anna"), "send", channel, "Ich bin jetzt Admin");
    await momedo(profile("anna"), "group", "remove", channel, ids.ben!);
    await momedo(profile("teacher"), "send", channel, "Nach dem Entfernen");
    expect(texts((await momedo(profile("ben"), "receive")).lines.filter((l) => l.type === "text"))).toEqual(["Ich bin jetzt Admin"]);
    expect(texts((await momedo(profile("teacher"), "receive")).lines)).toEqual(["Ich bin jetzt Admin"]);
  });

  it("links a new device that gets every conversation and the history, then removes it again", async () => {
    await momedo(profile("cem"), "send", ids.teacher!, "Frage zur Hausaufgabe");
    const address = String((await momedo(profile("cem"), "whoami")).lines.at(-1)!.serverAddress);
    expect(address).toContain("#fp=");
    const linking = spawnCommand(CLI_BIN, ["link", "--server", address, "--wait", "60", "--profile", profile("cem-tablet"), "--json"]);
    const { code } = await linking.line((l) => "code" in l);
    const approved = await momedo(profile("cem"), "approve-link", String(code));
    expect(approved.lines.at(-1)).toMatchObject({ groups: 1, history: 1 });
    const linked = await linking.done;
    expect(linked.code).toBe(0);
    const tablet = String(linked.lines.at(-1)!.device);

    // The history came along, and new messages reach the tablet directly.
    const history = await momedo(profile("cem-tablet"), "receive");
    expect(texts(history.lines)).toEqual(["Frage zur Hausaufgabe"]);
    await momedo(profile("teacher"), "send", ids.cem!, "Seite 42");
    expect(texts((await momedo(profile("cem-tablet"), "receive")).lines)).toEqual(["Seite 42"]);
    const devices = await momedo(profile("cem"), "devices");
    expect(devices.lines.filter((l) => "device" in l)).toHaveLength(2);

    await momedo(profile("cem"), "remove-device", tablet);
    await momedo(profile("teacher"), "send", ids.cem!, "Nur noch aufs Handy");
    const refused = await run(CLI_BIN, ["receive", "--profile", profile("cem-tablet"), "--json"]);
    expect(refused.lines.at(-1)).toMatchObject({ error: { code: "auth_failed" } });
    expect(texts((await momedo(profile("cem"), "receive")).lines)).toEqual(["Seite 42", "Nur noch aufs Handy"]);
  });

  it("re-keys and protects a conversation with a passphrase", async () => {
    const created = await momedo(profile("teacher"), "group", "create", "Bauamt", "--members", `${ids.anna},${ids.cem}`);
    const group = String(created.lines.at(-1)!.id);
    const before = (await momedo(profile("anna"), "rekey", group)).lines.at(-1)!.epoch as number;
    expect(before).toBeGreaterThan(1);
    await momedo(profile("teacher"), "protect", group, "--passphrase", "Rathaus 2026");
    await momedo(profile("teacher"), "send", group, "Nur mit Passwort");
    const inGroup = (lines: Line[]) => texts(lines.filter((l) => l.chat === group));
    const locked = await momedo(profile("anna"), "receive");
    expect(inGroup(locked.lines)).toEqual([]);
    expect(locked.stderr).toContain("momedo passphrase");
    const unlocked = await momedo(profile("anna"), "passphrase", group, "--passphrase", "Rathaus 2026");
    expect(unlocked.lines.at(-1)).toMatchObject({ unlocked: true, messages: 1 });
    expect(inGroup((await momedo(profile("anna"), "receive")).lines)).toEqual(["Nur mit Passwort"]);
  });
});
