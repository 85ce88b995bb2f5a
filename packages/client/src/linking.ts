// Linking a device to an existing person (R6), both sides. See docs/groups.md for the flow.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { linkCode, newLinkKeys, type LinkPackage } from "@momedo/core";
import { fromBase64, parseServerAddress, toBase64 } from "@momedo/protocol";
import { approveLinkWith, type ApproveResult } from "./approve.js";
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

/** On an existing device of the same person (the CLI's profile): see approveLinkWith. */
export function approveLink(profile: Profile, code: string, timeoutMs = 5 * 60_000): Promise<ApproveResult> {
  const linkKey = async (link: string) => fromBase64((await getJson<{ publicKey: string }>(profile.server, `api/v1/links/${link}`)).publicKey);
  return approveLinkWith(profile.messenger, linkKey, code, { timeoutMs });
}
