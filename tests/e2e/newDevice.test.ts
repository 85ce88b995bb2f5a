// A device enrolled later from a new invite joins the person's conversations (without history):
// the person's own other device adds it, or, when the old phone is lost and revoked, the other
// person of a direct chat and the group's owner do. Real server and CLI processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, momedo, serverWithTwoPeople, texts, type ServerProcess } from "./harness.js";

describe("a person's new device joins their conversations", { timeout: 180_000 }, () => {
  let setup: Awaited<ReturnType<typeof serverWithTwoPeople>>;
  let server: ServerProcess;
  let group: string;
  let dora: string;
  const profile = (name: string) => `${setup.home}/${name}`;

  beforeAll(async () => {
    setup = await serverWithTwoPeople("new-device");
    server = setup.server;
    const d = await admin(setup.data, "add-user", "--name", "Dora");
    dora = String(d.id);
    await momedo(profile("d"), "enroll", String(d.invite));
    // A (Amt) owns a group with B and Dora; A also writes to each of them directly.
    const created = await momedo(profile("a"), "group", "create", "Bauamt", "--members", `${setup.b},${dora}`);
    group = String(created.lines.at(-1)?.id);
    await momedo(profile("a"), "send", setup.b, "Hallo B");
    await momedo(profile("a"), "send", dora, "Hallo Dora");
    for (const p of ["b", "d"]) await momedo(profile(p), "receive");
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("B's own first device adds B's new device to every conversation", async () => {
    const invite = await admin(setup.data, "invite", setup.b);
    await momedo(profile("b2"), "enroll", String(invite.invite));
    // B's first device hears of it at its next sign-in and adds it (A does not need to act).
    await momedo(profile("b"), "receive");
    // Before A signs in again, the new device is already in the group (the server lists it so).
    const listed = (await momedo(profile("b2"), "group", "list", "--json")).lines;
    expect(listed.map((l) => l.name)).toContain("Bauamt");
    await momedo(profile("a"), "send", setup.b, "Für beide Geräte");
    await momedo(profile("a"), "send", group, "An die Gruppe");
    const got = texts((await momedo(profile("b2"), "receive", "--json")).lines);
    expect(got).toEqual(expect.arrayContaining(["Für beide Geräte", "An die Gruppe"]));
    // No history: what came before the new device is not there.
    expect(got).not.toContain("Hallo B");
    expect(texts((await momedo(profile("b"), "receive", "--json")).lines)).toEqual(expect.arrayContaining(["Für beide Geräte", "An die Gruppe"]));
  });

  it("Dora lost her phone: after revoking it, her new device is added by A (direct chat and as the group's owner)", async () => {
    const who = await momedo(profile("d"), "whoami", "--json");
    const oldDevice = String(who.lines.at(-1)?.device);
    await admin(setup.data, "revoke-device", dora, oldDevice);
    // A signs in before Dora has a new phone: Dora stays a member (with no device), not removed.
    await momedo(profile("a"), "send", group, "Dora hat gerade kein Telefon");
    const members = (await momedo(profile("a"), "group", "info", group, "--json")).lines;
    expect(members.find((l) => l.user === dora)).toMatchObject({ user: dora, role: "member" });
    const invite = await admin(setup.data, "invite", dora);
    await momedo(profile("d2"), "enroll", String(invite.invite));
    // A signs in (any command): the notices make A add Dora's new device.
    await momedo(profile("a"), "receive");
    await momedo(profile("a"), "send", dora, "Neues Telefon?");
    await momedo(profile("a"), "send", group, "Sitzung morgen");
    const got = texts((await momedo(profile("d2"), "receive", "--json")).lines);
    expect(got).toEqual(expect.arrayContaining(["Neues Telefon?", "Sitzung morgen"]));
    expect(got).not.toContain("Dora hat gerade kein Telefon");
    // The group lists Dora with her new device.
    const newDevice = String((await momedo(profile("d2"), "whoami", "--json")).lines.at(-1)?.device);
    const after = (await momedo(profile("a"), "group", "info", group, "--json")).lines.find((l) => l.user === dora);
    expect(after).toMatchObject({ user: dora, devices: [newDevice] });
    // Dora answers from the new phone; A reads it.
    await momedo(profile("d2"), "send", setup.a, "Ja, alles da");
    expect(texts((await momedo(profile("a"), "receive", "--json")).lines)).toContain("Ja, alles da");
  });
});
