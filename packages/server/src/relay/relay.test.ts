// The relay against a real server: real WebSockets, real SQLite, raw frames. Covers sign-in,
// refusal of bad input, a fuzzing property, authorisation, HTTP enrollment failures and the
// mailbox's resume-after-ack guarantee.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  authChallengeText,
  decodeClientFrame,
  decodeServerFrame,
  directChatId,
  MomedoError,
  parseInvite,
  toBase64,
  type ChallengeFrame,
  type DeliverFrame,
  type EnrollResponse,
  type ErrFrame,
  type OkFrame,
  type ServerFrame,
} from "@momedo/protocol";
import { addUser } from "../admin/commands.js";
import { DEFAULT_CIPHERSUITE_NAME, XWING_CIPHERSUITE_NAME } from "../ciphersuite.js";
import { startServer, type RunningServer } from "../server.js";

// --- helpers ----------------------------------------------------------------------------------

interface Device {
  user: string;
  device: string;
  address: string;
  secretKey: Uint8Array;
}

interface Closed {
  code: number;
  reason: string;
}

type FrameOf<T extends ServerFrame["t"]> = Extract<ServerFrame, { t: T }>;
type Predicate<T extends ServerFrame> = (frame: ServerFrame) => frame is T;

const is =
  <T extends ServerFrame["t"]>(t: T) =>
  (frame: ServerFrame): frame is FrameOf<T> =>
    frame.t === t;
const isReply =
  (id: number) =>
  (frame: ServerFrame): frame is OkFrame | ErrFrame =>
    (frame.t === "ok" || frame.t === "err") && frame.id === id;
const isMsg = is("msg");

const b64 = (bytes: number) => randomBytes(bytes).toString("base64");

/** A device's WebSocket at the frame level. Every frame the server sends must decode. */
class RawClient {
  readonly ws: WebSocket;
  /** Every frame received, in order. */
  readonly received: ServerFrame[] = [];
  /** Frames not yet taken by next(). */
  private readonly unread: ServerFrame[] = [];
  private readonly waiters: { predicate: (f: ServerFrame) => boolean; resolve: (f: ServerFrame) => void; reject: (e: Error) => void }[] = [];
  readonly invalid: string[] = [];
  readonly closed: Promise<Closed>;
  closeInfo: Closed | undefined;
  private nextId = 1;

  private constructor(url: string) {
    this.ws = new WebSocket(`${url.replace(/^http/, "ws")}/api/v1/ws`);
    this.ws.on("error", () => undefined);
    this.ws.on("message", (data, isBinary) => {
      const text = isBinary ? "<binary>" : (data as Buffer).toString("utf8");
      let frame: ServerFrame;
      try {
        frame = decodeServerFrame(text);
      } catch (error) {
        // Recorded (and asserted on by the tests) but still handed on, so one schema mismatch
        // shows as a clear failure instead of a cascade of timeouts.
        this.invalid.push(`${text.slice(0, 200)}: ${error instanceof MomedoError ? error.detail : String(error)}`);
        try {
          frame = JSON.parse(text) as ServerFrame;
        } catch {
          return;
        }
        if (typeof frame !== "object" || frame === null || typeof frame.t !== "string") return;
      }
      this.received.push(frame);
      const waiter = this.waiters.findIndex((w) => w.predicate(frame));
      if (waiter >= 0) this.waiters.splice(waiter, 1)[0]!.resolve(frame);
      else this.unread.push(frame);
    });
    this.closed = new Promise((resolve) => {
      this.ws.on("close", (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        for (const w of this.waiters.splice(0)) w.reject(new Error(`connection closed (${code} ${reason.toString()})`));
        resolve(this.closeInfo);
      });
    });
  }

  /** Opens a connection and waits for the server's challenge. */
  static async open(url: string): Promise<RawClient & { challenge: ChallengeFrame }> {
    const client = new RawClient(url);
    const challenge = await client.next(is("challenge"));
    return Object.assign(client, { challenge });
  }

  /** Opens, signs in, and waits for "ready" and (unless told not to) "synced"; backlog stays unread for next(). */
  static async signedIn(url: string, device: Device, waitSynced = true): Promise<RawClient> {
    const client = await RawClient.open(url);
    client.send({ t: "auth", user: device.user, device: device.device, sig: signChallenge(client.challenge, device) });
    const ready = await client.next(is("ready"));
    expect(ready).toMatchObject({ t: "ready", user: device.user, device: device.device });
    if (waitSynced) await client.next(is("synced"));
    return client;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The first unread frame matching `predicate`, now or when it arrives. */
  next<T extends ServerFrame>(predicate: Predicate<T>, timeoutMs = 5_000): Promise<T> {
    const index = this.unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0] as T);
    if (this.closeInfo) return Promise.reject(new Error(`connection closed (${this.closeInfo.code})`));
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (f: ServerFrame) => {
          clearTimeout(timer);
          resolve(f as T);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching frame within ${timeoutMs} ms; unread: ${JSON.stringify(this.unread).slice(0, 500)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Unread frames matching `predicate`, taken now. */
  take<T extends ServerFrame>(predicate: Predicate<T>): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.unread.length; ) {
      const frame = this.unread[i]!;
      if (predicate(frame)) {
        out.push(frame);
        this.unread.splice(i, 1);
      } else i++;
    }
    return out;
  }

  /** Sends a request frame (an id is added) and waits for its reply. */
  async request(frame: Record<string, unknown>): Promise<OkFrame | ErrFrame> {
    const id = this.nextId++;
    this.send({ ...frame, id });
    return this.next(isReply(id));
  }

  async ok<R = unknown>(frame: Record<string, unknown>): Promise<R> {
    const reply = await this.request(frame);
    if (reply.t !== "ok") throw new Error(`expected ok for ${String(frame.t)}, got ${JSON.stringify(reply)}`);
    return reply.result as R;
  }

  async ping(): Promise<void> {
    const result = await this.ok<{ time: number }>({ t: "ping" });
    expect(typeof result.time).toBe("number");
  }

  async close(): Promise<Closed> {
    if (!this.closeInfo) this.ws.close(1000);
    return this.closed;
  }
}

function signChallenge(challenge: ChallengeFrame, device: Device): string {
  return toBase64(ed25519.sign(authChallengeText(challenge.nonce, device.user, device.device), device.secretKey));
}

async function postEnroll(url: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/api/v1/enroll`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  const text = await response.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: response.status, body: parsed };
}

async function enroll(url: string, code: string): Promise<Device> {
  const { secretKey, publicKey } = ed25519.keygen();
  const response = await postEnroll(url, JSON.stringify({ code, signaturePublicKey: toBase64(publicKey) }));
  expect(response.status).toBe(200);
  const body = response.body as unknown as EnrollResponse;
  return { user: body.user, device: body.device, address: `${body.user}/${body.device}`, secretKey };
}

// --- the server -------------------------------------------------------------------------------

const MAX_MESSAGE_BYTES = 64 * 1024;
let server: RunningServer;
let dataDir: string;
const clients: RawClient[] = [];

async function person(name: string): Promise<Device> {
  const { invite } = addUser(server.data, { name: name }, "cli");
  return enroll(server.url, parseInvite(invite).code);
}

async function secondDevice(user: string): Promise<Device> {
  return enroll(server.url, server.data.invites.create(user));
}

async function connect(device: Device, waitSynced = true): Promise<RawClient> {
  const client = await RawClient.signedIn(server.url, device, waitSynced);
  clients.push(client);
  return client;
}

async function open(): Promise<RawClient & { challenge: ChallengeFrame }> {
  const client = await RawClient.open(server.url);
  clients.push(client);
  return client;
}

const count = (sql: string, ...params: unknown[]) => (server.data.db.prepare(sql).get(...params) as { n: number }).n;
const mailboxCount = () => count("SELECT count(*) AS n FROM mailbox");
const mailboxOf = (d: Device) => count("SELECT count(*) AS n FROM mailbox WHERE user_id = ? AND device_id = ?", d.user, d.device);
const deviceCount = () => count("SELECT count(*) AS n FROM devices");
const epochOf = (group: string) =>
  (server.data.db.prepare("SELECT epoch FROM groups WHERE id = ?").get(group) as { epoch: number } | undefined)?.epoch;
const snapshot = () => ({
  mailbox: mailboxCount(),
  groups: count("SELECT count(*) AS n FROM groups"),
  epochs: count("SELECT coalesce(sum(epoch), 0) AS n FROM groups"),
  members: count("SELECT count(*) AS n FROM group_members"),
});

/** Creates the direct chat of `a` and `b` with one device each (the server treats MLS bytes as opaque). */
async function directChat(client: RawClient, a: Device, b: Device, extra: Device[] = []): Promise<string> {
  const group = directChatId(a.user, b.user);
  const result = await client.ok<{ epoch: number }>({
    t: "group.commit",
    group,
    epoch: 0,
    commit: b64(64),
    welcome: b64(64),
    members: [a.address, b.address, ...extra.map((d) => d.address)],
  });
  expect(result).toEqual({ epoch: 1 });
  return group;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "momedo-relay-"));
  server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false, maxMessageBytes: MAX_MESSAGE_BYTES });
});

afterAll(async () => {
  for (const client of clients) client.ws.terminate();
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// --- sign-in ----------------------------------------------------------------------------------

describe("sign-in", () => {
  let alice: Device;
  let bob: Device;

  beforeAll(async () => {
    alice = await person("Alice Auth");
    bob = await person("Bob Auth");
  });

  it("signs in with a fresh challenge and records the device as seen", async () => {
    const before = Date.now();
    const client = await open();
    expect(fromB64Length(client.challenge.nonce)).toBe(32);
    expect(client.challenge.server).toBe("momedo");
    const other = await open();
    expect(other.challenge.nonce).not.toBe(client.challenge.nonce);
    client.send({ t: "auth", user: alice.user, device: alice.device, sig: signChallenge(client.challenge, alice) });
    expect(await client.next(is("ready"))).toMatchObject({ t: "ready", user: alice.user, device: alice.device });
    await client.next(is("synced"));
    await client.ping();
    // challenge, ready, synced and ok all pass the protocol's own server-frame schema
    expect(client.invalid).toEqual([]);
    expect(client.received.map((f) => f.t)).toEqual(["challenge", "ready", "synced", "ok"]);
    const seen = server.data.db
      .prepare("SELECT last_seen AS t FROM devices WHERE user_id = ? AND id = ?")
      .get(alice.user, alice.device) as { t: number };
    expect(seen.t).toBeGreaterThanOrEqual(before);
    await client.close();
    await other.close();
  });

  async function expectAuthFailed(client: RawClient, user: string, device: string, sig: string) {
    client.send({ t: "auth", user, device, sig });
    const err = await client.next(is("err"));
    expect(err.code).toBe("auth_failed");
    expect(err.id).toBeUndefined();
    expect((await client.closed).code).toBe(4401);
    expect(client.received.some((f) => f.t === "ready")).toBe(false);
  }

  it("names a ciphersuite in ready that the protocol's own schemas accept", async () => {
    const client = await connect(alice);
    const ready = client.received.find((f) => f.t === "ready") as Record<string, unknown> | undefined;
    expect(client.invalid).toEqual([]);
    for (const suite of [DEFAULT_CIPHERSUITE_NAME, XWING_CIPHERSUITE_NAME]) {
      expect(() => decodeServerFrame(JSON.stringify({ ...ready, suite }))).not.toThrow();
      expect(() => decodeClientFrame(JSON.stringify({ t: "keys.claim", id: 1, user: alice.user, suite }))).not.toThrow();
    }
    await client.close();
  });

  it("refuses a signature by another key", async () => {
    const client = await open();
    const forged = ed25519.sign(authChallengeText(client.challenge.nonce, alice.user, alice.device), ed25519.keygen().secretKey);
    await expectAuthFailed(client, alice.user, alice.device, toBase64(forged));
  });

  it("refuses a valid signature for another device", async () => {
    const client = await open();
    // Alice signs correctly but claims to be Bob's device.
    const sig = toBase64(ed25519.sign(authChallengeText(client.challenge.nonce, bob.user, bob.device), alice.secretKey));
    await expectAuthFailed(client, bob.user, bob.device, sig);
  });

  it("refuses a signature replayed from another connection's challenge", async () => {
    const first = await open();
    const second = await open();
    await expectAuthFailed(second, alice.user, alice.device, signChallenge(first.challenge, alice));
    // The first connection's own challenge still works.
    first.send({ t: "auth", user: alice.user, device: alice.device, sig: signChallenge(first.challenge, alice) });
    await first.next(is("ready"));
    await first.close();
  });

  it("refuses garbage and empty signatures", async () => {
    for (const sig of ["", "AAAA", b64(64)]) {
      const client = await open();
      await expectAuthFailed(client, alice.user, alice.device, sig);
    }
    // Text that is not canonical base64 never reaches the signature check.
    const client = await open();
    client.send({ t: "auth", user: alice.user, device: alice.device, sig: "A" });
    expect((await client.next(is("err"))).code).toBe("bad_frame");
    expect((await client.closed).code).toBe(4400);
  });

  it("refuses an unknown device and an unknown user", async () => {
    await expectAuthFailed(await open(), alice.user, "ZZZZZZZZ", b64(64));
    const client = await open();
    const stranger = { user: "ZZZZZZZZ", device: "YYYYYYYY", address: "", secretKey: ed25519.keygen().secretKey };
    await expectAuthFailed(client, stranger.user, stranger.device, signChallenge(client.challenge, stranger));
  });

  it("answers a request before sign-in with not_authenticated and closes", async () => {
    for (const frame of [
      { t: "ping", id: 1 },
      { t: "ack", seq: 1 },
      { t: "group.send", id: 1, group: "d.0000", epoch: 1, data: "AAAA" },
    ]) {
      const client = await open();
      client.send(frame);
      const err = await client.next(is("err"));
      expect(err.code).toBe("not_authenticated");
      expect((await client.closed).code).toBe(4401);
    }
  });

  it("cannot claim KeyPackages without signing in", async () => {
    const bobClient = await connect(bob);
    expect(await bobClient.ok({ t: "keys.upload", keyPackages: [b64(100), b64(100)] })).toEqual({ held: 2 });
    const held = count("SELECT count(*) AS n FROM key_packages WHERE user_id = ?", bob.user);
    const client = await open();
    client.send({ t: "keys.claim", id: 1, user: bob.user });
    expect((await client.next(is("err"))).code).toBe("not_authenticated");
    expect((await client.closed).code).toBe(4401);
    expect(client.received.some((f) => f.t === "ok")).toBe(false);
    expect(count("SELECT count(*) AS n FROM key_packages WHERE user_id = ?", bob.user)).toBe(held);
    await bobClient.close();
  });

  it("refuses a second auth on a signed-in connection but keeps it open", async () => {
    const client = await connect(alice);
    client.send({ t: "auth", user: bob.user, device: bob.device, sig: b64(64) });
    expect((await client.next(is("err"))).code).toBe("bad_frame");
    await client.ping();
    expect(client.closeInfo).toBeUndefined();
    await client.close();
  });

  it("replaces an older connection of the same device", async () => {
    const first = await connect(alice);
    const second = await connect(alice);
    expect((await first.closed).code).toBe(4409);
    await second.ping();
    await second.close();
  });
});

function fromB64Length(text: string): number {
  return Buffer.from(text, "base64").length;
}

// --- bad input --------------------------------------------------------------------------------

describe("bad input", () => {
  let alice: Device;
  let bob: Device;
  let watcher: RawClient;
  let group: string;

  beforeAll(async () => {
    alice = await person("Alice Input");
    bob = await person("Bob Input");
    watcher = await connect(bob);
    const aliceClient = await connect(alice);
    group = await directChat(aliceClient, alice, bob);
    await watcher.next(isMsg); // the welcome
    await aliceClient.close();
  });

  it.each([
    ["invalid JSON", "{not json", "bad_frame"],
    ["a JSON array", "[1,2,3]", "bad_frame"],
    ["JSON null", "null", "bad_frame"],
    ["an unknown type", '{"t":"teleport","id":1}', "unknown_type"],
    ["a server frame type", '{"t":"msg","seq":1}', "unknown_type"],
    ["a ping without id", '{"t":"ping"}', "bad_frame"],
    ["a send without data", '{"t":"group.send","id":1,"group":"d.ABCD","epoch":1}', "bad_frame"],
    ["an extra field", '{"t":"ping","id":1,"x":true}', "bad_frame"],
    ["a negative ack", '{"t":"ack","seq":-1}', "bad_frame"],
    ["a bad user ID", '{"t":"keys.claim","id":1,"user":"nobody"}', "bad_frame"],
  ])("refuses %s with %s (after sign-in) and closes with 4400", async (_name, text, code) => {
    const client = await connect(alice);
    client.send(text);
    const err = await client.next(is("err"));
    expect(err.code).toBe(code);
    expect(err.id).toBeUndefined();
    expect((await client.closed).code).toBe(4400);
    // Another, well-behaved device on the same server is unaffected.
    await watcher.ping();
  });

  it("refuses bad input before sign-in with 4400 too", async () => {
    const client = await open();
    client.send("\u0000garbage");
    expect((await client.next(is("err"))).code).toBe("bad_frame");
    expect((await client.closed).code).toBe(4400);
    await watcher.ping();
  });

  it("refuses a binary frame with bad_frame and 4400, even if it holds a valid frame", async () => {
    const client = await connect(alice);
    client.send(Buffer.from('{"t":"ping","id":1}'));
    expect((await client.next(is("err"))).code).toBe("bad_frame");
    expect((await client.closed).code).toBe(4400);
    expect(client.received.some((f) => f.t === "ok")).toBe(false);
    await watcher.ping();
  });

  it("closes a connection sending a frame above maxPayload with 1009 and keeps serving others", async () => {
    const before = snapshot();
    const client = await connect(alice);
    const maxPayload = Math.ceil((MAX_MESSAGE_BYTES * 4) / 3) + 64 * 1024;
    client.send({ t: "group.send", id: 1, group, epoch: 1, data: "A".repeat(maxPayload + 1024) });
    expect((await client.closed).code).toBe(1009);
    expect(client.received.some((f) => f.t === "ok")).toBe(false);
    await watcher.ping();
    expect(snapshot()).toEqual(before);
  });

  it("refuses a message that decodes to more than maxMessageBytes with frame_too_large, connection stays open", async () => {
    const before = snapshot();
    const client = await connect(alice);
    const data = randomBytes(70 * 1024).toString("base64"); // ~93 KiB of text: below maxPayload, above maxMessageBytes
    const reply = await client.request({ t: "group.send", group, epoch: 1, data });
    expect(reply).toMatchObject({ t: "err", code: "frame_too_large" });
    const commit = await client.request({ t: "group.commit", group, epoch: 1, commit: data, members: [alice.address, bob.address] });
    expect(commit).toMatchObject({ t: "err", code: "frame_too_large" });
    // Exactly at the limit is fine.
    expect(await client.ok({ t: "group.send", group, epoch: 1, data: b64(MAX_MESSAGE_BYTES) })).toEqual({ delivered: 1 });
    await client.ping();
    expect(client.closeInfo).toBeUndefined();
    expect(snapshot()).toEqual({ ...before, mailbox: before.mailbox + 1 });
    const delivered = await watcher.next(isMsg);
    expect(Buffer.from(delivered.data, "base64").length).toBe(MAX_MESSAGE_BYTES);
    await client.close();
  });

  it("refuses an empty payload with bad_frame without closing", async () => {
    const client = await connect(alice);
    expect(await client.request({ t: "group.send", group, epoch: 1, data: "" })).toMatchObject({ t: "err", code: "bad_frame" });
    await client.ping();
    await client.close();
  });
});

// --- fuzzing against the live server ----------------------------------------------------------

describe("fuzzing the relay", () => {
  let fuzzer: Device;
  let peer: Device;
  let peerClient: RawClient;
  let group: string;

  beforeAll(async () => {
    fuzzer = await person("Fuzz");
    peer = await person("Peer");
    peerClient = await connect(peer);
    const fuzzClient = await connect(fuzzer);
    group = await directChat(fuzzClient, fuzzer, peer);
    await fuzzClient.close();
  });

  const BASES = ["ping", "ack", "keys.claim", "keys.upload", "group.send", "group.commit", "auth"] as const;

  /** Valid request frames for the current state, to be mutated. */
  function base(kind: (typeof BASES)[number], id: number): Record<string, unknown> {
    const epoch = epochOf(group) ?? 0;
    switch (kind) {
      case "ping":
        return { t: "ping", id };
      case "ack":
        return { t: "ack", seq: 1 };
      case "keys.claim":
        return { t: "keys.claim", id, user: peer.user };
      case "keys.upload":
        return { t: "keys.upload", id, keyPackages: [b64(64)], lastResort: b64(80) };
      case "group.send":
        return { t: "group.send", id, group, epoch, data: b64(16) };
      case "group.commit":
        return { t: "group.commit", id, group, epoch, commit: b64(32), members: [fuzzer.address, peer.address] };
      case "auth":
        return { t: "auth", user: fuzzer.user, device: fuzzer.device, sig: b64(64) };
    }
  }

  const oddValue: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom<unknown>(-1, 0, 1, 1.5, 2 ** 31, 2 ** 31 + 1, "", "AAAA", "ABCDEFGH", "abcdefgh", "d.0000", null, true, [], {}, ["AAAA"]),
    fc.jsonValue({ maxDepth: 2 }),
    fc.string(),
    fc.integer(),
  );
  type Mutation =
    | { op: "delete"; index: number }
    | { op: "replace"; index: number; value: unknown }
    | { op: "add"; key: string; value: unknown }
    | { op: "retype"; t: string };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant("delete" as const), index: fc.nat() }),
    fc.record({ op: fc.constant("replace" as const), index: fc.nat(), value: oddValue }),
    fc.record({ op: fc.constant("add" as const), key: fc.oneof(fc.string(), fc.constantFrom("__proto__", "id", "extra")), value: oddValue }),
    fc.record({ op: fc.constant("retype" as const), t: fc.oneof(fc.constantFrom(...BASES), fc.string()) }),
  );

  function mutate(frame: Record<string, unknown>, mutations: Mutation[]): Record<string, unknown> {
    const out = { ...frame };
    for (const m of mutations) {
      const keys = Object.keys(out);
      if (m.op === "delete" && keys.length > 0) delete out[keys[m.index % keys.length]!];
      else if (m.op === "replace" && keys.length > 0) out[keys[m.index % keys.length]!] = m.value;
      else if (m.op === "add") Object.defineProperty(out, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
      else if (m.op === "retype") out.t = m.t;
    }
    return out;
  }

  type Input = { kind: "text"; text: string } | { kind: "mutation"; base: (typeof BASES)[number]; id: number; mutations: Mutation[] };
  const input: fc.Arbitrary<Input> = fc.oneof(
    fc.string().map((text) => ({ kind: "text" as const, text })),
    fc.json().map((text) => ({ kind: "text" as const, text })),
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant("mutation" as const),
        base: fc.constantFrom(...BASES),
        id: fc.integer({ min: 0, max: 2 ** 31 }),
        // Half the time unmutated (a valid request for the current state), else one or two mutations.
        mutations: fc.oneof(fc.constant<Mutation[]>([]), fc.array(mutation, { minLength: 1, maxLength: 2 })),
      }),
    },
  );

  /**
   * Known source bug (reported, see keys.upload in server.ts): a key package whose base64 text has
   * length ≡ 1 (mod 4) passes the frame schema, then fromBase64 throws a RangeError that surfaces
   * as "internal" instead of a frame error. Tolerated here only in exactly that shape.
   */
  it("survives 100 random frames: errors are frame errors, state changes only through valid requests", async () => {
    const SENTINEL = 1_234_567_891; // far from the boundaries the generators favour
    const stats = { rejected: 0, refused: 0, accepted: 0, changed: 0 };
    await fc.assert(
      fc.asyncProperty(input, async (generated) => {
        const text =
          generated.kind === "text" ? generated.text : JSON.stringify(mutate(base(generated.base, generated.id), generated.mutations));
        let local: ReturnType<typeof decodeClientFrame> | undefined;
        let localError: MomedoError | undefined;
        try {
          local = decodeClientFrame(text);
        } catch (error) {
          localError = error as MomedoError;
        }
        const before = snapshot();
        const client = await RawClient.signedIn(server.url, fuzzer);
        clients.push(client);
        client.send(text);
        client.send({ t: "ping", id: SENTINEL });
        // Either the server closes (bad frame) or it answers the sentinel ping sent after the frame.
        const end = await Promise.race([client.closed, client.next(isReply(SENTINEL)).catch(() => client.closed)]);
        const replies = () => client.received.filter((f) => (f.t === "ok" || f.t === "err") && f.id !== SENTINEL);

        if (localError) {
          // Refused as a frame: one err with the same code, then close 4400; nothing changed.
          stats.rejected++;
          expect(end).toEqual({ code: 4400, reason: "bad_frame" });
          expect(replies()).toHaveLength(1);
          expect(replies()[0]).toMatchObject({ t: "err", code: localError.code });
          expect(replies()[0]).not.toHaveProperty("id");
          expect(snapshot()).toEqual(before);
        } else {
          const frame = local!;
          expect(end).toMatchObject({ t: "ok", id: SENTINEL });
          expect(client.closeInfo).toBeUndefined();
          if (frame.t === "ack") {
            // The fuzzing device's mailbox is empty: an ack changes nothing and is not answered.
            expect(replies()).toEqual([]);
            expect(snapshot()).toEqual(before);
          } else if (frame.t === "auth") {
            expect(replies()).toHaveLength(1);
            expect(replies()[0]).toMatchObject({ t: "err", code: "bad_frame" });
            expect(snapshot()).toEqual(before);
          } else {
            const reply = await client.next(isReply(frame.id));
            expect(replies()).toHaveLength(1);
            if (reply.t === "err") {
              stats.refused++;
              expect(reply.code).not.toBe("internal");
              expect(snapshot()).toEqual(before);
            } else {
              stats.accepted++;
              const after = snapshot();
              if (frame.t === "group.send") {
                expect(reply.result).toEqual({ delivered: 1 });
                expect(after).toEqual({ ...before, mailbox: before.mailbox + 1 });
              } else if (frame.t === "group.commit") {
                // The only valid member list is the two devices again: one commit copy for the peer.
                expect(reply.result).toEqual({ epoch: frame.epoch + 1 });
                expect(after).toEqual({ ...before, epochs: before.epochs + 1, mailbox: before.mailbox + 1 });
              } else {
                expect(after).toEqual(before);
              }
              if (JSON.stringify(after) !== JSON.stringify(before)) stats.changed++;
            }
          }
        }
        await client.close();
        // The server still serves the long-lived connection.
        await peerClient.ping();
      }),
      { numRuns: 100 },
    );
    // The generators produced both refusals and accepted requests.
    expect(stats.rejected).toBeGreaterThan(10);
    expect(stats.accepted + stats.refused).toBeGreaterThan(10);
    expect(peerClient.closeInfo).toBeUndefined();
    console.info("relay fuzz outcomes", stats);
  });
});

// --- authorisation ----------------------------------------------------------------------------

describe("authorisation", () => {
  let alice: Device;
  let bob1: Device;
  let bob2: Device;
  let carol: Device;
  let aliceClient: RawClient;
  let carolClient: RawClient;
  let chatAB: string;
  let chatCB: string;

  beforeAll(async () => {
    alice = await person("Alice Authz");
    bob1 = await person("Bob Authz");
    bob2 = await secondDevice(bob1.user);
    carol = await person("Carol Authz");
    aliceClient = await connect(alice);
    carolClient = await connect(carol);
    // Alice's chat with Bob holds only Bob's second device; Carol's chat only Bob's first.
    chatAB = await directChat(aliceClient, alice, bob2);
    chatCB = await directChat(carolClient, carol, bob1);
  });

  it("never gives a device entries addressed to another device, and acks cannot delete them", async () => {
    const bob1Client = await connect(bob1);
    for (let i = 0; i < 3; i++) await aliceClient.ok({ t: "group.send", group: chatAB, epoch: 1, data: b64(20) });
    for (let i = 0; i < 2; i++) await carolClient.ok({ t: "group.send", group: chatCB, epoch: 1, data: b64(20) });
    await bob1Client.ping();
    const bob2Rows = mailboxOf(bob2);
    expect(bob2Rows).toBe(4); // welcome + 3
    expect(mailboxOf(bob1)).toBe(3); // welcome + 2

    const bob1Msgs = bob1Client.take(isMsg);
    expect(bob1Msgs.map((m) => m.group)).toEqual([chatCB, chatCB, chatCB]);
    // Bob's first device's entries come after Bob's second device's, so an unscoped ack would hit them.
    const bob2MaxSeq = count("SELECT max(seq) AS n FROM mailbox WHERE user_id = ? AND device_id = ?", bob2.user, bob2.device);
    expect(bob1Msgs.at(-1)!.seq).toBeGreaterThan(bob2MaxSeq);

    bob1Client.send({ t: "ack", seq: Number.MAX_SAFE_INTEGER });
    aliceClient.send({ t: "ack", seq: Number.MAX_SAFE_INTEGER });
    carolClient.send({ t: "ack", seq: Number.MAX_SAFE_INTEGER });
    await bob1Client.ping(); // acks are written before the ping is answered
    await aliceClient.ping();
    await carolClient.ping();
    expect(mailboxOf(bob1)).toBe(0);
    expect(mailboxOf(bob2)).toBe(bob2Rows);

    // A fresh sign-in of Bob's first device still sees nothing of the other chat.
    await bob1Client.close();
    const again = await connect(bob1);
    await again.ping();
    expect(again.received.filter((f) => f.t === "msg")).toEqual([]);
    await again.close();

    // Bob's second device gets exactly its own entries.
    const bob2Client = await connect(bob2);
    const bob2Msgs = bob2Client.take(isMsg);
    expect(bob2Msgs.map((m) => [m.group, m.kind])).toEqual([
      [chatAB, "welcome"],
      [chatAB, "app"],
      [chatAB, "app"],
      [chatAB, "app"],
    ]);
    expect(bob2Msgs.every((m) => m.from === alice.address)).toBe(true);
    await bob2Client.close();
  });

  it("refuses a commit by a non-member with not_member and changes nothing", async () => {
    const before = snapshot();
    const epoch = epochOf(chatAB);
    // Bob's first device: right person, but not a member device of this group.
    const bob1Client = await connect(bob1);
    const asBob1 = await bob1Client.request({
      t: "group.commit",
      group: chatAB,
      epoch: epoch,
      commit: b64(32),
      welcome: b64(32),
      members: [alice.address, bob1.address, bob2.address],
    });
    expect(asBob1).toMatchObject({ t: "err", code: "not_member" });
    // Carol: not even one of the two people.
    const asCarol = await carolClient.request({
      t: "group.commit",
      group: chatAB,
      epoch: epoch,
      commit: b64(32),
      welcome: b64(32),
      members: [alice.address, carol.address],
    });
    expect(asCarol).toMatchObject({ t: "err", code: "not_member" });
    expect(epochOf(chatAB)).toBe(epoch);
    expect(snapshot()).toEqual(before);
    await bob1Client.close();
  });

  it("refuses a send by a non-member with not_member", async () => {
    const before = snapshot();
    const bob1Client = await connect(bob1);
    expect(await bob1Client.request({ t: "group.send", group: chatAB, epoch: 1, data: b64(10) })).toMatchObject({
      t: "err",
      code: "not_member",
    });
    expect(await carolClient.request({ t: "group.send", group: chatAB, epoch: 1, data: b64(10) })).toMatchObject({
      t: "err",
      code: "not_member",
    });
    // A group that does not exist: not a member either.
    expect(await carolClient.request({ t: "group.send", group: "d.NOSUCHGROUP", epoch: 0, data: b64(10) })).toMatchObject({
      t: "err",
      code: "not_member",
    });
    expect(snapshot()).toEqual(before);
    await bob1Client.close();
  });

  it("refuses a commit for a stale epoch with epoch_conflict, and a send for a stale epoch with stale_epoch", async () => {
    const before = snapshot();
    const stale = await aliceClient.request({ t: "group.commit", group: chatAB, epoch: 0, commit: b64(32), members: [alice.address, bob2.address] });
    expect(stale).toMatchObject({ t: "err", code: "epoch_conflict" });
    const future = await aliceClient.request({ t: "group.commit", group: chatAB, epoch: 5, commit: b64(32), members: [alice.address, bob2.address] });
    expect(future).toMatchObject({ t: "err", code: "epoch_conflict" });
    expect(await aliceClient.request({ t: "group.send", group: chatAB, epoch: 0, data: b64(8) })).toMatchObject({
      t: "err",
      code: "stale_epoch",
    });
    expect(snapshot()).toEqual(before);
  });

  it("lets the first of two racing commits for one epoch win", async () => {
    const dave = await person("Dave Race");
    const erin = await person("Erin Race");
    const daveClient = await connect(dave);
    const erinClient = await connect(erin);
    const group = await directChat(daveClient, dave, erin);
    const commit = { t: "group.commit", group, epoch: 1, commit: b64(32), members: [dave.address, erin.address] };
    const [first, second] = await Promise.all([daveClient.request(commit), erinClient.request(commit)]);
    const outcomes = [first.t, second.t].sort();
    expect(outcomes).toEqual(["err", "ok"]);
    expect([first, second].find((r) => r.t === "err")).toMatchObject({ code: "epoch_conflict" });
    expect(epochOf(group)).toBe(2);
    await daveClient.close();
    await erinClient.close();
  });

  it("refuses direct-chat commits whose members do not match the chat's ID with policy_denied", async () => {
    const dave = await person("Dave Policy");
    const daveClient = await connect(dave);
    const before = snapshot();
    const group = directChatId(dave.user, alice.user);
    const attempts = [
      [dave.address, carol.address], // the wrong other person
      [dave.address], // alone
      [dave.address, alice.address, carol.address], // a third person
    ];
    for (const members of attempts) {
      const reply = await daveClient.request({ t: "group.commit", group, epoch: 0, commit: b64(32), welcome: b64(32), members });
      expect(reply).toMatchObject({ t: "err", code: "policy_denied" });
    }
    // The committer must stay a member, and only direct chats exist in this version.
    expect(
      await daveClient.request({ t: "group.commit", group, epoch: 0, commit: b64(32), welcome: b64(32), members: [alice.address, bob1.address] }),
    ).toMatchObject({ t: "err", code: "policy_denied" });
    expect(
      await daveClient.request({ t: "group.commit", group: "g.class-4b", epoch: 0, commit: b64(32), welcome: b64(32), members: [dave.address, alice.address] }),
    ).toMatchObject({ t: "err", code: "policy_denied" });
    // Adding members without a welcome is malformed; unknown devices are refused.
    expect(
      await daveClient.request({ t: "group.commit", group, epoch: 0, commit: b64(32), members: [dave.address, alice.address] }),
    ).toMatchObject({ t: "err", code: "bad_frame" });
    expect(
      await daveClient.request({ t: "group.commit", group, epoch: 0, commit: b64(32), welcome: b64(32), members: [dave.address, `${alice.user}/ZZZZZZZZ`] }),
    ).toMatchObject({ t: "err", code: "unknown_device" });
    expect(epochOf(group)).toBeUndefined();
    expect(snapshot()).toEqual(before);
    // The right members are accepted (so the refusals above were about the members).
    expect(
      await daveClient.ok({ t: "group.commit", group, epoch: 0, commit: b64(32), welcome: b64(32), members: [dave.address, alice.address] }),
    ).toEqual({ epoch: 1 });
    await aliceClient.next((f): f is DeliverFrame => f.t === "msg" && f.group === group && f.kind === "welcome");
    await daveClient.close();
  });

  it("answers keys.claim for an unknown person with unknown_user", async () => {
    const reply = await aliceClient.request({ t: "keys.claim", user: "ZZZZZZZZ" });
    expect(reply).toMatchObject({ t: "err", code: "unknown_user", detail: "ZZZZZZZZ" });
    expect(aliceClient.closeInfo).toBeUndefined();
  });

  it("hands out each one-time KeyPackage once, then the last-resort one", async () => {
    const frank = await person("Frank Keys");
    const frankClient = await connect(frank);
    const [kp1, kp2, last] = [b64(100), b64(100), b64(120)];
    expect(await frankClient.ok({ t: "keys.upload", keyPackages: [kp1, kp2], lastResort: last })).toEqual({ held: 2 });
    const claims: string[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await aliceClient.ok<{ user: string; devices: { device: string; keyPackage: string }[] }>({
        t: "keys.claim",
        user: frank.user,
      });
      expect(result.user).toBe(frank.user);
      expect(result.devices.map((d) => d.device)).toEqual([frank.device]);
      claims.push(result.devices[0]!.keyPackage);
    }
    expect(claims).toEqual([kp1, kp2, last, last]);
    // A person without any enrolled device's keys: no_key_packages.
    const { id } = addUser(server.data, { name: "Nobody Enrolled" }, "cli");
    expect(await aliceClient.request({ t: "keys.claim", user: id })).toMatchObject({ t: "err", code: "no_key_packages" });
    await frankClient.close();
  });

  it("refuses KeyPackages that are too short with key_package_invalid and stores none", async () => {
    const before = count("SELECT count(*) AS n FROM key_packages");
    const reply = await aliceClient.request({ t: "keys.upload", keyPackages: [b64(100), b64(63)] });
    expect(reply).toMatchObject({ t: "err", code: "key_package_invalid" });
    expect(count("SELECT count(*) AS n FROM key_packages")).toBe(before);
  });

  it("refuses a KeyPackage of impossible base64 length as a bad frame, not an internal error", async () => {
    const client = await connect(alice);
    client.send({ t: "keys.upload", id: 1, keyPackages: [`${b64(99)}A`] });
    expect((await client.next(is("err"))).code).toBe("bad_frame");
    expect((await client.closed).code).toBe(4400);
  });
});

// --- enrollment over HTTP ---------------------------------------------------------------------

describe("enrollment failures over HTTP", () => {
  const DAY = 24 * 60 * 60 * 1000;
  const key = () => toBase64(ed25519.keygen().publicKey);
  const body = (code: string, signaturePublicKey = key()) => JSON.stringify({ code, signaturePublicKey });

  async function expectNothingCreated(action: () => Promise<void>) {
    const devices = deviceCount();
    await action();
    expect(deviceCount()).toBe(devices);
  }

  it("answers an unknown code with 404 invite_invalid", async () => {
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, body("0000000000000000"));
      expect(response.status).toBe(404);
      expect(response.body.code).toBe("invite_invalid");
      expect(String(response.body.message)).toContain("invite is not valid");
    });
  });

  it("answers a used invite with 410 invite_used", async () => {
    const { invite } = addUser(server.data, { name: "Used Invite" }, "cli");
    const code = parseInvite(invite).code;
    await enroll(server.url, code);
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, body(code));
      expect(response.status).toBe(410);
      expect(response.body.code).toBe("invite_used");
      // Also with the code in lower case (codes are case-insensitive).
      const lower = await postEnroll(server.url, body(code.toLowerCase()));
      expect(lower.status).toBe(410);
    });
  });

  it("answers an expired invite with 410 invite_expired", async () => {
    const { id } = addUser(server.data, { name: "Expired Invite" }, "cli");
    const code = server.data.invites.create(id, 14, Date.now() - 30 * DAY);
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, body(code));
      expect(response.status).toBe(410);
      expect(response.body.code).toBe("invite_expired");
    });
  });

  it.each([
    ["a missing key", JSON.stringify({ code: "0000000000000000" })],
    ["a numeric code", JSON.stringify({ code: 123, signaturePublicKey: "AAAA" })],
    ["an empty code", JSON.stringify({ code: "", signaturePublicKey: "AAAA" })],
    ["an extra field", JSON.stringify({ code: "0000000000000000", signaturePublicKey: "AAAA", admin: true })],
    ["a key that is not base64", JSON.stringify({ code: "0000000000000000", signaturePublicKey: "not base64!" })],
    ["an array", "[]"],
    ["null", "null"],
  ])("answers a malformed body (%s) with 400 bad_frame", async (_name, text) => {
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, text);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe("bad_frame");
    });
  });

  it.each([["not json at all"], ["{"], [""]])("answers the non-JSON body %j with 400", async (text) => {
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, text);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe("bad_frame");
    });
  });

  it("does not use up a valid invite when the key is malformed", async () => {
    const { id, invite } = addUser(server.data, { name: "Careful Invite" }, "cli");
    const code = parseInvite(invite).code;
    await expectNothingCreated(async () => {
      const short = await postEnroll(server.url, body(code, toBase64(new Uint8Array(31))));
      expect(short.status).toBe(400);
      expect(short.body.code).toBe("bad_frame");
    });
    const device = await enroll(server.url, code);
    expect(device.user).toBe(id);
    expect(server.data.people.deviceKey(device.user, device.device)).toBeDefined();
  });

  const oversized = (code: string) => JSON.stringify({ code, signaturePublicKey: "A".repeat(20 * 1024) });

  it("creates nothing and keeps the invite for a body above 16 KiB", async () => {
    const { id, invite } = addUser(server.data, { name: "Big Body" }, "cli");
    const code = parseInvite(invite).code;
    await expectNothingCreated(async () => {
      // The answer should be 413 (see the next test); whatever it is, nothing may be created.
      await postEnroll(server.url, oversized(code)).catch(() => undefined);
    });
    expect((await enroll(server.url, code)).user).toBe(id);
  });

  it("answers a body above 16 KiB with 413 frame_too_large", async () => {
    const response = await postEnroll(server.url, oversized("0000000000000000"));
    expect(response.status).toBe(413);
    expect(response.body.code).toBe("frame_too_large");
  });

  it("answers a signature key of impossible base64 length with 400 bad_frame", async () => {
    await expectNothingCreated(async () => {
      const response = await postEnroll(server.url, body("0000000000000000", "AAAAA"));
      expect(response.status).toBe(400);
      expect(response.body.code).toBe("bad_frame");
    });
  });

  it("still enrolls after all those failures", async () => {
    const device = await person("After Failures");
    const client = await connect(device);
    await client.ping();
    await client.close();
  });
});

// --- mailbox resume ---------------------------------------------------------------------------

describe("mailbox resume", () => {
  it("delivers the backlog in order, resumes after the last ack, never repeats acked entries", async () => {
    const alice = await person("Alice Resume");
    const bob = await person("Bob Resume");
    const aliceClient = await connect(alice);
    const group = await directChat(aliceClient, alice, bob);
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) {
      const data = b64(40 + i);
      sent.push(data);
      expect(await aliceClient.ok({ t: "group.send", group, epoch: 1, data })).toEqual({ delivered: 1 });
    }

    // Bob comes online: welcome + 3 messages, in seq order, then synced.
    let bobClient = await connect(bob);
    const first = bobClient.received.filter((f): f is DeliverFrame => f.t === "msg");
    expect(first.map((m) => m.kind)).toEqual(["welcome", "app", "app", "app"]);
    expect(first.map((m) => m.data).slice(1)).toEqual(sent);
    expect(first.every((m) => m.group === group && m.from === alice.address)).toBe(true);
    const seqs = first.map((m) => m.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(4);
    expect(bobClient.received.findIndex((f) => f.t === "synced")).toBe(
      bobClient.received.findIndex((f) => f.t === "msg" && f.seq === seqs[3]) + 1,
    );

    // Ack up to the second message (welcome + 2 apps), then leave.
    bobClient.send({ t: "ack", seq: seqs[2] });
    await bobClient.ping();
    expect(mailboxOf(bob)).toBe(1);
    await bobClient.close();

    // Back online: exactly the third message again.
    bobClient = await connect(bob);
    const second = bobClient.received.filter((f): f is DeliverFrame => f.t === "msg");
    expect(second.map((m) => [m.seq, m.data])).toEqual([[seqs[3], sent[2]]]);
    // An ack above what was delivered only acknowledges what was delivered.
    bobClient.send({ t: "ack", seq: Number.MAX_SAFE_INTEGER });
    await bobClient.ping();
    expect(mailboxOf(bob)).toBe(0);
    await bobClient.close();

    // And once more: nothing.
    bobClient = await connect(bob);
    await bobClient.ping();
    expect(bobClient.received.filter((f) => f.t === "msg")).toEqual([]);

    // Live delivery continues after the backlog, with higher seqs.
    await aliceClient.ok({ t: "group.send", group, epoch: 1, data: b64(8) });
    const live = await bobClient.next(isMsg);
    expect(live.seq).toBeGreaterThan(seqs[3]!);
    await bobClient.close();
    await aliceClient.close();
  });

  it("pages a large backlog: 500 entries, the rest only after an ack, which covers only what was delivered", async () => {
    const alice = await person("Alice Paging");
    const bob = await person("Bob Paging");
    const aliceClient = await connect(alice);
    const group = await directChat(aliceClient, alice, bob);
    const TOTAL = 501; // plus the welcome: 502 entries, one full page of 500 and 2 more
    const replies: Promise<unknown>[] = [];
    for (let i = 0; i < TOTAL; i++) replies.push(aliceClient.ok({ t: "group.send", group, epoch: 1, data: b64(8) }));
    await Promise.all(replies);
    expect(mailboxOf(bob)).toBe(TOTAL + 1);

    const bobClient = await connect(bob, false);
    await bobClient.ping();
    const page = bobClient.take(isMsg);
    expect(page).toHaveLength(500);
    expect(bobClient.received.some((f) => f.t === "synced")).toBe(false);
    // An ack far beyond the page acknowledges only the page, and brings the rest.
    bobClient.send({ t: "ack", seq: Number.MAX_SAFE_INTEGER });
    await bobClient.next(is("synced"));
    const rest = bobClient.take(isMsg);
    expect(rest).toHaveLength(2);
    expect(rest[0]!.seq).toBeGreaterThan(page.at(-1)!.seq);
    await bobClient.ping();
    expect(mailboxOf(bob)).toBe(2);
    await bobClient.close();
    await aliceClient.close();
  });
});

// --- last: every frame the server sent during this file ---------------------------------------

describe("server frames", () => {
  it("were all valid according to decodeServerFrame", () => {
    expect(clients.length).toBeGreaterThan(50);
    expect([...new Set(clients.flatMap((c) => c.invalid))]).toEqual([]);
  });
});
