// Linking a device to an existing person (R6), both sides. See docs/groups.md for the flow.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { linkCode, linkKeyMatches, newLinkKeys, parseLinkCode, sealLinkPackage, type LinkPackage } from "@momedo/core";
import { fromBase64, MomedoError, parseServerAddress, toBase64, type DevicesListResult } from "@momedo/protocol";
import { getJson, postJson, type ServerAddress } from "./http.js";
import { enrollAt, pinServer, ProfileError, type Profile } from "./profile.js";

const POLL_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function nextPackage(server: ServerAddress, link: string, after: number, deadline: number): Promise<{ n: number; data: Uint8Array }> {
  while (Date.now() < deadline) {
    const { packages } = await getJson<{ packages: { n: number; data: string }[] }>(server, `api/v1/links/${link}/packages?after=${after}`);
    const first = packages[0];
    if (first) return { n: first.n, data: fromBase64(first.data) };
    await sleep(POLL_MS);
  }
  throw new Error("Keine Bestätigung vom anderen Gerät erhalten (Zeit abgelaufen) / no approval from the other device (timed out)");
}

/**
 * On the new device: registers a link at the server, shows the code, waits for the approving
 * device's invite, enrolls, then waits for the history.
 */
export async function linkNewDevice(
  dir: string,
  serverAddress: string,
  showCode: (code: string) => void,
  timeoutMs = 10 * 60_000,
): Promise<{ profile: Profile; history: number }> {
  if (existsSync(join(dir, "profile.json"))) {
    throw new ProfileError(`${dir}: hier ist schon ein Gerät angemeldet / a device is already enrolled here`);
  }
  const address = parseServerAddress(serverAddress);
  const server = await pinServer(address.url, address.fingerprint);
  const keys = await newLinkKeys();
  const { link } = await postJson<{ link: string }>(server, "api/v1/links", { publicKey: toBase64(keys.publicKey) });
  showCode(linkCode(link, keys.publicKey));
  const deadline = Date.now() + timeoutMs;
  let after = 0;
  let profile: Profile | undefined;
  while (!profile) {
    const next = await nextPackage(server, link, after, deadline);
    after = next.n;
    const pkg: LinkPackage = await keys.open(next.data);
    if (pkg.type === "invite") profile = await enrollAt(dir, server, pkg.code);
  }
  for (;;) {
    const next = await nextPackage(server, link, after, deadline);
    after = next.n;
    const pkg: LinkPackage = await keys.open(next.data);
    if (pkg.type !== "history") continue;
    await profile.engine.importHistory(pkg.messages);
    await profile.messenger.sync();
    return { profile, history: pkg.messages.length };
  }
}

/**
 * On an existing device of the same person: checks the code against the key the server holds,
 * sends an invite, waits for the new device, adds it to every conversation, sends the history.
 */
export async function approveLink(
  profile: Profile,
  code: string,
  timeoutMs = 5 * 60_000,
): Promise<{ device: string; groups: number; history: number }> {
  const { link } = parseLinkCode(code);
  const { messenger, engine, server } = profile;
  const { publicKey: keyText } = await getJson<{ publicKey: string }>(server, `api/v1/links/${link}`);
  const publicKey = fromBase64(keyText);
  if (!linkKeyMatches(code, publicKey)) {
    throw new Error("Der Code passt nicht zum Schlüssel auf dem Server (möglicher Angriff) / the code does not match the key on the server (possible attack)");
  }
  const known = new Set((await devices(profile)).map((d) => d.device));
  const invite = await messenger.request<{ code: string }>({ t: "device.invite" });
  await deliver(profile, link, publicKey, { type: "invite", code: invite.code, name: engine.identity.name });

  const deadline = Date.now() + timeoutMs;
  let device: string | undefined;
  while (!device) {
    if (Date.now() > deadline) throw new Error("Das neue Gerät hat sich nicht angemeldet (Zeit abgelaufen) / the new device did not enroll (timed out)");
    await sleep(POLL_MS);
    const fresh = (await devices(profile)).find((d) => !known.has(d.device));
    if (fresh && (await messenger.claim(engine.user, undefined, fresh.device)).devices.length > 0) device = fresh.device;
  }

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
  const history = await engine.history();
  await deliver(profile, link, publicKey, { type: "history", messages: history });
  return { device, groups, history: history.length };
}

async function devices(profile: Profile): Promise<DevicesListResult["devices"]> {
  return (await profile.messenger.request<DevicesListResult>({ t: "devices.list" })).devices;
}

async function deliver(profile: Profile, link: string, publicKey: Uint8Array, pkg: LinkPackage): Promise<void> {
  const sealed = await sealLinkPackage(publicKey, pkg);
  await profile.messenger.request({ t: "link.deliver", link, package: toBase64(sealed) });
}
