// Sockets for the Node shell: `ws` with the server's pinned certificate.
import WebSocket from "ws";
import type { SocketFactory, SocketLike } from "./connection.js";
import { connectionError, tlsOptions, type ServerAddress } from "./http.js";

export function nodeSockets(server: ServerAddress): SocketFactory {
  return {
    url: server.url,
    open: (url, timeoutMs) =>
      new WebSocket(url, { ...tlsOptions(server), handshakeTimeout: timeoutMs, perMessageDeflate: false }) as unknown as SocketLike,
    error: (cause) => connectionError(server.url, cause instanceof Error ? cause : new Error(String(cause))),
  };
}
