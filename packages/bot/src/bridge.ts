// The HTTP bridge: systems that cannot run a bot (a timetable, a case-management system) post
// texts, cards and files into named chats over a small authenticated HTTP API, and hear about
// chat events through signed webhooks. One token per integration, each allowed its own chats.
import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, open, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareFile } from "@momedo/client";
import { checkCard, type ChatMessage, type FileLocation } from "@momedo/core";
import { ERRORS, MomedoError } from "@momedo/protocol";
import type { Bot } from "./bot.js";
import { DEFAULT_RETRY, readDeadLetters, WEBHOOK_EVENTS, Webhooks, type RetryPolicy, type WebhookConfig, type WebhookEvent } from "./webhooks.js";

export interface Integration {
  name: string;
  /** SHA-256 (hex) of the integration's token; the token itself is never stored. */
  tokenSha256: string;
  /** Names of the chats it may use. */
  chats: string[];
}

export interface BridgeConfig {
  integrations: Integration[];
  /** Chat names fixed to chat IDs; otherwise a name is the name of a group the bot is in. */
  chats: Record<string, string>;
  webhooks: WebhookConfig[];
  webhookRetry: RetryPolicy;
}

export const JSON_LIMIT = 64 * 1024;
export const FILE_LIMIT = 50 * 1024 * 1024;
/** How long the bot's list of group names is trusted before it is asked again. */
const CHATS_TTL_MS = 30_000;

const BRIDGE_ERRORS = {
  bridge_auth: [401, "Kein oder ungültiges Zugangstoken für die Schnittstelle.", "Missing or invalid token for the bridge."],
  chat_not_allowed: [403, "Diese Anbindung darf diese Unterhaltung nicht verwenden.", "This integration may not use this chat."],
  unknown_chat: [404, "Der Bot ist in keiner Unterhaltung dieses Namens.", "The bot is in no chat of this name."],
  not_found: [404, ...ERRORS.not_found],
  method_not_allowed: [405, "Diese Methode ist hier nicht erlaubt.", "This method is not allowed here."],
  frame_too_large: [413, ...ERRORS.frame_too_large],
  bad_request: [400, ...ERRORS.bad_request],
  send_failed: [502, "Die Nachricht konnte nicht gesendet werden.", "The message could not be sent."],
  server_unreachable: [503, "Der momedo-Server ist gerade nicht erreichbar; bitte später erneut versuchen.", "The momedo server cannot be reached right now; please retry later."],
  internal: [500, ...ERRORS.internal],
} as const satisfies Record<string, readonly [number, string, string]>;

export type BridgeErrorCode = keyof typeof BRIDGE_ERRORS;

export class BridgeError extends Error {
  readonly status: number;
  constructor(
    readonly code: BridgeErrorCode,
    readonly detail?: string,
  ) {
    const [status, de, en] = BRIDGE_ERRORS[code];
    super(`${de} / ${en}${detail ? ` (${detail})` : ""}`);
    this.status = status;
  }
}

export function loadBridgeConfig(file: string): BridgeConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new RangeError(`${file}: nicht lesbar / not readable (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  try {
    return parseBridgeConfig(JSON.parse(text));
  } catch (error) {
    if (error instanceof SyntaxError) throw new RangeError(`${file}: kein gültiges JSON / not valid JSON (${error.message})`);
    throw error;
  }
}

/** Checks a bridge configuration; throws RangeError naming the first problem. */
export function parseBridgeConfig(value: unknown): BridgeConfig {
  const fail = (what: string): never => {
    throw new RangeError(`Bridge-Konfiguration / bridge configuration: ${what}`);
  };
  if (!isObject(value) || !Array.isArray(value.integrations)) return fail('"integrations" fehlt / is missing');
  const integrations = value.integrations.map((i, n): Integration => {
    if (!isObject(i) || typeof i.name !== "string" || i.name === "") return fail(`integrations[${n}].name`);
    if (typeof i.tokenSha256 !== "string" || !/^[0-9a-f]{64}$/i.test(i.tokenSha256)) {
      return fail(`integrations[${n}].tokenSha256: 64 Hex-Zeichen (momedo-bot token) / 64 hex digits (momedo-bot token)`);
    }
    if (!Array.isArray(i.chats) || !i.chats.every((c) => typeof c === "string" && c !== "")) return fail(`integrations[${n}].chats`);
    return { name: i.name, tokenSha256: i.tokenSha256.toLowerCase(), chats: i.chats as string[] };
  });
  if (new Set(integrations.map((i) => i.name)).size !== integrations.length) fail("integrations: Namen doppelt / duplicate names");
  if (new Set(integrations.map((i) => i.tokenSha256)).size !== integrations.length) fail("integrations: Token doppelt / duplicate tokens");
  const chats: Record<string, string> = {};
  if (value.chats !== undefined) {
    if (!isObject(value.chats)) return fail('"chats"');
    for (const [name, id] of Object.entries(value.chats)) {
      if (typeof id !== "string" || id === "") return fail(`chats["${name}"]`);
      chats[name] = id;
    }
  }
  if (!Array.isArray(value.webhooks ?? [])) fail('"webhooks"');
  const webhooks = ((value.webhooks ?? []) as unknown[]).map((w, n): WebhookConfig => {
    if (!isObject(w) || typeof w.url !== "string" || !/^https?:\/\//.test(w.url)) return fail(`webhooks[${n}].url: http(s)://…`);
    if (typeof w.secret !== "string" || w.secret.length < 16) return fail(`webhooks[${n}].secret: mindestens 16 Zeichen / at least 16 characters`);
    if (!Array.isArray(w.events) || w.events.length === 0 || !w.events.every((e) => (WEBHOOK_EVENTS as readonly unknown[]).includes(e))) {
      return fail(`webhooks[${n}].events: ${WEBHOOK_EVENTS.join(", ")}`);
    }
    return { url: w.url, secret: w.secret, events: w.events as WebhookEvent[] };
  });
  if (new Set(webhooks.map((w) => w.url)).size !== webhooks.length) fail("webhooks: URL doppelt / duplicate URLs");
  let webhookRetry = DEFAULT_RETRY;
  if (value.webhookRetry !== undefined) {
    const r = value.webhookRetry;
    if (!isObject(r) || !isPositiveInteger(r.baseMs) || !isPositiveInteger(r.tries)) return fail("webhookRetry: {baseMs, tries}");
    webhookRetry = { baseMs: r.baseMs, tries: r.tries };
  }
  return { integrations, chats, webhooks, webhookRetry };
}

/** The bridge over a bot: HTTP API in, webhooks out. */
export class Bridge {
  private readonly webhooks: Webhooks;
  private readonly server: Server;
  private groups: { group: string; kind: string; name: string }[] = [];
  private groupsAt = 0;
  private sending: Promise<unknown> = Promise.resolve();

  constructor(
    readonly bot: Bot,
    private readonly config: BridgeConfig,
  ) {
    this.webhooks = new Webhooks(bot.profile.dir, config.webhooks, config.webhookRetry);
    this.server = createServer((req, res) => void this.handle(req, res));
    bot.onMessage(async ({ message }) => this.webhooks.emit("message", message.chat, { chat: await this.chatRef(message.chat), message: messageRef(message) }));
    bot.onCardAction(async (c) =>
      this.webhooks.emit("card_action", c.chat, {
        chat: await this.chatRef(c.chat),
        card: { id: c.cardId, title: c.card.title },
        action: c.action,
        values: c.values,
        from: c.from,
        message: { id: c.message.id, sentAt: new Date(c.message.sentAt).toISOString() },
      }),
    );
    bot.onJoin(async (chat) => {
      this.groupsAt = 0;
      this.webhooks.emit("join", chat, { chat: await this.chatRef(chat) });
    });
  }

  /** Starts the webhook queue, connects the bot (catching up), then listens; resolves to the URL. */
  async start(host = "127.0.0.1", port = 4780): Promise<string> {
    this.webhooks.start();
    await this.bot.start();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    return `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    await this.sending.catch(() => undefined);
    await this.bot.stop();
    await this.webhooks.stop();
  }

  /** Deliveries still waiting for their receiver. */
  get queuedDeliveries(): number {
    return this.webhooks.queued;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? "/", "http://bridge").pathname;
      const integration = this.authenticate(req);
      const chatRoute = /^\/v1\/chats\/([^/]+)\/(messages|files)$/.exec(path);
      if (path === "/v1/chats") {
        allow(req, "GET");
        return send(res, 200, { chats: await this.allowedChats(integration) });
      }
      if (path === "/v1/dead-letters") {
        allow(req, "GET");
        return send(res, 200, { deadLetters: await this.deadLetters(integration) });
      }
      if (!chatRoute) throw new BridgeError("not_found", path);
      allow(req, "POST");
      const name = decodePathSegment(chatRoute[1]!);
      const chat = await this.chatFor(integration, name);
      const sent = chatRoute[2] === "messages" ? await this.postMessage(req, chat) : await this.postFile(req, chat);
      send(res, 201, { id: sent.id, chat: name, ...(sent.file ? { file: { name: sent.file.name, mediaType: sent.file.mediaType, size: sent.file.size } } : {}) });
    } catch (error) {
      const failure = error instanceof BridgeError ? error : new BridgeError("internal");
      if (!(error instanceof BridgeError)) console.error("momedo-bot bridge:", error);
      if (failure.code === "frame_too_large") res.setHeader("connection", "close");
      if (failure.code === "bridge_auth") res.setHeader("www-authenticate", 'Bearer realm="momedo-bot"');
      send(res, failure.status, { code: failure.code, message: failure.message });
      req.resume(); // discard what is left of the body, so the client reads the answer
    }
  }

  /** The integration whose token this is; every token is compared, in constant time. */
  private authenticate(req: IncomingMessage): Integration {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    if (!match) throw new BridgeError("bridge_auth");
    const presented = createHash("sha256").update(match[1]!).digest();
    let found: Integration | undefined;
    for (const integration of this.config.integrations) {
      if (timingSafeEqual(presented, Buffer.from(integration.tokenSha256, "hex")) && !found) found = integration;
    }
    if (!found) throw new BridgeError("bridge_auth");
    return found;
  }

  private async chatFor(integration: Integration, name: string): Promise<string> {
    const chat = await this.resolve(name);
    if (!chat) throw new BridgeError("unknown_chat", name);
    if (!integration.chats.includes(name)) throw new BridgeError("chat_not_allowed", name);
    return chat;
  }

  /** A chat ID for a name: the configured map first, then the bot's groups (a name two groups share is ambiguous). */
  private async resolve(name: string, fresh = false): Promise<string | undefined> {
    if (Object.hasOwn(this.config.chats, name)) return this.config.chats[name];
    const named = (await this.currentGroups(fresh)).filter((g) => g.name === name);
    if (named.length === 1) return named[0]!.group;
    return fresh || named.length > 1 ? undefined : this.resolve(name, true);
  }

  private async currentGroups(fresh: boolean): Promise<{ group: string; kind: string; name: string }[]> {
    if (fresh || Date.now() - this.groupsAt > CHATS_TTL_MS) {
      this.groups = await this.bot.chats().catch((error: unknown) => {
        throw new BridgeError("server_unreachable", (error as Error).message);
      });
      this.groupsAt = Date.now();
    }
    return this.groups;
  }

  private async allowedChats(integration: Integration): Promise<{ name: string; id: string; kind?: string }[]> {
    const groups = await this.currentGroups(true);
    const out: { name: string; id: string; kind?: string }[] = [];
    for (const name of integration.chats) {
      const id = await this.resolve(name);
      if (!id) continue;
      const kind = groups.find((g) => g.group === id)?.kind;
      out.push({ name, id, ...(kind ? { kind } : {}) });
    }
    return out;
  }

  private async deadLetters(integration: Integration) {
    const chats = new Set((await this.allowedChats(integration)).map((c) => c.id));
    return readDeadLetters(this.bot.profile.dir)
      .filter((d) => chats.has(d.chat))
      .map(({ body, ...rest }) => ({ ...rest, payload: JSON.parse(body) as unknown }));
  }

  private async chatRef(chat: string): Promise<{ id: string; name?: string }> {
    const mapped = Object.entries(this.config.chats).find(([, id]) => id === chat)?.[0];
    if (mapped) return { id: chat, name: mapped };
    let group = Date.now() - this.groupsAt <= CHATS_TTL_MS ? this.groups.find((g) => g.group === chat) : undefined;
    // Events come in while the bot (re)connects, before it can ask for names: it waits a little.
    for (let wait = 0; !group && wait < 5000; wait += 250) {
      try {
        group = (await this.currentGroups(true)).find((g) => g.group === chat);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    return group ? { id: chat, name: group.name } : { id: chat };
  }

  private async postMessage(req: IncomingMessage, chat: string): Promise<ChatMessage> {
    const body = await readJson(req);
    const hasText = typeof body.text === "string" && body.text.trim() !== "";
    if (hasText === (body.card !== undefined)) throw new BridgeError("bad_request", 'genau eines von "text" oder "card" / exactly one of "text" or "card"');
    if (hasText) return this.serially(() => this.bot.send(chat, body.text as string));
    let card;
    try {
      card = checkCard(body.card);
    } catch (error) {
      throw new BridgeError("bad_request", (error as Error).message);
    }
    return this.serially(() => this.bot.sendCard(chat, card));
  }

  private async postFile(req: IncomingMessage, chat: string): Promise<ChatMessage> {
    const location = locationFrom(req);
    if (Number(req.headers["content-length"]) > FILE_LIMIT) throw new BridgeError("frame_too_large", `> ${FILE_LIMIT} Bytes`);
    const dir = await mkdtemp(join(tmpdir(), "momedo-bridge-"));
    try {
      const path = join(dir, fileName(req.headers["x-file-name"]));
      const out = await open(path, "w", 0o600);
      try {
        for await (const chunk of bodyChunks(req, FILE_LIMIT)) await out.write(chunk);
      } finally {
        await out.close();
      }
      const file = await prepareFile(path).catch((error: unknown) => {
        throw new BridgeError("bad_request", (error as Error).message);
      });
      if (file.source.size === 0) throw new BridgeError("bad_request", "leere Datei / empty file");
      const declaredType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
      // Image types come only from the bytes (their metadata is stripped); others may be declared.
      if (file.mediaType === "application/octet-stream" && /^(application|text|audio|video)\/[\w.+-]+$/.test(declaredType)) file.mediaType = declaredType;
      return await this.serially(() => this.bot.profile.messenger.sendFile(chat, file, location ? { location } : {}));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** One send at a time: each changes the chat's MLS state. */
  private serially(send: () => Promise<ChatMessage>): Promise<ChatMessage> {
    const result = this.sending.then(send).catch((error: unknown) => {
      if (error instanceof BridgeError) throw error;
      // The server's refusals carry a code; anything else means the bot has no connection now.
      if (error instanceof MomedoError) throw new BridgeError("send_failed", error.code);
      throw new BridgeError("server_unreachable", (error as Error).message);
    });
    this.sending = result.catch(() => undefined);
    return result;
  }
}

function messageRef(m: ChatMessage) {
  return {
    id: m.id,
    from: m.from,
    type: m.type,
    text: m.text,
    sentAt: new Date(m.sentAt).toISOString(),
    ...(m.file
      ? {
          file: {
            name: m.file.name,
            mediaType: m.file.mediaType,
            size: m.file.size,
            ...(m.file.width ? { width: m.file.width, height: m.file.height } : {}),
            ...(m.file.location ? { location: m.file.location } : {}),
            ...(m.file.takenAt !== undefined ? { takenAt: new Date(m.file.takenAt).toISOString() } : {}),
          },
        }
      : {}),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

function allow(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new BridgeError("method_not_allowed", `${req.method ?? ""} → ${method}`);
}

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new BridgeError("bad_request", segment);
  }
}

/** The request body in pieces; more than `max` bytes: 413 (the request stays open for the answer). */
async function* bodyChunks(req: IncomingMessage, max: number): AsyncGenerator<Buffer> {
  if (Number(req.headers["content-length"]) > max) throw new BridgeError("frame_too_large", `> ${max} Bytes`);
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new BridgeError("frame_too_large", `> ${max} Bytes`);
    yield chunk;
  }
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of bodyChunks(req, JSON_LIMIT)) chunks.push(chunk);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BridgeError("bad_request", "kein gültiges JSON / not valid JSON");
  }
  if (!isObject(value)) throw new BridgeError("bad_request", "JSON-Objekt erwartet / JSON object expected");
  return value;
}

function locationFrom(req: IncomingMessage): FileLocation | undefined {
  const lat = req.headers["x-latitude"];
  const lon = req.headers["x-longitude"];
  if (lat === undefined && lon === undefined) return undefined;
  const la = Number(lat);
  const lo = Number(lon);
  if (typeof lat !== "string" || typeof lon !== "string" || !(Math.abs(la) <= 90) || !(Math.abs(lo) <= 180)) {
    throw new BridgeError("bad_request", "X-Latitude (−90…90) und / and X-Longitude (−180…180)");
  }
  return { lat: la, lon: lo };
}

/** The sender's file name (percent-encoded for non-ASCII), reduced to a safe base name. */
function fileName(header: string | string[] | undefined): string {
  let name = typeof header === "string" ? header : "";
  try {
    name = decodeURIComponent(name);
  } catch {
    throw new BridgeError("bad_request", "X-File-Name");
  }
  name = (name.split(/[\\/]/).pop() ?? "").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 200);
  return name === "" || name === "." || name === ".." ? "datei" : name;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isPositiveInteger = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;
