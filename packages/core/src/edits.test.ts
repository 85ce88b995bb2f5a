import { describe, expect, it } from "vitest";
import { Engine } from "./engine.js";
import { DEFAULT_CIPHERSUITE } from "./mls.js";
import { MemoryDeliveryService, enroll, drain, commitVia } from "./testing/memoryDelivery.js";

describe("replies, edits and deletions", () => {
  it("applies an edit or delete from the message's sender and refuses one from another member", async () => {
    const ds = new MemoryDeliveryService();
    const [alice, bob, carol] = await Promise.all(["AAAAAAAA", "BBBBBBBB", "CCCCCCCC"].map((id) => enroll(ds, id, `D${id.slice(1)}`)));
    const [a, b, c] = [alice!.engine, bob!.engine, carol!.engine];
    const group = "g.EDITS0000000000000000000000";
    await commitVia(ds, a, await a.createGroup(group, DEFAULT_CIPHERSUITE, [b, c].map((e) => ({ user: e.user, devices: ds.claim(e.user) })), { kind: "group", name: "T" }));
    await drain(ds, b);
    await drain(ds, c);
    const send = async (out: { epoch: number; data: string }, from: Engine) => expect(ds.send(from.address, group, out.epoch, out.data)).toBe("ok");

    const first = await a.encryptText(group, "Termin um 9");
    await send(first, a);
    await drain(ds, b);
    const reply = await b.encryptText(group, "passt", undefined, first.message.id);
    await send(reply, b);
    await drain(ds, a);
    await drain(ds, c);
    expect((await c.history()).find((m) => m.id === reply.message.id)?.replyTo).toBe(first.message.id);

    // Alice edits her text: applied everywhere, marked edited.
    await send(await a.encryptEdit(group, first.message.id, "Termin um 10"), a);
    const atBob = await drain(ds, b);
    expect(atBob.map((e) => (e.type === "message" ? e.message.type : e.type))).toEqual(["edit"]);
    for (const store of [alice!.store, bob!.store, carol!.store]) {
      if (store !== alice!.store) await drain(ds, store === bob!.store ? b : c);
      expect(await store.loadMessage(group, first.message.id)).toMatchObject({ text: "Termin um 10", edited: true });
    }

    // Bob cannot edit or delete Alice's message: not even locally, and a forged one is refused.
    await expect(b.encryptEdit(group, first.message.id, "gefälscht")).rejects.toThrow(/own messages/);
    await expect(b.encryptDelete(group, first.message.id)).rejects.toThrow(/own messages/);
    // A forged one: Bob's own store is tampered with so that Alice's message looks like his.
    const forgedStore = bob!.store.messages.find((m) => m.id === first.message.id)!;
    forgedStore.from = b.user;
    const forged = await b.encryptDelete(group, first.message.id);
    await send(forged, b);
    const refused = await drain(ds, c);
    expect(refused.map((e) => e.type)).toEqual(["undecryptable"]);
    expect(await carol!.store.loadMessage(group, first.message.id)).toMatchObject({ text: "Termin um 10" });
    expect(await carol!.store.loadMessage(group, first.message.id)).not.toHaveProperty("deleted");
    await drain(ds, a);

    // Alice deletes it: the text is gone everywhere, the row stays as a marker.
    await send(await a.encryptDelete(group, first.message.id), a);
    await drain(ds, b);
    await drain(ds, c);
    for (const store of [alice!.store, carol!.store]) {
      expect(await store.loadMessage(group, first.message.id)).toMatchObject({ type: "text", text: "", deleted: true });
    }
    expect(carol!.store.messages.some((m) => m.text.includes("Termin"))).toBe(false);
    // A reaction is not deleted on its own.
    const reaction = await a.encryptReaction(group, reply.message.id, "👍");
    await expect(a.encryptDelete(group, reaction.message.id)).rejects.toThrow(/own messages/);
    // A deleted message cannot be edited any more.
    await expect(a.encryptEdit(group, first.message.id, "wieder da")).rejects.toThrow(/own messages/);
  });
});
