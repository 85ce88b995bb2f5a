// One device's WebSocket: challenge-response sign-in with the device's signature key, then
// requests, and the device's mailbox streamed in order (backlog in pages, then live).
import { createPublicKey, randomBytes, verify } from "node:crypto";
import type { WebSocket } from "ws";
import {
  authChallengeText,
  decodeClientFrame,
  bilingualMessage,
  fromBase64,
  isErrorCode,
  MomedoError,
  type AuthFrame,
  type ClientFrame,
  type RequestFrame,
} from "@momedo/protocol";
import type { MailboxEntry } from "../mailbox/mailbox.js";

export const PAGE_SIZE = 500;
const AUTH_TIMEOUT_MS = 10_000;
const MAX_BUFFERED_BYTES = 1 << 20;

export const CLOSE_BAD_FRAME = 4400;
export const CLOSE_AUTH = 4401;
export const CLOSE_REPLACED = 4409;
export const CLOSE_REVOKED = 4403;

export interface RelayContext {
  serverName: string;
  suite: string;
  deviceKey(user: string, device: string): Uint8Array | undefined;
  signedIn(connection: DeviceConnection): void;
  signedOut(connection: DeviceConnection): void;
  page(user: string, device: string, afterSeq: number, limit: number): MailboxEntry[];
  ack(user: string, device: string, upTo: number): void;
  handle(connection: DeviceConnection, frame: RequestFrame): Promise<unknown>;
}

export class DeviceConnection {
  user = "";
  device = "";
  private nonce = randomBytes(32).toString("base64");
  private signedIn = false;
  private lastSent = 0;
  /** True while older entries still wait in the database; live pushes then wait too. */
  private paging = true;
  private corked = false;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly socket: WebSocket,
    private readonly context: RelayContext,
  ) {
    socket.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on("close", () => {
      clearTimeout(this.authTimer);
      if (this.signedIn) context.signedOut(this);
    });
    socket.on("error", () => socket.terminate());
    this.authTimer = setTimeout(() => this.close(CLOSE_AUTH, "not_authenticated"), AUTH_TIMEOUT_MS);
    this.sendRaw(JSON.stringify({ t: "challenge", nonce: this.nonce, server: context.serverName }));
  }

  get address(): string {
    return `${this.user}/${this.device}`;
  }

  /** A new mailbox entry, already durable. */
  push(entry: MailboxEntry): void {
    if (!this.signedIn || this.paging || entry.seq <= this.lastSent) return;
    this.deliver(entry);
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) this.paging = true;
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    let frame: ClientFrame;
    try {
      if (isBinary) throw new MomedoError("bad_frame", "binary frame");
      frame = decodeClientFrame(data.toString("utf8"));
    } catch (error) {
      this.fail(undefined, error);
      this.close(CLOSE_BAD_FRAME, "bad_frame");
      return;
    }
    if (!this.signedIn) {
      if (frame.t !== "auth") {
        this.fail(undefined, new MomedoError("not_authenticated"));
        this.close(CLOSE_AUTH, "not_authenticated");
      } else this.authenticate(frame);
      return;
    }
    switch (frame.t) {
      case "auth":
        this.fail(undefined, new MomedoError("bad_frame", "already signed in"));
        return;
      case "ack":
        this.onAck(frame.seq);
        return;
      default:
        this.request(frame);
    }
  }

  private authenticate(frame: AuthFrame): void {
    const key = this.context.deviceKey(frame.user, frame.device);
    let valid = false;
    if (key) {
      try {
        valid = verifyEd25519(key, authChallengeText(this.nonce, frame.user, frame.device), fromBase64(frame.sig));
      } catch {
        valid = false;
      }
    }
    if (!valid) {
      this.fail(undefined, new MomedoError("auth_failed"));
      this.close(CLOSE_AUTH, "auth_failed");
      return;
    }
    clearTimeout(this.authTimer);
    this.nonce = "";
    this.user = frame.user;
    this.device = frame.device;
    this.signedIn = true;
    this.context.signedIn(this);
    this.sendRaw(JSON.stringify({ t: "ready", user: this.user, device: this.device, suite: this.context.suite }));
    this.nextPage();
  }

  private onAck(seq: number): void {
    const upTo = Math.min(seq, this.lastSent);
    if (upTo > 0) this.context.ack(this.user, this.device, upTo);
    if (this.paging && seq >= this.lastSent) this.nextPage();
  }

  private nextPage(): void {
    const entries = this.context.page(this.user, this.device, this.lastSent, PAGE_SIZE);
    for (const entry of entries) this.deliver(entry);
    this.paging = entries.length === PAGE_SIZE;
    if (!this.paging) this.sendRaw('{"t":"synced"}');
  }

  private deliver(entry: MailboxEntry): void {
    this.lastSent = entry.seq;
    this.sendRaw(
      `{"t":"msg","seq":${entry.seq},"group":${JSON.stringify(entry.group)},"kind":"${entry.kind}","from":"${entry.sender}","data":"${base64Of(entry.data)}","at":${entry.at}}`,
    );
  }

  private request(frame: RequestFrame): void {
    let pending: Promise<unknown>;
    try {
      pending = this.context.handle(this, frame);
    } catch (error) {
      this.fail(frame.id, error);
      return;
    }
    pending.then(
      (result) => this.sendRaw(JSON.stringify({ t: "ok", id: frame.id, result: result ?? null })),
      (error) => this.fail(frame.id, error),
    );
  }

  private fail(id: number | undefined, error: unknown): void {
    const known = error instanceof MomedoError;
    const code = known && isErrorCode(error.code) ? error.code : "internal";
    if (!known) console.error("request failed", error);
    this.sendRaw(
      JSON.stringify({
        t: "err",
        ...(id !== undefined ? { id } : {}),
        code,
        message: bilingualMessage(code),
        ...(known && error.detail ? { detail: error.detail } : {}),
      }),
    );
  }

  private sendRaw(text: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    // Frames of one event-loop turn leave in one write: cork now, uncork on the next tick.
    const raw = (this.socket as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    if (raw && !this.corked) {
      this.corked = true;
      raw.cork();
      process.nextTick(() => {
        this.corked = false;
        raw.uncork();
      });
    }
    this.socket.send(text);
  }
}

// A fan-out hands the same Buffer to every recipient: encode it once.
const encoded = new WeakMap<Buffer, string>();

function base64Of(data: Buffer): string {
  let text = encoded.get(data);
  if (text === undefined) {
    text = data.toString("base64");
    if (data.length >= 1024) encoded.set(data, text);
  }
  return text;
}

// DER prefix of an Ed25519 SubjectPublicKeyInfo; Node's native verify is far faster than JS.
const ED25519_SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  const key = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
  return verify(null, message, key, signature);
}
