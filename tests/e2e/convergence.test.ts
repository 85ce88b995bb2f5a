// No "unable to decrypt": five people, nine devices, random concurrent sends and re-keys, adds,
// removes, device links and offline periods against a real server. At the end every device of
// a member has every message sent while it was in the group, and nobody has anything sent while
// they were out of it.
import { afterAll, describe, expect, it } from "vitest";
import { approveLink, enrollProfile, linkNewDevice, type Profile } from "@momedo/client";
import { formatServerAddress } from "@momedo/protocol";
import { addUser } from "../../packages/server/src/admin/commands.js";
import { startServer, type RunningServer } from "../../packages/server/src/server.js";
import { tempDir } from "./harness.js";

/** A small deterministic PRNG, so a failing run can be replayed from its seed. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Device {
  person: number;
  profile: Profile;
  online: boolean;
  /** Steps during which this device was in the group: [from, to). */
  intervals: [number, number][];
}

const PEOPLE = 5;
const MAX_DEVICES = 9;
const STEPS = Number(process.env.MOMEDO_CONVERGENCE_STEPS ?? 70);

describe("convergence under random concurrent changes", () => {
  let server: RunningServer;
  afterAll(async () => {
    await server?.close();
  });

  it("every member device has every message of its membership, and no outsider has any", async () => {
    const seed = Number(process.env.MOMEDO_SEED ?? Date.now() % 100000);
    const random = mulberry32(seed);
    const pick = <T,>(items: T[]): T => items[Math.floor(random() * items.length)]!;
    server = await startServer({ dataDir: tempDir("conv"), host: "127.0.0.1", port: 0, tls: false });
    const home = tempDir("conv-home");
    const people: string[] = [];
    const devices: Device[] = [];
    const undecryptable: string[] = [];
    const watch = (d: Device) =>
      d.profile.messenger.onEvent((e) => {
        if (e.type === "undecryptable") undecryptable.push(`${d.profile.engine.address}: ${e.reason}`);
        if (process.env.MOMEDO_DEBUG) console.log(d.profile.engine.address, JSON.stringify(e).slice(0, 300));
      });
    for (let p = 0; p < PEOPLE; p++) {
      const user = addUser(server.data, { name: `Person ${p}` }, "cli");
      people.push(user.id);
      const profile = await enrollProfile(`${home}/p${p}-0`, user.invite);
      const device: Device = { person: p, profile, online: true, intervals: [] };
      watch(device);
      devices.push(device);
    }
    const owner = devices[0]!;
    const members = new Set<number>([0, 1, 2]);
    let step = 0;
    const group = await owner.profile.messenger.createGroup("Kollegium", [people[1]!, people[2]!]);
    for (const d of devices) if (members.has(d.person)) d.intervals.push([0, Infinity]);

    const sent: { id: string; step: number }[] = [];
    const log: string[] = [];
    const online = () => devices.filter((d) => d.online);
    const memberDevices = () => online().filter((d) => members.has(d.person) && isIn(d));
    const isIn = (d: Device) => d.intervals.some(([, to]) => to === Infinity);
    const close = (d: Device, at: number) => {
      const open = d.intervals.find(([, to]) => to === Infinity);
      if (open) open[1] = at;
    };

    const explain = async (d: Device, error: unknown) => {
      const e = d.profile.engine;
      return new Error(
        `${e.address} (person ${d.person}, intervals ${JSON.stringify(d.intervals)}): has group ${await e.hasGroup(group)}, member ${await e.isMember(group)}, epoch ${await e.epoch(group)}: ${String(error)}`,
      );
    };
    const send = async (d: Device) => {
      try {
        const m = await d.profile.messenger.sendText(group, `m${step}-${d.profile.engine.address}`);
        sent.push({ id: m.id, step });
      } catch (error) {
        throw await explain(d, error);
      }
    };
    const rekey = async (d: Device) => {
      try {
        await d.profile.messenger.rekey(group);
      } catch (error) {
        throw await explain(d, error);
      }
    };

    const run = async () => {
    for (step = 1; step <= STEPS; step++) {
      const roll = random();
      if (roll < 0.45) {
        // Concurrent sends and re-keys from up to three member devices.
        const actors = [...new Set([pick(memberDevices()), pick(memberDevices()), pick(memberDevices())])];
        log.push(`${step}: concurrent ${actors.length}`);
        await Promise.all(actors.map((d) => (random() < 0.75 ? send(d) : rekey(d))));
      } else if (roll < 0.6) {
        const outsiders = [...Array(PEOPLE).keys()].filter((p) => !members.has(p));
        if (outsiders.length === 0) continue;
        const p = pick(outsiders);
        log.push(`${step}: add person ${p}`);
        await owner.profile.messenger.addPeople(group, [people[p]!]);
        members.add(p);
        for (const d of devices) if (d.person === p) d.intervals.push([step, Infinity]);
      } else if (roll < 0.72) {
        const removable = [...members].filter((p) => p !== 0);
        if (removable.length <= 1) continue;
        const p = pick(removable);
        log.push(`${step}: remove person ${p}`);
        await owner.profile.messenger.removeMembers(group, [people[p]!]);
        members.delete(p);
        for (const d of devices) if (d.person === p) close(d, step);
      } else if (roll < 0.82) {
        if (devices.length >= MAX_DEVICES) continue;
        const p = pick([...Array(PEOPLE).keys()].filter((q) => q !== 0));
        const approver = devices.find((d) => d.person === p && d.online);
        if (!approver) continue;
        log.push(`${step}: link a device for person ${p}`);
        const dir = `${home}/p${p}-${devices.filter((d) => d.person === p).length}`;
        let code: (c: string) => void = () => undefined;
        const shown = new Promise<string>((resolve) => (code = resolve));
        const server_ = formatServerAddress(server.url);
        const [linked] = await Promise.all([
          linkNewDevice(dir, server_, code, 60_000),
          shown.then((c) => approveLink(approver.profile, c, 60_000)),
        ]);
        const device: Device = { person: p, profile: linked.profile, online: true, intervals: members.has(p) ? [[step, Infinity]] : [] };
        watch(device);
        devices.push(device);
      } else {
        // Offline periods: a device drops off or comes back (the owner's first device stays).
        const d = pick(devices.filter((x) => x !== owner));
        log.push(`${step}: ${d.online ? "offline" : "online"} ${d.profile.engine.address}`);
        if (d.online) await d.profile.messenger.close();
        else await d.profile.messenger.connect();
        d.online = !d.online;
      }
    }
    };
    try {
      await run();
    } catch (error) {
      throw new Error(`seed ${seed}, step ${step}: ${String(error)}\n${log.slice(-8).join("\n")}`, { cause: error });
    }

    for (const d of devices) {
      if (!d.online) await d.profile.messenger.connect();
      d.online = true;
    }
    for (let round = 0; round < 2; round++) for (const d of devices) await d.profile.messenger.sync();

    const problems: string[] = [];
    for (const d of devices) {
      const have = new Set((await d.profile.engine.history()).filter((m) => m.chat === group).map((m) => m.id));
      const personIn = (s: number) => devices.filter((x) => x.person === d.person).some((x) => x.intervals.some(([a, b]) => s > a && s < b));
      for (const m of sent) {
        const inside = d.intervals.some(([from, to]) => m.step > from && m.step < to);
        if (inside && !have.has(m.id)) problems.push(`${d.profile.engine.address} misses ${m.id} (step ${m.step})`);
        if (!personIn(m.step) && !d.intervals.some(([from, to]) => m.step >= from && m.step <= to) && have.has(m.id)) {
          problems.push(`${d.profile.engine.address} has ${m.id} (step ${m.step}) from outside its membership`);
        }
      }
    }
    for (const d of devices) await d.profile.close();
    expect({ seed, problems, undecryptable, devices: devices.length }).toEqual({ seed, problems: [], undecryptable: [], devices: devices.length });
    expect(sent.length).toBeGreaterThan(STEPS / 4);
    console.log(`convergence seed ${seed}: ${STEPS} steps, ${sent.length} messages, ${devices.length} devices\n${log.slice(-5).join("\n")}`);
  }, 240_000);
});
