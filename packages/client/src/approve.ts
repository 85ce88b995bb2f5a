// Approving a new device of this person (R6), the existing device's side, for the CLI and the
// web app alike: check the code against the key the server holds, send a sealed invite, wait for
// the new device to enroll, add it to every conversation, send it the history (sealed).
import { linkKeyMatches, parseLinkCode, sealLinkPackage, type LinkPackage } from "@momedo/core";
import { MomedoError, toBase64, type DevicesListResult } from "@momedo/protocol";
import type { Messenger } from "./messenger.js";

const POLL_MS = 500;

export type ApproveStep = "invited" | "adding" | "history";

export interface ApproveResult {
  device: string;
  groups: number;
  history: number;
}

/**
 * `linkKey` fetches the public key the server holds for a link (GET /api/v1/links/ID);
 * `onStep` hears when the invite is out, when the new device is being added, and when the
 * history goes out.
 */
export async function approveLinkWith(
  messenger: Messenger,
  linkKey: (link: string) => Promise<Uint8Array>,
  code: string,
  options: { timeoutMs?: number; onStep?: (step: ApproveStep) => void } = {},
): Promise<ApproveResult> {
  const engine = messenger.engine;
  const { link } = parseLinkCode(code);
  const publicKey = await linkKey(link);
  if (!linkKeyMatches(code, publicKey)) {
    throw new Error("Der Code passt nicht zum Schlüssel auf dem Server (möglicher Angriff) / the code does not match the key on the server (possible attack)");
  }
  const devices = async () => (await messenger.request<DevicesListResult>({ t: "devices.list" })).devices;
  const deliver = async (pkg: LinkPackage) =>
    messenger.request({ t: "link.deliver", link, package: toBase64(await sealLinkPackage(publicKey, pkg)) });

  const known = new Set((await devices()).map((d) => d.device));
  const invite = await messenger.request<{ code: string }>({ t: "device.invite" });
  await deliver({ type: "invite", code: invite.code, name: engine.identity.name });
  options.onStep?.("invited");

  const deadline = Date.now() + (options.timeoutMs ?? 5 * 60_000);
  let device: string | undefined;
  while (!device) {
    if (Date.now() > deadline) throw new Error("Das neue Gerät hat sich nicht angemeldet (Zeit abgelaufen) / the new device did not enroll (timed out)");
    await new Promise((r) => setTimeout(r, POLL_MS));
    const fresh = (await devices()).find((d) => !known.has(d.device));
    if (fresh && (await messenger.claim(engine.user, undefined, fresh.device)).devices.length > 0) device = fresh.device;
  }
  options.onStep?.("adding");

  let groups = 0;
  await messenger.sync();
  for (const group of await engine.groups()) {
    if (!(await engine.isMember(group))) continue;
    const suite = await engine.groupSuite(group);
    await messenger.commit(group, async () => {
      const members = await engine.memberList(group);
      if (members.some((m) => m.user === engine.user && m.device === device)) return undefined;
      const claimed = await messenger.claim(engine.user, suite, device);
      if (claimed.devices.length === 0) throw new MomedoError("no_key_packages", `${engine.user}/${device}`);
      return engine.addMembers(group, [claimed]);
    });
    groups++;
  }
  await messenger.sync();
  options.onStep?.("history");
  const history = await engine.history();
  await deliver({ type: "history", messages: history });
  return { device, groups, history: history.length };
}
