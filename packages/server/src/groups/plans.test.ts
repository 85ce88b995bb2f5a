import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MomedoError } from "@momedo/protocol";
import { openDataDir } from "../dataDir.js";

const dir = mkdtempSync(join(tmpdir(), "momedo-plans-"));
const data = openDataDir(dir);
afterAll(() => {
  data.db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("group plans", () => {
  const owner = data.people.add("Frau Weber", "staff");
  const pupil = data.people.add("Ayşe", "pupil", "7b");
  const ownerDevice = data.people.addDevice(owner, new Uint8Array(32));
  const plan = data.plans.create("Klasse 7b", "channel", owner, [pupil, owner]);

  it("asks the owner's device to create the group, with the members but not the owner", () => {
    expect(plan.members).toEqual([pupil]);
    expect(data.plans.noticesFor(owner, ownerDevice)).toEqual([
      { group: plan.group, notice: { type: "provision", name: "Klasse 7b", kind: "channel", members: [pupil] } },
    ]);
    expect(data.plans.noticesFor(pupil, "X")).toEqual([]);
  });

  it("lets only the planned owner create it", () => {
    expect(() => data.plans.checkCreator(plan.group, pupil)).toThrow(MomedoError);
    expect(() => data.plans.checkCreator(plan.group, owner)).not.toThrow();
    expect(() => data.plans.checkCreator("g.UNPLANNED", pupil)).not.toThrow();
  });

  it("asks to add an enrolled member once the group exists, not again within ten minutes, never after they joined", () => {
    data.db.prepare("INSERT INTO groups (id, epoch, created_at, kind, name) VALUES (?, 1, 0, 'channel', 'Klasse 7b')").run(plan.group);
    data.db.prepare("INSERT INTO group_roles (group_id, user_id, role) VALUES (?, ?, 'owner')").run(plan.group, owner);
    expect(data.plans.noticesFor(owner, ownerDevice)).toEqual([]); // the pupil has no device yet
    data.people.addDevice(pupil, new Uint8Array(32));
    const now = Date.now();
    expect(data.plans.noticesFor(owner, ownerDevice, now)).toEqual([{ group: plan.group, notice: { type: "provision_add", user: pupil } }]);
    expect(data.plans.noticesFor(owner, ownerDevice, now + 60_000)).toEqual([]);
    expect(data.plans.noticesFor(owner, ownerDevice, now + 11 * 60_000)).toHaveLength(1);
    data.plans.fulfilled(plan.group, [pupil]);
    expect(data.plans.noticesFor(owner, ownerDevice, now + 30 * 60_000)).toEqual([]);
  });
});
