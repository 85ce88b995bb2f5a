// The device's WebSocket to its server: signs in with the device key, correlates requests with
// answers, and hands mailbox deliveries to the caller in order. Written against the WHATWG
// WebSocket interface, which browsers have and `ws` implements; the shell passes the socket.
import {
  decodeServerFrame,
  encodeFrame,
  isErrorCode,
  MomedoError,
  type DeliverFrame,
  type RequestFrame,
  type ServerFrame,
} from "@momedo/protocol";

/** What the connection needs of a WebSocket: the browser's, or `ws` in Node. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
}

/** Opens sockets to one server, and words a failed attempt for people. */
export interface SocketFactory {
  readonly url: string;
  open(url: string, timeoutMs: number): SocketLike;
  error(cause: unknown): Error;
}

const OPEN = 1;
const CLOSED = 3;

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

  private readonly closed: Promise<void>;
  private markClosed: () => void = () => undefined;

  private constructor(private readonly socket: SocketLike) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  static open(sockets: SocketFactory, handlers: ConnectionHandlers, timeoutMs = 15_000): Promise<ServerConnection> {
    const url = sockets.url.replace(/^http/, "ws") + "/api/v1/ws";
    const socket = sockets.open(url, timeoutMs);
    const connection = new ServerConnection(socket);
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        reject(new Error("Anmeldung am Server dauert zu lange / sign-in to the server timed out"));
        socket.close();
      }, timeoutMs);
      socket.onmessage = (event) => {
        let frame: ServerFrame;
        try {
          frame = decodeServerFrame(String(event.data));
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
      };
      socket.onerror = (event) => {
        clearTimeout(timer);
        if (!ready) reject(sockets.error((event as { error?: unknown }).error ?? event));
      };
      socket.onclose = ({ code, reason }) => {
        clearTimeout(timer);
        connection.markClosed();
        for (const w of connection.waiting.values()) w.reject(new Error("Verbindung getrennt / connection closed"));
        connection.waiting.clear();
        if (!ready) reject(new Error(`Verbindung abgelehnt / connection refused (${code} ${String(reason)})`));
        else handlers.onClose(code, String(reason));
      };
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
    if (this.socket.readyState === OPEN) this.socket.send(encodeFrame({ t: "ack", seq }));
  }

  close(): Promise<void> {
    if (this.socket.readyState === CLOSED) return Promise.resolve();
    this.socket.close(1000, "bye");
    return this.closed;
  }

  private settle(id: number, error?: Error, result?: unknown): void {
    const waiter = this.waiting.get(id);
    if (!waiter) return;
    this.waiting.delete(id);
    if (error) waiter.reject(error);
    else waiter.resolve(result);
  }
}
