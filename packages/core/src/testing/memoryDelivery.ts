// Test support for the engine's tests (not built into dist): a delivery service in memory and
// devices enrolled under a test organisation key.
import { expect } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  encodeCredentialIdentity,
  signCredential,
  toBase64,
  type ClaimedKeyPackage,
  type DeliverFrame,
} from "@momedo/protocol";
import { Engine, systemEnv, type EngineEvent, type PendingCommit } from "../engine.js";
import { DEFAULT_CIPHERSUITE } from "../mls.js";
import { MemoryStore } from "../store.js";

/** A delivery service in memory: orders commits per group and fans messages out to mailboxes. */
export class MemoryDeliveryService {
  readonly keyPackages = new Map<string, string[]>();
  readonly groups = new Map<string, { epoch: number; members: string[] }>();
  readonly mailboxes = new Map<string, DeliverFrame[]>();
  private seq = 0;

  upload(address: string, kps: string[]) {
    this.keyPackages.set(address, [...(this.keyPackages.get(address) ?? []), ...kps]);
  }
  claim(user: string, except?: string): ClaimedKeyPackage[] {
    const out: ClaimedKeyPackage[] = [];
    for (const [address, kps] of this.keyPackages) {
      const [u, device] = address.split("/") as [string, string];
      if (u !== user || address === except || kps.length === 0) continue;
      out.push({ device, keyPackage: kps.shift()! });
    }
    return out;
  }
  commit(from: string, p: PendingCommit): "ok" | "epoch_conflict" {
    const group = this.groups.get(p.group);
    if ((group?.epoch ?? 0) !== p.epoch) return "epoch_conflict";
    const old = group?.members ?? [from];
    this.groups.set(p.group, { epoch: p.epoch + 1, members: p.members });
    for (const m of old) if (m !== from) this.deliver(m, p.group, "commit", from, p.commit);
    for (const m of p.members) if (!old.includes(m) && p.welcome) this.deliver(m, p.group, "welcome", from, p.welcome);
    return "ok";
  }
  send(from: string, group: string, epoch: number, data: string): "ok" | "stale_epoch" {
    const g = this.groups.get(group)!;
    if (g.epoch !== epoch) return "stale_epoch";
    for (const m of g.members) if (m !== from) this.deliver(m, group, "app", from, data);
    return "ok";
  }
  take(address: string): DeliverFrame[] {
    const frames = this.mailboxes.get(address) ?? [];
    this.mailboxes.set(address, []);
    return frames;
  }
  private deliver(to: string, group: string, kind: DeliverFrame["kind"], from: string, data: string) {
    const box = this.mailboxes.get(to) ?? [];
    box.push({ t: "msg", seq: ++this.seq, group, kind, from, data, at: Date.now() });
    this.mailboxes.set(to, box);
  }
}

export const org = ed25519.keygen();

export async function enroll(ds: MemoryDeliveryService, user: string, device: string, orgSecret = org.secretKey, suite: string = DEFAULT_CIPHERSUITE) {
  const store = new MemoryStore();
  const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
  const credential = signCredential(orgSecret, user, device, keys.publicKey);
  const engine = await Engine.enroll(store, systemEnv, keys, {
    user,
    device,
    name: user,
    organization: "Test",
    credential: toBase64(encodeCredentialIdentity(credential)),
    orgKey: toBase64(org.publicKey),
    ciphersuite: suite,
  });
  const upload = await engine.createKeyPackages(3, suite);
  ds.upload(engine.address, upload.keyPackages);
  return { engine, store };
}

export async function drain(ds: MemoryDeliveryService, engine: Engine): Promise<EngineEvent[]> {
  const events: EngineEvent[] = [];
  for (const frame of ds.take(engine.address)) events.push(...(await engine.receive(frame)));
  return events;
}

export async function commitVia(ds: MemoryDeliveryService, engine: Engine, pending: PendingCommit) {
  expect(ds.commit(engine.address, pending)).toBe("ok");
  await engine.commitAccepted(pending.group);
}
