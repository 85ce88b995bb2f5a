import { describe, expect, it } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { encodeCredentialIdentity, signCredential, toBase64, type DeliverFrame } from "@momedo/protocol";
import { Engine, systemEnv, type EngineEvent } from "./engine.js";
import { DEFAULT_CIPHERSUITE } from "./mls.js";
import { MemoryStore } from "./store.js";
import { MemoryDeliveryService, org, enroll, drain, commitVia } from "./testing/memoryDelivery.js";

async function sendText(ds: MemoryDeliveryService, from: Engine, peer: string, text: string) {
  const group = from.directChat(peer);
  for (let attempt = 0; attempt < 3; attempt++) {
    await drain(ds, from);
    if (!(await from.hasGroup(group))) {
      const pending = await from.createDirectChat(peer, ds.claim(peer), ds.claim(from.user, from.address));
      if (ds.commit(from.address, pending) !== "ok") {
        from.commitRejected(group);
        continue;
      }
      await from.commitAccepted(group);
    }
    const out = await from.encryptText(group, text);
    if (ds.send(from.address, out.group, out.epoch, out.data) === "ok") return out.message;
  }
  throw new Error("send failed");
}

const texts = (events: EngineEvent[]) =>
  events.flatMap((e) => (e.type === "message" ? [`${e.message.from}:${e.message.text}`] : []));

describe("engine", () => {
  it("delivers a 1:1 chat to every device of both people, end to end encrypted", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob1 = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    const bob2 = await enroll(ds, "BBBBBBBB", "B2B2B2B2");

    await sendText(ds, alice.engine, "BBBBBBBB", "Stunde 1 fällt aus");
    expect(texts(await drain(ds, bob1.engine))).toEqual(["AAAAAAAA:Stunde 1 fällt aus"]);
    expect(texts(await drain(ds, bob2.engine))).toEqual(["AAAAAAAA:Stunde 1 fällt aus"]);

    await sendText(ds, bob1.engine, "AAAAAAAA", "Danke!");
    expect(texts(await drain(ds, alice.engine))).toEqual(["BBBBBBBB:Danke!"]);
    // Bob's other device sees his own message as outgoing.
    const own = (await drain(ds, bob2.engine)).flatMap((e) => (e.type === "message" ? [e.message] : []));
    expect(own.map((m) => [m.text, m.outgoing])).toEqual([["Danke!", true]]);
    expect((await alice.engine.memberList(alice.engine.directChat("BBBBBBBB"))).map((m) => `${m.user}/${m.device}`).sort()).toEqual(
      ["AAAAAAAA/A1A1A1A1", "BBBBBBBB/B1B1B1B1", "BBBBBBBB/B2B2B2B2"],
    );
  });

  it("settles a race when both people write first at the same moment", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    const group = alice.engine.directChat("BBBBBBBB");
    const fromAlice = await alice.engine.createDirectChat("BBBBBBBB", ds.claim("BBBBBBBB"), []);
    const fromBob = await bob.engine.createDirectChat("AAAAAAAA", ds.claim("AAAAAAAA"), []);
    expect(ds.commit(alice.engine.address, fromAlice)).toBe("ok");
    await alice.engine.commitAccepted(group);
    expect(ds.commit(bob.engine.address, fromBob)).toBe("epoch_conflict");
    bob.engine.commitRejected(group);

    await sendText(ds, bob.engine, "AAAAAAAA", "hallo");
    expect(texts(await drain(ds, alice.engine))).toEqual(["BBBBBBBB:hallo"]);
    await sendText(ds, alice.engine, "BBBBBBBB", "hi");
    expect(texts(await drain(ds, bob.engine))).toEqual(["AAAAAAAA:hi"]);
  });

  it("ignores a redelivered mailbox entry", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    await sendText(ds, alice.engine, "BBBBBBBB", "once");
    const frames = ds.take(bob.engine.address);
    const first: EngineEvent[] = [];
    for (const f of frames) first.push(...(await bob.engine.receive(f)));
    const again: EngineEvent[] = [];
    for (const f of frames) again.push(...(await bob.engine.receive(f)));
    expect(texts(first)).toEqual(["AAAAAAAA:once"]);
    expect(again).toEqual([]);
    expect(bob.store.messages).toHaveLength(1);
  });

  it("refuses a key package whose credential the organisation did not sign", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const rogueOrg = ed25519.keygen();
    // Mallory's engine trusts the real org key, but her credential is signed by another key.
    await expect(enroll(ds, "MMMMMMMM", "M1M1M1M1", rogueOrg.secretKey)).rejects.toThrow(/untrusted_credential/);
    const store = new MemoryStore();
    const keys = await Engine.newSignatureKeys(DEFAULT_CIPHERSUITE);
    const forged = signCredential(rogueOrg.secretKey, "MMMMMMMM", "M1M1M1M1", keys.publicKey);
    const mallory = await Engine.enroll(store, systemEnv, keys, {
      user: "MMMMMMMM",
      device: "M1M1M1M1",
      name: "M",
      organization: "Rogue",
      credential: toBase64(encodeCredentialIdentity(forged)),
      orgKey: toBase64(rogueOrg.publicKey),
      ciphersuite: DEFAULT_CIPHERSUITE,
    });
    ds.upload(mallory.address, (await mallory.createKeyPackages(1)).keyPackages);
    await expect(alice.engine.createDirectChat("MMMMMMMM", ds.claim("MMMMMMMM"), [])).rejects.toThrow(
      /untrusted_credential/,
    );
  });

  it("refuses a key package offered for the wrong person", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    await enroll(ds, "CCCCCCCC", "C1C1C1C1");
    const carols = ds.claim("CCCCCCCC");
    await expect(alice.engine.createDirectChat("BBBBBBBB", carols, [])).rejects.toThrow(/untrusted_credential/);
  });

  it("cuts a removed device off: it cannot decrypt what is sent after its removal", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob1 = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    const bob2 = await enroll(ds, "BBBBBBBB", "B2B2B2B2");
    const group = "g.TESTGROUP0000000000000000";
    await commitVia(ds, alice.engine, await alice.engine.createGroup(group, DEFAULT_CIPHERSUITE, [{ user: "BBBBBBBB", devices: ds.claim("BBBBBBBB") }], { kind: "group", name: "T" }));
    expect((await drain(ds, bob2.engine)).map((e) => e.type)).toEqual(["joined"]);
    await drain(ds, bob1.engine);

    const before = await alice.engine.encryptText(group, "vorher");
    ds.send(alice.engine.address, group, before.epoch, before.data);
    expect(texts(await drain(ds, bob2.engine))).toEqual(["AAAAAAAA:vorher"]);

    const removal = await alice.engine.removeMembers(group, ["BBBBBBBB/B2B2B2B2"]);
    expect(removal.members.sort()).toEqual(["AAAAAAAA/A1A1A1A1", "BBBBBBBB/B1B1B1B1"]);
    await commitVia(ds, alice.engine, removal);
    const after = await alice.engine.encryptText(group, "nachher");
    ds.send(alice.engine.address, group, after.epoch, after.data);
    expect(texts(await drain(ds, bob1.engine))).toEqual(["AAAAAAAA:vorher", "AAAAAAAA:nachher"]);

    // Bob's tablet still holds its keys of the old epoch; the new message is not for them.
    const frame = (seq: number, kind: DeliverFrame["kind"], data: string): DeliverFrame => ({ t: "msg", seq, group, kind, from: "AAAAAAAA/A1A1A1A1", data, at: 0 });
    const events = await bob2.engine.receive(frame(1000, "app", after.data));
    expect(events).toEqual([expect.objectContaining({ type: "undecryptable" })]);
    expect(await bob2.engine.receive(frame(1001, "commit", removal.commit))).toEqual([{ type: "removed", chat: group }]);
    expect(await bob2.engine.receive(frame(1002, "app", after.data))).toEqual([expect.objectContaining({ type: "undecryptable" })]);
  });

  it("re-keys: a commit without changes moves everyone to a new epoch and messages still flow", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    await sendText(ds, alice.engine, "BBBBBBBB", "eins");
    await drain(ds, bob.engine);
    const group = alice.engine.directChat("BBBBBBBB");
    const epoch = (await bob.engine.epoch(group))!;
    await commitVia(ds, bob.engine, await bob.engine.rekey(group));
    expect(await bob.engine.epoch(group)).toBe(epoch + 1);
    await sendText(ds, alice.engine, "BBBBBBBB", "zwei");
    expect(await alice.engine.epoch(group)).toBe(epoch + 1);
    expect(texts(await drain(ds, bob.engine))).toEqual(["AAAAAAAA:zwei"]);
  });

  it("works end to end with the hybrid post-quantum suite (X-Wing)", async () => {
    const XWING = "MLS_256_XWING_AES256GCM_SHA512_Ed25519";
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1", org.secretKey, XWING);
    const bob = await enroll(ds, "BBBBBBBB", "B1B1B1B1", org.secretKey, XWING);
    const pending = await alice.engine.createDirectChat("BBBBBBBB", ds.claim("BBBBBBBB"), [], XWING);
    await commitVia(ds, alice.engine, pending);
    expect(await alice.engine.groupSuite(pending.group)).toBe(XWING);
    const out = await alice.engine.encryptText(pending.group, "quantensicher");
    ds.send(alice.engine.address, pending.group, out.epoch, out.data);
    expect(texts(await drain(ds, bob.engine))).toEqual(["AAAAAAAA:quantensicher"]);
  });

  it("joins a tree whose unmerged leaves differ along the path (ts-mls check corrected by scripts/patch-ts-mls.mjs)", async () => {
    const ds = new MemoryDeliveryService();
    const ids = ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD", "EEEEEEEE", "FFFFFFFF", "GGGGGGGG", "HHHHHHHH", "JJJJJJJJ", "KKKKKKKK"];
    const people = await Promise.all(ids.map((id) => enroll(ds, id, id.replace(/./g, (c) => (c === "A" ? "1" : c)))));
    const [a, b, , , e, f, , , m, l] = people.map((p) => p!.engine);
    const group = "g.UNMERGEDLEAVES00000000000";
    // Leaves 0..7: A B C D E F G H, all added in one commit without a path.
    await commitVia(ds, a!, await a!.createGroup(group, DEFAULT_CIPHERSUITE, ids.slice(1, 8).map((id) => ({ user: id, devices: ds.claim(id) })), { kind: "group", name: "T" }));
    for (const p of people.slice(1, 8)) await drain(ds, p!.engine);
    // Removing B (leaf 1) and F (leaf 5) blanks their paths; A's path then sets nodes 3 and 7 only.
    await commitVia(ds, a!, await a!.removeMembers(group, [b!.user, f!.user]));
    await drain(ds, e!);
    // Two adds without a path: M into leaf 1 (nodes 3 and 7 list it), L into leaf 5 (node 7 lists both).
    await commitVia(ds, e!, await e!.addMembers(group, [{ user: m!.user, devices: ds.claim(m!.user) }]));
    await commitVia(ds, e!, await e!.addMembers(group, [{ user: l!.user, devices: ds.claim(l!.user) }]));
    const joined = await drain(ds, l!);
    expect(joined.map((x) => x.type)).toEqual(["joined"]);
    const out = await e!.encryptText(group, "willkommen");
    ds.send(e!.address, group, out.epoch, out.data);
    expect(texts(await drain(ds, l!))).toEqual(["EEEEEEEE:willkommen"]);
  });

  it("protects a conversation with a passphrase: who has not entered it cannot read", async () => {
    const ds = new MemoryDeliveryService();
    const [alice, bob, carol, dave] = await Promise.all(
      ["AAAAAAAA", "BBBBBBBB", "CCCCCCCC", "DDDDDDDD"].map((id) => enroll(ds, id, id.replace(/./g, (c) => (c === "A" ? "1" : c)))),
    );
    const [a, b, c, d] = [alice!.engine, bob!.engine, carol!.engine, dave!.engine];
    const group = "g.PASSPHRASE0000000000000000";
    await commitVia(ds, a, await a.createGroup(group, DEFAULT_CIPHERSUITE, [b, c].map((e) => ({ user: e.user, devices: ds.claim(e.user) })), { kind: "group", name: "Bauamt" }));
    await drain(ds, b);
    await drain(ds, c);

    await commitVia(ds, a, await a.protect(group, "Rathaus 2026"));
    const out = await a.encryptText(group, "nur mit Passwort");
    ds.send(a.address, group, out.epoch, out.data);
    expect((await drain(ds, b)).map((e) => e.type)).toEqual(["passphrase_needed"]);
    await expect(b.enterPassphrase(group, "falsch!")).rejects.toThrow(/does not fit/);
    expect(texts(await b.enterPassphrase(group, "Rathaus 2026"))).toEqual(["AAAAAAAA:nur mit Passwort"]);

    // Carol never enters it: she cannot follow the group or read anything after the change.
    expect((await drain(ds, c)).map((e) => e.type)).toEqual(["passphrase_needed"]);
    expect(carol!.store.messages.map((m) => m.text)).toEqual([]);

    // Later commits inject it again: a new member needs it too, and a member's re-key works.
    await commitVia(ds, a, await a.addMembers(group, [{ user: d.user, devices: ds.claim(d.user) }]));
    await drain(ds, b);
    expect((await drain(ds, d)).map((e) => e.type)).toEqual(["passphrase_needed"]);
    expect((await d.enterPassphrase(group, "Rathaus 2026")).map((e) => e.type)).toEqual(["joined"]);
    await commitVia(ds, b, await b.rekey(group));
    expect((await drain(ds, a)).map((e) => e.type)).toEqual(["changed"]);
    expect((await drain(ds, d)).map((e) => e.type)).toEqual(["changed"]);
    const after = await d.encryptText(group, "angekommen");
    ds.send(d.address, group, after.epoch, after.data);
    expect(texts(await drain(ds, a))).toEqual(["DDDDDDDD:angekommen"]);
  });

  it("accepts only a reaction under the reaction flag", async () => {
    const ds = new MemoryDeliveryService();
    const alice = await enroll(ds, "AAAAAAAA", "A1A1A1A1");
    const bob = await enroll(ds, "BBBBBBBB", "B1B1B1B1");
    const first = await sendText(ds, alice.engine, "BBBBBBBB", "Stunde 1 fällt aus");
    await drain(ds, bob.engine);
    const group = alice.engine.directChat("BBBBBBBB");
    const frame = (seq: number, data: string): DeliverFrame => ({ t: "msg", seq, group, kind: "reaction", from: "AAAAAAAA/A1A1A1A1", data, at: 0 });
    const smuggled = await alice.engine.encryptText(group, "kein Daumen");
    expect(await bob.engine.receive(frame(500, smuggled.data))).toEqual([expect.objectContaining({ type: "undecryptable" })]);
    const thumbs = await alice.engine.encryptReaction(group, first.id, "👍");
    const events = await bob.engine.receive(frame(501, thumbs.data));
    expect(events).toEqual([expect.objectContaining({ type: "message", message: expect.objectContaining({ type: "reaction", text: "👍", target: first.id }) })]);
  });
});
