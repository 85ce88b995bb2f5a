// Composes the capabilities into one running server: HTTP(S), WebSocket relay, sweeps.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { WebSocketServer } from "ws";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { compileClientFrameValidators, fromBase64, MomedoError, type RequestFrame } from "@momedo/protocol";
import { AdminAccount } from "./admin/account.js";
import { AdminConsole } from "./admin/consoleApi.js";
import { snapshot, Stats } from "./admin/stats.js";
import { Blobs } from "./blobs/blobs.js";
import { FileBlobStore } from "./blobs/blobStore.js";
import { openDataDir, type DataDir } from "./dataDir.js";
import { enroll } from "./enrollment/enroll.js";
import { DeliveryService } from "./groups/deliveryService.js";
import { handleHttp } from "./http/routes.js";
import { KeyPackages } from "./keys/keyPackages.js";
import { Links } from "./devices/links.js";
import { DEFAULT_MAILBOX_TTL_DAYS, Mailbox } from "./mailbox/mailbox.js";
import { AckBatcher } from "./mailbox/ackBatcher.js";
import { WriteQueue } from "./mailbox/writeQueue.js";
import { DeviceConnection } from "./relay/connection.js";
import { Hub } from "./relay/hub.js";
import { checkEndpoint, WebPushSender } from "./push/pushSender.js";
import { PushSubscriptions } from "./push/subscriptions.js";
import { VapidKey } from "./push/vapid.js";
import { WakeUps } from "./push/wakeUps.js";
import { setMeta } from "./storage/database.js";
import { loadOrCreateCertificate } from "./tls/certificate.js";

export const DEFAULT_PORT = 4710;
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;
const MB = 1024 * 1024;
const DAY = 24 * 60 * 60 * 1000;

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  tls: boolean;
  publicUrl?: string;
  maxMessageBytes?: number;
  mailboxTtlDays?: number;
  fileTtlDays?: number;
  fileQuotaUserMb?: number;
  fileQuotaServerMb?: number;
  uploadResumeSeconds?: number;
  /** MLS ciphersuite for new groups; kept in the data directory once set. */
  ciphersuite?: string;
  /** Accept http://127.0.0.1 push endpoints (tests with a local stand-in push service). */
  pushAllowInsecure?: boolean;
}

export interface RunningServer {
  url: string;
  listening: string[];
  fingerprint?: string;
  /** First run: the one-time link that sets the organisation and the admin password. */
  setupUrl?: string;
  data: DataDir;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  compileClientFrameValidators((schema) => {
    const compiled = TypeCompiler.Compile(schema);
    return (value) => compiled.Check(value);
  });
  const data = openDataDir(options.dataDir, options.ciphersuite);
  const { db, people } = data;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const mailboxTtl = (options.mailboxTtlDays ?? DEFAULT_MAILBOX_TTL_DAYS) * DAY;
  const hub = new Hub();
  const pushAllowInsecure = options.pushAllowInsecure ?? false;
  const vapid = VapidKey.loadOrCreate(db);
  const pushSubscriptions = new PushSubscriptions(db);
  const wakeUps = new WakeUps(pushSubscriptions, new WebPushSender(vapid, () => url, pushAllowInsecure));
  const mailbox = new Mailbox(db);
  const keyPackages = new KeyPackages(db);
  const queue = new WriteQueue(db, (error) => {
    console.error("FATAL: cannot write to the database; stopping so nothing unsaved is acknowledged", error);
    process.exit(70);
  });
  const links = new Links(db);
  // Acknowledgements complete "delivered" receipts (the delivery service writes the notices).
  const acks = new AckBatcher(queue, mailbox, (user, device, upTo) => delivery.acknowledged(user, device, upTo));

  const stats = new Stats();
  const account = new AdminAccount(db);
  const setupCode = account.isSetUp ? undefined : account.newSetupCode();
  const delivery = new DeliveryService(db, people, data.directory, data.plans, mailbox, queue, (r) => {
    wakeUps.mail(hub.push(r));
  }, { maxMessageBytes });
  const blobStore = new FileBlobStore(join(options.dataDir, "blobs"));
  await blobStore.init();
  const blobs = new Blobs(db, blobStore, delivery, {
    userQuotaBytes: (options.fileQuotaUserMb ?? 1024) * MB,
    serverQuotaBytes: (options.fileQuotaServerMb ?? 51200) * MB,
    ttlMs: (options.fileTtlDays ?? 30) * DAY,
    resumeMs: (options.uploadResumeSeconds ?? 3600) * 1000,
  });

  const handle = async (connection: DeviceConnection, frame: RequestFrame): Promise<unknown> => {
    switch (frame.t) {
      case "ping":
        // Answered after the writes queued before it, so its reply follows their deliveries.
        return new Promise((resolve) => queue.enqueue(() => undefined, () => resolve({ time: Date.now() })));
      case "keys.upload": {
        const held = keyPackages.upload(
          connection.user,
          connection.device,
          frame.suite ?? data.ciphersuite,
          frame.keyPackages.map((k) => fromBase64(k)),
          frame.lastResort ? fromBase64(frame.lastResort) : undefined,
        );
        return { held };
      }
      case "keys.claim": {
        if (!people.exists(frame.user)) throw new MomedoError("unknown_user", frame.user);
        if (frame.user !== connection.user) data.directory.checkContact(connection.user, [frame.user]);
        const devices = people.activeDevices(frame.user).filter((d) => !frame.device || d === frame.device);
        const claimed = keyPackages.claim(
          frame.user,
          devices,
          frame.suite ?? data.ciphersuite,
          frame.user === connection.user ? connection.device : undefined,
        );
        if (claimed.length === 0 && frame.user !== connection.user) throw new MomedoError("no_key_packages", frame.user);
        return {
          user: frame.user,
          devices: claimed.map((c) => ({ device: c.device, keyPackage: Buffer.from(c.keyPackage).toString("base64") })),
        };
      }
      case "group.commit":
        return delivery.commit(connection.address, frame);
      case "group.send":
        stats.message();
        return delivery.send(connection.address, frame);
      case "group.role":
        return delivery.setRole(connection.address, frame.group, frame.user, frame.role);
      case "group.leave":
        return delivery.leave(connection.address, frame.group);
      case "group.rename":
        return delivery.rename(connection.address, frame.group, frame.name);
      case "profile.rename":
        return { name: people.rename(connection.user, frame.name) };
      case "group.info":
        return delivery.info(connection.address, frame.group);
      case "groups.list":
        return delivery.list(connection.address);
      case "devices.list":
        return {
          devices: people
            .devicesOf(connection.user)
            .filter((d) => !d.revoked)
            .map((d) => ({ device: d.id, createdAt: d.createdAt, lastSeen: d.lastSeen, current: d.id === connection.device })),
        };
      case "device.invite":
        return { code: data.invites.create(connection.user, 1) };
      case "device.remove": {
        people.revokeDevice(connection.user, frame.device);
        pushSubscriptions.remove(connection.user, frame.device);
        const address = `${connection.user}/${frame.device}`;
        delivery.deviceRemoved(address);
        if (address !== connection.address) hub.disconnect(address);
        return { removed: address };
      }
      case "directory.list":
        return { policy: data.directory.policy(), people: data.directory.visibleTo(connection.user) };
      case "link.deliver":
        return { n: links.deliver(frame.link, fromBase64(frame.package)) };
      case "blob.upload":
        return blobs.reserve(connection.address, frame.group, frame.size, frame.blob);
      case "blob.complete":
        return blobs.complete(connection.address, frame.blob, fromBase64(frame.sha256));
      case "blob.download":
        return blobs.ticket(connection.address, frame.blob);
      case "push.subscribe":
        checkEndpoint(frame.endpoint, pushAllowInsecure);
        pushSubscriptions.save(connection.user, connection.device, { endpoint: frame.endpoint, ...frame.keys });
        return { subscribed: true };
      case "push.unsubscribe":
        pushSubscriptions.remove(connection.user, connection.device);
        return { subscribed: false };
    }
  };

  const relayContext = {
    get serverName() {
      return data.organization;
    },
    suite: data.ciphersuite,
    deviceKey: (user: string, device: string) => people.deviceKey(user, device),
    signedIn: (c: DeviceConnection) => {
      acks.flushFor(c.user, c.device);
      hub.signedIn(c);
      queue.enqueue(() => people.touch(c.user, c.device));
      delivery.tellPlans(c.address);
    },
    signedOut: (c: DeviceConnection) => hub.signedOut(c),
    page: (user: string, device: string, after: number, limit: number) => mailbox.page(user, device, after, limit),
    ack: (user: string, device: string, upTo: number) => acks.ack(user, device, upTo),
    handle,
  };

  const deviceGone = (address: string) => {
    hub.disconnect(address);
    pushSubscriptions.remove(...(address.split("/") as [string, string]));
    delivery.deviceRemoved(address);
  };
  const adminConsole = new AdminConsole({
    data,
    account,
    secure: options.tls,
    stats: () => {
      stats.connected(hub.count);
      return snapshot(db, options.dataDir, hub.count);
    },
    deviceRevoked: (user, device) => deviceGone(`${user}/${device}`),
  });

  const routes = {
    enroll: (body: unknown) => {
      const enrolled = enroll({ ...data }, body);
      delivery.deviceAdded(`${enrolled.user}/${enrolled.device}`);
      return enrolled;
    },
    createLink: (body: unknown) => {
      const key = (body as { publicKey?: unknown } | null)?.publicKey;
      if (typeof key !== "string") throw new MomedoError("bad_frame", "publicKey");
      return { link: links.create(fromBase64(key)) };
    },
    linkKey: (id: string) => ({ publicKey: Buffer.from(links.publicKey(id)).toString("base64") }),
    linkPackages: (id: string, after: number) => ({ packages: links.packages(id, after) }),
    health: () => ({ ok: true, organization: data.organization, online: hub.count }),
    pushKey: () => ({ publicKey: vapid.publicKey }),
    admin: (req: IncomingMessage, res: ServerResponse, url: URL) => adminConsole.handle(req, res, url),
    blobs,
  };

  let server: Server;
  let fingerprint: string | undefined;
  if (options.tls) {
    const certificate = loadOrCreateCertificate(options.dataDir, [options.host].filter((h) => !isWildcard(h)));
    fingerprint = certificate.fingerprint;
    server = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) =>
      handleHttp(routes, req, res),
    );
  } else {
    server = createHttpServer((req, res) => handleHttp(routes, req, res));
  }
  server.keepAliveTimeout = 5_000;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: Math.ceil((maxMessageBytes * 4) / 3) + 64 * 1024,
    perMessageDeflate: false,
  });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://local").pathname !== "/api/v1/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => new DeviceConnection(ws, relayContext));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const scheme = options.tls ? "https" : "http";
  const listening = listeningUrls(scheme, options.host, port);
  const url = (options.publicUrl ?? listening[0]!).replace(/\/+$/, "");
  setMeta(db, "public_url", url);
  if (fingerprint) setMeta(db, "fingerprint", fingerprint);
  else setMeta(db, "fingerprint", "");

  mailbox.expire(Date.now() - mailboxTtl);
  const sweepBlobs = () => blobs.sweep().catch((error: unknown) => console.error("blob sweep failed", error));
  await sweepBlobs();
  let lastRevocationCheck = Date.now();
  const sweeps = [
    setInterval(() => queue.enqueue(() => mailbox.expire(Date.now() - mailboxTtl)), 60 * 60 * 1000),
    setInterval(() => queue.enqueue(() => mailbox.dropUnusedPayloads()), 60 * 1000),
    setInterval(() => queue.enqueue(() => stats.flush(db, hub.count)), 60 * 1000),
    setInterval(sweepBlobs, Math.min(60, options.uploadResumeSeconds ?? 60) * 1000),

    setInterval(() => {
      const since = lastRevocationCheck;
      lastRevocationCheck = Date.now();
      // Devices revoked by the admin CLI (another process) are noticed here.
      for (const { user, device } of people.revokedSince(since - 1000)) deviceGone(`${user}/${device}`);
    }, 5_000),
  ];
  for (const timer of sweeps) timer.unref();

  return {
    url,
    listening,
    ...(fingerprint ? { fingerprint } : {}),
    ...(setupCode ? { setupUrl: `${url}/admin/#setup=${setupCode}` } : {}),
    data,
    async close() {
      acks.flush();
      stats.flush(db, hub.count);
      for (const timer of sweeps) clearInterval(timer);
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      queue.flush();
      db.close();
    },
  };
}

function isWildcard(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "";
}

function listeningUrls(scheme: string, host: string, port: number): string[] {
  const format = (h: string) => `${scheme}://${h.includes(":") ? `[${h}]` : h}:${port}`;
  if (!isWildcard(host)) return [format(host)];
  const external: string[] = [];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal && a.family === "IPv4") external.push(format(a.address));
  }
  return [...external, format("127.0.0.1")];
}
