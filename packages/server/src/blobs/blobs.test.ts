// The blob service against real SQLite and the real filesystem store, with a clock the test
// moves: quotas, size and hash checks, resuming, expiry, and deletion once every recipient fetched.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { sha256 } from "@noble/hashes/sha2.js";
import { beforeEach, describe, expect, it } from "vitest";
import { MomedoError, type ErrorCode } from "@momedo/protocol";
import { openDatabase } from "../storage/database.js";
import { Blobs, type Conversations } from "./blobs.js";
import { FileBlobStore } from "./blobStore.js";
import { signBlobToken } from "./blobTokens.js";

const SENDER = "AAAAAAAA/DDDDDDDD";
const PHONE = "BBBBBBBB/DDDDDDDD";
const TABLET = "BBBBBBBB/EEEEEEEE";
const OUTSIDER = "CCCCCCCC/DDDDDDDD";
const DAY = 24 * 60 * 60 * 1000;

/** One group with the sender and Bob's two devices. */
const conversations: Conversations = {
  activeMembers: (group) => (group === "g.team" ? [SENDER, PHONE, TABLET] : undefined),
  checkPost: (sender, group) => {
    if (group !== "g.team" || sender === OUTSIDER) throw new MomedoError("not_member", group);
  },
};

async function code(promise: Promise<unknown> | (() => unknown)): Promise<ErrorCode | "none"> {
  try {
    await (typeof promise === "function" ? promise() : promise);
    return "none";
  } catch (error) {
    if (error instanceof MomedoError) return error.code;
    throw error;
  }
}

async function drain(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

describe("blobs", () => {
  let now: number;
  let dir: string;
  let blobs: Blobs;
  const db = () => openDatabase(join(dir, "momedo.sqlite"));

  beforeEach(async () => {
    now = 1_800_000_000_000;
    dir = mkdtempSync(join(tmpdir(), "momedo-blobs-"));
    const store = new FileBlobStore(join(dir, "blobs"));
    await store.init();
    blobs = new Blobs(db(), store, conversations, { userQuotaBytes: 1000, serverQuotaBytes: 1500, ttlMs: DAY, resumeMs: 60_000 }, () => now);
  });

  async function upload(bytes: Buffer, address = SENDER) {
    const { blob, token } = await blobs.reserve(address, "g.team", bytes.length);
    await blobs.receive(blob, token, 0, Readable.from([bytes]));
    await blobs.complete(address, blob, sha256(bytes));
    return blob;
  }

  it("serves a finished blob to members only, and deletes it once every recipient device fetched it", async () => {
    const bytes = randomBytes(600);
    const blob = await upload(bytes);
    expect(await code(() => blobs.ticket(OUTSIDER, blob))).toBe("not_member");
    for (const device of [PHONE, TABLET]) {
      const download = await blobs.open(blob, blobs.ticket(device, blob).token);
      expect((await drain(download.stream)).equals(bytes)).toBe(true);
      await download.fetched();
    }
    expect(await code(() => blobs.ticket(PHONE, blob))).toBe("blob_not_found");
    expect(readdirSync(join(dir, "blobs")).filter((f) => f !== "partial")).toEqual([]);
  });

  it("refuses a download token for another blob, an upload token, and an expired one", async () => {
    const blob = await upload(randomBytes(10));
    const other = await upload(randomBytes(10));
    const { token } = blobs.ticket(PHONE, other);
    expect(await code(blobs.open(blob, token))).toBe("blob_token_invalid");
    const { token: put } = await blobs.reserve(SENDER, "g.team", 5);
    expect(await code(blobs.open(blob, put))).toBe("blob_token_invalid");
    const fresh = blobs.ticket(PHONE, blob).token;
    now += 11 * 60 * 1000;
    expect(await code(blobs.open(blob, fresh))).toBe("blob_token_expired");
    expect(await code(blobs.open(blob, signBlobToken(randomBytes(32), { purpose: "get", blob, address: PHONE, expires: now + 1000 })))).toBe(
      "blob_token_invalid",
    );
  });

  it("counts every blob not yet deleted against the person's and the server's quota", async () => {
    await upload(randomBytes(700));
    expect(await code(blobs.reserve(SENDER, "g.team", 301))).toBe("blob_quota_exceeded");
    await blobs.reserve(SENDER, "g.team", 300);
    expect(await code(blobs.reserve(PHONE, "g.team", 501))).toBe("blob_quota_exceeded");
    expect(await code(blobs.reserve(OUTSIDER, "g.team", 1))).toBe("not_member");
  });

  it("keeps what arrived for a resume, refuses more than announced, and checks size and hash at the end", async () => {
    const bytes = randomBytes(500);
    const { blob, token } = await blobs.reserve(SENDER, "g.team", bytes.length);
    expect(await blobs.receive(blob, token, 0, Readable.from([bytes.subarray(0, 200)]))).toBe(200);
    expect(await code(blobs.complete(SENDER, blob, sha256(bytes)))).toBe("blob_incomplete");
    expect(await code(blobs.receive(blob, token, 300, Readable.from([bytes.subarray(300)])))).toBe("blob_incomplete");
    expect(await blobs.received(blob, token)).toBe(200);
    // Resuming before the end of what is held overwrites from there.
    expect(await blobs.receive(blob, token, 100, Readable.from([bytes.subarray(100)]))).toBe(500);
    expect(await code(blobs.receive(blob, token, 500, Readable.from([Buffer.from("x")])))).toBe("frame_too_large");
    expect(await blobs.received(blob, token)).toBe(500);
    await blobs.complete(SENDER, blob, sha256(bytes));
    const download = await blobs.open(blob, blobs.ticket(PHONE, blob).token);
    expect((await drain(download.stream)).equals(bytes)).toBe(true);
  });

  it("discards an upload whose hash does not match", async () => {
    const bytes = randomBytes(100);
    const { blob, token } = await blobs.reserve(SENDER, "g.team", 100);
    await blobs.receive(blob, token, 0, Readable.from([bytes]));
    expect(await code(blobs.complete(SENDER, blob, sha256(randomBytes(100))))).toBe("blob_hash_mismatch");
    expect(await code(blobs.received(blob, token))).toBe("blob_not_found");
    expect(readdirSync(join(dir, "blobs", "partial"))).toEqual([]);
  });

  it("sweeps abandoned uploads after the resume window and finished blobs when they expire", async () => {
    const { blob: abandoned, token } = await blobs.reserve(SENDER, "g.team", 100);
    await blobs.receive(abandoned, token, 0, Readable.from([randomBytes(40)]));
    const finished = await upload(randomBytes(100));
    now += 61_000;
    expect(await blobs.sweep()).toBe(1);
    expect(readdirSync(join(dir, "blobs", "partial"))).toEqual([]);
    expect(blobs.ticket(PHONE, finished).size).toBe(100);
    now += DAY;
    expect(await code(() => blobs.ticket(PHONE, finished))).toBe("blob_not_found");
    expect(await blobs.sweep()).toBe(1);
    expect(readdirSync(join(dir, "blobs")).filter((f) => f !== "partial")).toEqual([]);
  });
});
