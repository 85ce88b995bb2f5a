// The device's WebSocket to its server (Node): signs in with the device key, correlates
// requests with answers, and hands mailbox deliveries to the caller in order.
import WebSocket from "ws";
import {
  decodeServerFrame,
  encodeFrame,
  isErrorCode,
  MomedoError,
  type DeliverFrame,
  type RequestFrame,
  type ServerFrame,
} from "@momedo/protocol";
import { connectionError, tlsOptions, type ServerAddress } from "./http.js";

type WithoutId<F> = F extends { id: number } ? Omit<F, "id"> : never;
export type Request = WithoutId<RequestFrame>;

export interface ConnectionHandlers {
  sign(nonce: string): Promise<string>;
  user: string;
  device: string;
  onDeliver(frame: DeliverFrame): void;
  onSynced(): void;
  onClose(code: number, reason: string): void;
}

export class ServerConnection {
  /** The ciphersuite the server asks new groups to use (from its `ready`). */
  suite = "";
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly socket: WebSocket) {}

  static open(server: ServerAddress, handlers: ConnectionHandlers, timeoutMs = 15_000): Promise<ServerConnection> {
    const url = server.url.replace(/^http/, "ws") + "/api/v1/ws";
    const socket = new WebSocket(url, { ...tlsOptions(server), handshakeTimeout: timeoutMs, perMessageDeflate: false });
    const connection = new ServerConnection(socket);
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error("Anmeldung am Server dauert zu lange / sign-in to the server timed out"));
        socket.terminate();
      }, timeoutMs);
      socket.on("message", (data) => {
        let frame: ServerFrame;
        try {
          frame = decodeServerFrame(data.toString());
        } catch (error) {
          socket.close(4400, "bad_frame");
          if (!ready) reject(error as Error);
          return;
        }
        switch (frame.t) {
          case "challenge":
            handlers.sign(frame.nonce).then(
              (sig) => socket.send(encodeFrame({ t: "auth", user: handlers.user, device: handlers.device, sig })),
              (error: Error) => reject(error),
            );
            return;
          case "ready":
            ready = true;
            connection.suite = frame.suite;
            clearTimeout(timer);
            resolve(connection);
            return;
          case "msg":
            handlers.onDeliver(frame);
            return;
          case "synced":
            handlers.onSynced();
            return;
          case "ok":
            connection.settle(frame.id, undefined, frame.result);
            return;
          case "err": {
            const error = isErrorCode(frame.code)
              ? new MomedoError(frame.code, typeof frame.detail === "string" ? frame.detail : undefined)
              : new Error(frame.message);
            if (frame.id !== undefined) connection.settle(frame.id, error);
            else if (!ready) {
              clearTimeout(timer);
              reject(error);
            }
          }
        }
      });
      socket.on("error", (error) => {
        clearTimeout(timer);
        if (!ready) reject(connectionError(server.url, error));
      });
      socket.on("close", (code, reason) => {
        clearTimeout(timer);
        for (const w of connection.waiting.values()) w.reject(new Error("Verbindung getrennt / connection closed"));
        connection.waiting.clear();
        if (!ready) reject(new Error(`Verbindung abgelehnt / connection refused (${code} ${reason.toString()})`));
        else handlers.onClose(code, reason.toString());
      });
    });
  }

  request<T>(request: Request): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.send(encodeFrame({ ...request, id } as RequestFrame));
    });
  }

  ack(seq: number): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(encodeFrame({ t: "ack", seq }));
  }

  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.close(1000, "bye");
    });
  }

  private settle(id: number, error?: Error, result?: unknown): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (error) waiter.reject(error);
    else waiter.resolve(result);
  }
}
