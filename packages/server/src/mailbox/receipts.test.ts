import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openDatabase } from "../storage/database.js";
import { Mailbox } from "./mailbox.js";
import { Receipts } from "./receipts.js";

const SENDER = "AAAAAAAA/A1A1A1A1";

function fresh() {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), "momedo-receipts-")), "db.sqlite"));
  return { db, mailbox: new Mailbox(db), receipts: new Receipts(db) };
}

const MESSAGE = "0123456789ABCDEF";

/** Writes a message with a receipt waiting for `people` into each of `devices` ([user, device]). */
function send(f: ReturnType<typeof fresh>, people: string[], devices: [string, string][]) {
  return f.db.transaction(() => {
    const receipt = f.receipts.open("g.TEST", SENDER, MESSAGE, people, Date.now());
    const seqs = devices.map(([user, device]) =>
      f.mailbox.insert(user, device, { group: "g.TEST", kind: "app", sender: SENDER, data: Buffer.from("x"), at: Date.now() }, undefined, receipt),
    );
    return { receipt, seqs };
  })();
}

/** What an acknowledgement completes; the entries are deleted afterwards, as the server does. */
function ack(f: ReturnType<typeof fresh>, user: string, device: string, upTo: number) {
  return f.db.transaction(() => {
    const done = f.receipts.acknowledged(user, device, upTo);
    f.mailbox.ack(user, device, upTo);
    return done;
  })();
}

describe("receipts", () => {
  it("completes a 1:1 receipt with the first of the person's devices, once", () => {
    const f = fresh();
    const { seqs } = send(f, ["BBBBBBBB"], [["BBBBBBBB", "B1B1B1B1"], ["BBBBBBBB", "B2B2B2B2"]]);
    expect(ack(f, "BBBBBBBB", "B2B2B2B2", seqs[1]!)).toEqual([{ group: "g.TEST", message: MESSAGE, sender: SENDER }]);
    expect(ack(f, "BBBBBBBB", "B1B1B1B1", seqs[0]!)).toEqual([]);
  });

  it("completes a group's receipt only when every other person fetched it", () => {
    const f = fresh();
    const { seqs } = send(f, ["BBBBBBBB", "CCCCCCCC"], [["BBBBBBBB", "B1B1B1B1"], ["BBBBBBBB", "B2B2B2B2"], ["CCCCCCCC", "C1C1C1C1"]]);
    expect(ack(f, "BBBBBBBB", "B1B1B1B1", seqs[0]!)).toEqual([]);
    expect(ack(f, "BBBBBBBB", "B2B2B2B2", seqs[1]!)).toEqual([]);
    expect(ack(f, "CCCCCCCC", "C1C1C1C1", seqs[2]! - 1)).toEqual([]);
    expect(ack(f, "CCCCCCCC", "C1C1C1C1", seqs[2]!)).toEqual([{ group: "g.TEST", message: MESSAGE, sender: SENDER }]);
    expect(f.db.prepare("SELECT (SELECT count(*) FROM receipts) + (SELECT count(*) FROM receipt_waits) AS n").get()).toEqual({ n: 0 });
  });

  it("forgets receipts whose messages expired unfetched", () => {
    const f = fresh();
    send(f, ["BBBBBBBB"], [["BBBBBBBB", "B1B1B1B1"]]);
    f.mailbox.expire(Date.now() + 1000);
    expect(f.db.prepare("SELECT count(*) AS n FROM receipts").get()).toEqual({ n: 0 });
  });
});
