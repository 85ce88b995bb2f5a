// Sending to a browser's push service. The server only ever sends an empty wake-up: the
// content is end-to-end encrypted, so the notification says "new message" and nothing else.
import { MomedoError } from "@momedo/protocol";
import type { VapidKey } from "./vapid.js";

export interface PushSubscription {
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** `gone`: the push service no longer knows the subscription (404/410); drop it. */
export type PushOutcome = "sent" | "gone" | "failed";

export interface PushSender {
  wake(subscription: PushSubscription): Promise<PushOutcome>;
}

/** Kept a day by the push service while the browser is unreachable; mail waits longer anyway. */
const TTL_SECONDS = 24 * 60 * 60;
const TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** Push services are https; plain http only on loopback and only with `push-allow-insecure` (tests). */
export function checkEndpoint(endpoint: string, allowInsecure: boolean): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new MomedoError("bad_frame", "endpoint");
  }
  const insecureOk = allowInsecure && url.protocol === "http:" && LOOPBACK.has(url.hostname);
  if ((url.protocol !== "https:" && !insecureOk) || url.username || url.password) {
    throw new MomedoError("bad_frame", "endpoint: https only");
  }
}

/** Web Push (RFC 8030) with VAPID (RFC 8292): a POST without a body. */
export class WebPushSender implements PushSender {
  constructor(
    private readonly key: VapidKey,
    private readonly subject: () => string,
    private readonly allowInsecure: boolean,
  ) {}

  async wake(subscription: PushSubscription): Promise<PushOutcome> {
    try {
      checkEndpoint(subscription.endpoint, this.allowInsecure);
      const response = await fetch(subscription.endpoint, {
        method: "POST",
        headers: {
          Authorization: this.key.authorization(subscription.endpoint, this.subject()),
          TTL: String(TTL_SECONDS),
          Urgency: "normal",
          // A newer wake-up replaces one the push service still holds for the device.
          Topic: "mail",
        },
        redirect: "error",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (response.status === 404 || response.status === 410) return "gone";
      return response.ok ? "sent" : "failed";
    } catch {
      return "failed";
    }
  }
}
