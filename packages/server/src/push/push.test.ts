// Web Push against a real server: a loopback HTTP server stands in for the browser's push
// service. Wake-ups carry a VAPID JWT that verifies with the served key and no body; they are
// coalesced per device, skipped for connected devices, and a 410 drops the subscription.
import { createPublicKey, randomBytes, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { authChallengeText, decodeClientFrame, directChatId, parseInvite, toBase64, type EnrollResponse } from "@momedo/protocol";
import { addUser } from "../admin/commands.js";
import { startServer, type RunningServer } from "../server.js";
import { checkEndpoint, type PushOutcome, type PushSubscription } from "./pushSender.js";
import { WakeUps } from "./wakeUps.js";
import { Hub } from "../relay/hub.js";
import type { DeviceConnection } from "../relay/connection.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
}

/** The stand-in push service: records every request; answers 201, or what `status` says for a path. */
class StubPushService {
  readonly received: Received[] = [];
  readonly status = new Map<string, number>();
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.received.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(this.status.get(req.url ?? "") ?? 201).end();
    });
  });
  origin = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.origin = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  }

  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Device {
  user: string;
  device: string;
  address: string;
  secretKey: Uint8Array;
}

/** A device's signed-in WebSocket, at the frame level. */
class Socket {
  private readonly frames: Record<string, unknown>[] = [];
  private readonly waiters: (() => void)[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse((data as Buffer).toString("utf8")) as Record<string, unknown>);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async signIn(url: string, device: Device): Promise<Socket> {
    const socket = new Socket(new WebSocket(`${url.replace(/^http/, "ws")}/api/v1/ws`));
    const challenge = await socket.next((f) => f.t === "challenge");
    const text = authChallengeText(challenge.nonce as string, device.user, device.device);
    socket.ws.send(JSON.stringify({ t: "auth", user: device.user, device: device.device, sig: toBase64(ed25519.sign(text, device.secretKey)) }));
    await socket.next((f) => f.t === "ready");
    return socket;
  }

  async next(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    for (;;) {
      const index = this.frames.findIndex(match);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async request(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ ...frame, id }));
    return this.next((f) => (f.t === "ok" || f.t === "err") && f.id === id);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.ws.once("close", () => resolve());
      this.ws.close(1000);
    });
  }
}

const keys = () => ({ p256dh: randomBytes(65).toString("base64url"), auth: randomBytes(16).toString("base64url") });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  for (const start = Date.now(); !condition(); await sleep(20)) if (Date.now() - start > ms) throw new Error("timed out");
}

describe("Web Push wake-ups from a real server", () => {
  const push = new StubPushService();
  let server: RunningServer;
  let dataDir: string;
  const sockets: Socket[] = [];

  async function person(name: string): Promise<Device> {
    const { invite } = addUser(server.data, { name }, "cli");
    const { secretKey, publicKey } = ed25519.keygen();
    const response = await fetch(`${server.url}/api/v1/enroll`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code: parseInvite(invite).code, signaturePublicKey: toBase64(publicKey) }),
    });
    const body = (await response.json()) as EnrollResponse;
    return { user: body.user, device: body.device, address: `${body.user}/${body.device}`, secretKey };
  }

  async function connect(device: Device): Promise<Socket> {
    const socket = await Socket.signIn(server.url, device);
    sockets.push(socket);
    return socket;
  }

  const subscriptionOf = (d: Device) =>
    server.data.db.prepare("SELECT endpoint FROM push_subscriptions WHERE user_id = ? AND device_id = ?").get(d.user, d.device) as
      | { endpoint: string }
      | undefined;

  /** Alice starts a direct chat with `peer` (a Welcome for it) and sends `messages` into it. */
  async function write(from: Socket, a: Device, peer: Device, messages: number): Promise<void> {
    const group = directChatId(a.user, peer.user);
    const commit = { t: "group.commit", group, epoch: 0, commit: randomBytes(64).toString("base64"), welcome: randomBytes(64).toString("base64"), members: [a.address, peer.address] };
    expect((await from.request(commit)).t).toBe("ok");
    for (let i = 0; i < messages; i++) {
      expect((await from.request({ t: "group.send", group, epoch: 1, data: randomBytes(100).toString("base64") })).t).toBe("ok");
    }
  }

  beforeAll(async () => {
    await push.start();
    dataDir = mkdtempSync(join(tmpdir(), "momedo-push-"));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false, pushAllowInsecure: true });
  });

  afterAll(async () => {
    for (const socket of sockets) socket.ws.terminate();
    await server?.close();
    await push.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("wakes an offline device once, with a VAPID JWT that verifies with the served key and no content", async () => {
    const alice = await person("Alice Push");
    const bob = await person("Bob Push");
    const aliceSocket = await connect(alice);
    const bobSocket = await connect(bob);
    expect(await aliceSocket.request({ t: "push.subscribe", endpoint: `${push.origin}/alice`, keys: keys() })).toMatchObject({ t: "ok" });
    expect(await bobSocket.request({ t: "push.subscribe", endpoint: `${push.origin}/bob`, keys: keys() })).toMatchObject({ t: "ok" });
    await bobSocket.close();
    await sleep(50);

    await write(aliceSocket, alice, bob, 3);
    await until(() => push.to("/bob").length > 0);
    await sleep(300);
    // One wake-up for the Welcome and three messages; none for Alice, who is connected.
    expect(push.to("/bob")).toHaveLength(1);
    expect(push.to("/alice")).toHaveLength(0);

    const wakeUp = push.to("/bob")[0]!;
    expect(wakeUp.body.length).toBe(0);
    expect(wakeUp.headers["content-encoding"]).toBeUndefined();
    expect(Number(wakeUp.headers.ttl)).toBeGreaterThan(0);
    expect(wakeUp.headers.urgency).toBe("normal");

    const served = (await (await fetch(`${server.url}/api/v1/push/key`)).json()) as { publicKey: string };
    const match = /^vapid t=([\w-]+)\.([\w-]+)\.([\w-]+), k=([\w-]+)$/.exec(wakeUp.headers.authorization ?? "");
    expect(match).not.toBeNull();
    const [, header, claims, signature, k] = match!;
    expect(k).toBe(served.publicKey);
    const point = Buffer.from(served.publicKey, "base64url");
    expect(point.length).toBe(65);
    const publicKey = createPublicKey({
      key: { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
      format: "jwk",
    });
    const signed = Buffer.from(`${header}.${claims}`);
    expect(verify("sha256", signed, { key: publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(signature!, "base64url"))).toBe(true);
    expect(JSON.parse(Buffer.from(header!, "base64url").toString())).toEqual({ typ: "JWT", alg: "ES256" });
    const body = JSON.parse(Buffer.from(claims!, "base64url").toString()) as { aud: string; exp: number; sub: string };
    expect(body.aud).toBe(push.origin);
    expect(body.exp * 1000).toBeGreaterThan(Date.now());
    expect(body.exp * 1000).toBeLessThanOrEqual(Date.now() + 24 * 60 * 60 * 1000);
    expect(body.sub).toBe(server.url);
  });

  it("drops a subscription the push service answers 410 for, and keeps it on other errors", async () => {
    const carol = await person("Carol Push");
    const dave = await person("Dave Push");
    const carolSocket = await connect(carol);
    push.status.set("/carol", 410);
    await carolSocket.request({ t: "push.subscribe", endpoint: `${push.origin}/carol`, keys: keys() });
    await carolSocket.close();
    await sleep(50);
    expect(subscriptionOf(carol)).toBeDefined();
    await write(await connect(dave), dave, carol, 1);
    await until(() => subscriptionOf(carol) === undefined);
    expect(push.to("/carol")).toHaveLength(1);
  });

  it("unsubscribes, and refuses plain-http endpoints outside loopback", async () => {
    const erin = await person("Erin Push");
    const socket = await connect(erin);
    expect(await socket.request({ t: "push.subscribe", endpoint: "http://push.example/x", keys: keys() })).toMatchObject({ t: "err", code: "bad_frame" });
    expect(subscriptionOf(erin)).toBeUndefined();
    await socket.request({ t: "push.subscribe", endpoint: `${push.origin}/erin`, keys: keys() });
    expect(subscriptionOf(erin)?.endpoint).toBe(`${push.origin}/erin`);
    expect(await socket.request({ t: "push.unsubscribe" })).toMatchObject({ t: "ok" });
    expect(subscriptionOf(erin)).toBeUndefined();
  });

  it("serves the same key after a restart (kept in the database, so backups carry it)", async () => {
    const before = (await (await fetch(`${server.url}/api/v1/push/key`)).json()) as { publicKey: string };
    await server.close();
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, tls: false, pushAllowInsecure: true });
    const after = (await (await fetch(`${server.url}/api/v1/push/key`)).json()) as { publicKey: string };
    expect(after.publicKey).toBe(before.publicKey);
  });
});

describe("WakeUps", () => {
  const subscription: PushSubscription = { endpoint: "https://push.example/1", p256dh: "p", auth: "a" };

  function setup(outcome: PushOutcome = "sent") {
    let now = 1_000_000;
    const sent: string[] = [];
    const removed: string[] = [];
    const subscriptions = {
      of: (user: string) => (user === "NOSUB" ? undefined : { ...subscription, endpoint: `https://push.example/${user}` }),
      removeIfEndpoint: (user: string) => void removed.push(user),
    };
    const wakeUps = new WakeUps(subscriptions, { wake: async (s) => (sent.push(s.endpoint), outcome) }, 30_000, () => now);
    return { wakeUps, sent, removed, advance: (ms: number) => (now += ms) };
  }

  it("sends at most one wake-up per device per interval", () => {
    const { wakeUps, sent, advance } = setup();
    wakeUps.mail(["A/1", "A/1", "B/1"]);
    wakeUps.mail(["A/1"]);
    advance(29_999);
    wakeUps.mail(["A/1"]);
    expect(sent).toEqual(["https://push.example/A", "https://push.example/B"]);
    advance(1);
    wakeUps.mail(["A/1"]);
    expect(sent).toHaveLength(3);
  });

  it("skips connected devices until their last connection closes, and devices without a subscription", () => {
    const { wakeUps, sent } = setup();
    // Who is connected is the hub's: it hands the wake-ups only what it could not deliver.
    const hub = new Hub();
    const connection = () => ({ address: "A/1", push: () => undefined, close: () => undefined }) as unknown as DeviceConnection;
    const [old, renewed] = [connection(), connection()];
    const mail = (addresses: string[]) =>
      wakeUps.mail(hub.push(addresses.map((address) => ({ address, entry: { seq: 1, group: "g.X", kind: "app", sender: "B/1", data: Buffer.alloc(0), at: 0 } }))));
    hub.signedIn(old);
    hub.signedIn(renewed); // a reconnect: the new connection signs in before the old one signs out
    hub.signedOut(old);
    mail(["A/1", "NOSUB/1"]);
    expect(sent).toEqual([]);
    hub.signedOut(renewed);
    mail(["A/1"]);
    expect(sent).toEqual(["https://push.example/A"]);
  });

  it("removes a subscription the push service no longer knows", async () => {
    const { wakeUps, removed } = setup("gone");
    wakeUps.mail(["A/1"]);
    await sleep(0);
    expect(removed).toEqual(["A"]);
  });
});

describe("push endpoints", () => {
  it("accepts https, and http only on loopback with push-allow-insecure", () => {
    expect(() => checkEndpoint("https://fcm.googleapis.com/fcm/send/abc", false)).not.toThrow();
    expect(() => checkEndpoint("http://127.0.0.1:9/x", false)).toThrow();
    expect(() => checkEndpoint("http://127.0.0.1:9/x", true)).not.toThrow();
    expect(() => checkEndpoint("http://push.example/x", true)).toThrow();
    expect(() => checkEndpoint("https://user:pw@push.example/x", false)).toThrow();
    expect(() => checkEndpoint("not a url", true)).toThrow();
  });

  it("is a frame of the protocol", () => {
    const frame = { t: "push.subscribe", id: 1, endpoint: "https://push.example/x", keys: keys() };
    expect(decodeClientFrame(JSON.stringify(frame))).toEqual(frame);
    expect(() => decodeClientFrame(JSON.stringify({ ...frame, keys: { p256dh: "a+b/", auth: "x" } }))).toThrow();
    expect(() => decodeClientFrame(JSON.stringify({ ...frame, endpoint: "ftp://x" }))).toThrow();
  });
});
