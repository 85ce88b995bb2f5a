// Which devices are online right now, and the way to their sockets.
import type { DeviceConnection } from "./connection.js";
import { CLOSE_REPLACED, CLOSE_REVOKED } from "./connection.js";
import type { Recipient } from "../groups/deliveryService.js";

export class Hub {
  private readonly online = new Map<string, DeviceConnection>();

  signedIn(connection: DeviceConnection): void {
    const previous = this.online.get(connection.address);
    if (previous && previous !== connection) previous.close(CLOSE_REPLACED, "replaced");
    this.online.set(connection.address, connection);
  }

  signedOut(connection: DeviceConnection): void {
    if (this.online.get(connection.address) === connection) this.online.delete(connection.address);
  }

  /** Hands each entry to its device's socket; returns the addresses that are not connected. */
  push(recipients: Recipient[]): string[] {
    const offline: string[] = [];
    for (const { address, entry } of recipients) {
      const connection = this.online.get(address);
      if (connection) connection.push(entry);
      else offline.push(address);
    }
    return offline;
  }

  disconnect(address: string): void {
    this.online.get(address)?.close(CLOSE_REVOKED, "revoked");
  }

  get count(): number {
    return this.online.size;
  }
}
