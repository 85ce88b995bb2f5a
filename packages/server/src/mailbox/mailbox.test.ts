import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../storage/database.js";
import { Mailbox } from "./mailbox.js";
import { WriteQueue } from "./writeQueue.js";

const DAY = 24 * 60 * 60 * 1000;

function fresh() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), "momedo-mailbox-")), "db.sqlite"));
  return { db, mailbox: new Mailbox(db) };
}

const entry = (at: number, text = "x") => ({ group: "d.TEST", kind: "app" as const, sender: "AAAAAAAA/AAAAAAAA", data: Buffer.from(text), at });

describe("mailbox", () => {
  it("pages a device's entries in order and deletes only what that device acknowledged", () => {
    const { mailbox } = fresh();
    const seqs = [1, 2, 3].map((i) => mailbox.insert("BBBBBBBB", "B1B1B1B1", entry(Date.now(), `m${i}`)));
    mailbox.insert("BBBBBBBB", "B2B2B2B2", entry(Date.now(), "other"));
    expect(mailbox.page("BBBBBBBB", "B1B1B1B1", 0, 2).map((e) => e.data.toString())).toEqual(["m1", "m2"]);
    expect(mailbox.page("BBBBBBBB", "B1B1B1B1", seqs[1]!, 10).map((e) => e.data.toString())).toEqual(["m3"]);
    expect(mailbox.ack("BBBBBBBB", "B1B1B1B1", 1_000_000)).toBe(3);
    expect(mailbox.page("BBBBBBBB", "B2B2B2B2", 0, 10).map((e) => e.data.toString())).toEqual(["other"]);
  });

  it("expires entries nobody fetched within the retention time", () => {
    const { mailbox } = fresh();
    const now = Date.now();
    mailbox.insert("BBBBBBBB", "B1B1B1B1", entry(now - 31 * DAY, "old"));
    mailbox.insert("BBBBBBBB", "B1B1B1B1", entry(now - 29 * DAY, "recent"));
    expect(mailbox.expire(now - 30 * DAY)).toBe(1);
    expect(mailbox.page("BBBBBBBB", "B1B1B1B1", 0, 10).map((e) => e.data.toString())).toEqual(["recent"]);
  });

  it("commits queued writes together and runs their follow-ups only after the commit", async () => {
    const { db, mailbox } = fresh();
    const queue = new WriteQueue(db, (e) => {
      throw e;
    });
    const order: string[] = [];
    queue.enqueue(() => void mailbox.insert("BBBBBBBB", "B1B1B1B1", entry(Date.now())), () => order.push("a"));
    queue.enqueue(() => void mailbox.insert("BBBBBBBB", "B1B1B1B1", entry(Date.now())), () => order.push("b"));
    expect(order).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["a", "b"]);
    expect(mailbox.backlog()).toBe(2);
  });

  it("reports a failed batch instead of running its follow-ups", async () => {
    const { db } = fresh();
    const failures: unknown[] = [];
    const queue = new WriteQueue(db, (e) => failures.push(e));
    let followed = false;
    queue.enqueue(() => db.prepare("INSERT INTO no_such_table VALUES (1)").run(), () => (followed = true));
    queue.flush();
    expect(failures).toHaveLength(1);
    expect(followed).toBe(false);
  });

  it("stores a large payload for many devices once and drops it when the last copy is acknowledged", () => {
    const { db, mailbox } = fresh();
    const welcome = Buffer.alloc(4096, 7);
    const payload = mailbox.storePayload(welcome);
    for (const device of ["D1D1D1D1", "D2D2D2D2", "D3D3D3D3"]) mailbox.insert("BBBBBBBB", device, entry(Date.now()), payload);
    expect(mailbox.page("BBBBBBBB", "D2D2D2D2", 0, 10).map((e) => e.data.equals(welcome))).toEqual([true]);
    const stored = db.prepare("SELECT sum(length(data)) AS n FROM mailbox").get() as { n: number };
    expect(stored.n).toBe(0);
    mailbox.ack("BBBBBBBB", "D1D1D1D1", 1e9);
    mailbox.ack("BBBBBBBB", "D2D2D2D2", 1e9);
    expect(mailbox.dropUnusedPayloads()).toBe(0);
    mailbox.ack("BBBBBBBB", "D3D3D3D3", 1e9);
    expect(mailbox.dropUnusedPayloads()).toBe(1);
  });
});
