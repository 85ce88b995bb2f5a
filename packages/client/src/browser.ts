// The client for browsers: the same Messenger and connection as the Node shell, over the
// browser's own WebSocket (TLS is the browser's: the web app comes from the server's origin).
// Nothing here may import Node built-ins.
import type { SocketFactory, SocketLike } from "./connection.js";

export { ServerConnection, type ConnectionHandlers, type Request, type SocketFactory, type SocketLike } from "./connection.js";
export { Messenger, type MessageIdentity } from "./messenger.js";
export { approveLinkWith, type ApproveResult, type ApproveStep } from "./approve.js";

/** Sockets to the server this page came from (or `origin`). */
export function browserSockets(origin: string = globalThis.location.origin): SocketFactory {
  return {
    url: origin,
    open: (url) => new WebSocket(url) as unknown as SocketLike,
    error: () => new Error(`Server ${origin} nicht erreichbar / server ${origin} not reachable`),
  };
}
