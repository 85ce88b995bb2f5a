// Groups and channels the admin plans: the owner's device creates them with the members who
// have a device, and adds the others once they enroll. Real server, real CLI processes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, CLI_BIN, freePort, momedo, run, startServer, tempDir, type ServerProcess, texts } from "./harness.js";


describe("admin-planned class channel", () => {
  let server: ServerProcess;
  let data: string;
  const home = tempDir("plans");
  const ids: Record<string, string> = {};
  const invites: Record<string, string> = {};
  const profile = (name: string) => `${home}/${name}`;
  let channel = "";

  beforeAll(async () => {
    data = tempDir("plans-data");
    server = await startServer(data, await freePort());
    for (const [name, role, klass] of [
      ["weber", "staff", ""],
      ["ayse", "pupil", "7b"],
      ["jonas", "pupil", "7b"],
      ["lena", "pupil", "7b"],
      ["otto", "pupil", "8a"],
    ] as const) {
      const user = await admin(data, "add-user", "--name", name, "--role", role, "--class", klass);
      ids[name] = String(user.id);
      invites[name] = String(user.invite);
    }
    for (const name of ["weber", "ayse", "jonas", "otto"]) await momedo(profile(name), "enroll", invites[name]!);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("is created by the owner's device with every class member who has a device", async () => {
    const plan = await admin(data, "create-group", "--name", "Klasse 7b", "--kind", "channel", "--owner", ids.weber!, "--class", "7b");
    channel = String(plan.group);
    expect(channel).toMatch(/^g\./);
    expect((plan.members as string[]).sort()).toEqual([ids.ayse, ids.jonas, ids.lena].sort());

    // The owner's next run carries the plan out.
    await momedo(profile("weber"), "receive");
    const info = await momedo(profile("weber"), "group", "info", channel);
    expect(info.lines.at(-1)).toMatchObject({ name: "Klasse 7b", kind: "channel" });
    expect(info.lines.filter((l) => "role" in l).map((l) => [l.user, l.role]).sort()).toEqual(
      [[ids.weber, "owner"], [ids.ayse, "member"], [ids.jonas, "member"]].sort(),
    );
    await momedo(profile("weber"), "send", channel, "Willkommen in der 7b!");
    expect(texts((await momedo(profile("ayse"), "receive")).lines)).toEqual(["Willkommen in der 7b!"]);
    expect(texts((await momedo(profile("jonas"), "receive")).lines)).toEqual(["Willkommen in der 7b!"]);
    expect(texts((await momedo(profile("otto"), "receive")).lines)).toEqual([]);
    const post = await run(CLI_BIN, ["send", channel, "Hallo", "--profile", profile("ayse"), "--json"]);
    expect(post.lines.at(-1)).toMatchObject({ error: { code: "policy_denied" } });
  });

  it("adds a planned member once they enroll, at the owner's next run", async () => {
    await momedo(profile("lena"), "enroll", invites.lena!);
    await momedo(profile("weber"), "receive");
    await momedo(profile("weber"), "send", channel, "Morgen Wandertag");
    expect(texts((await momedo(profile("lena"), "receive")).lines)).toEqual(["Morgen Wandertag"]);
    const members = (await momedo(profile("lena"), "group", "info", channel)).lines.filter((l) => "role" in l).map((l) => l.user);
    expect(members).toContain(ids.lena);
  });

  it("sets up a second plan (a group across classes) at the owner's next run, once", async () => {
    const plan = await admin(data, "create-group", "--name", "Elternbeirat", "--owner", ids.weber!, "--members", ids.otto!);
    await momedo(profile("weber"), "receive");
    await momedo(profile("weber"), "receive");
    expect((await momedo(profile("otto"), "group", "info", String(plan.group))).lines.at(-1)).toMatchObject({ name: "Elternbeirat" });
    const mine = (await momedo(profile("weber"), "group", "list")).lines.filter((l) => l.name === "Elternbeirat");
    expect(mine).toHaveLength(1);
  });
});
