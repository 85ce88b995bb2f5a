// The installable app: registers the service worker, and turns Web Push on or off for this
// device. The server's wake-ups carry no content; the worker shows only "new message".
import type { Messenger } from "@momedo/client/browser";

type Requester = Pick<Messenger, "request">;
export type PushState = "on" | "off" | "denied" | "unsupported";
/** Where sw.ts reads the notification's language (a worker cannot read localStorage). */
const SETTINGS_CACHE = "momedo-settings";
const LANGUAGE_KEY = "/settings/language";

/** Registers /sw.js for the whole app; a no-op in `vite dev` and where there are no service workers. */
export function registerServiceWorker(): void {
  if (import.meta.env.DEV || !("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error: unknown) => console.warn("service worker", error));
}

/** Notifications in the app's language: call at start and whenever the person switches. */
export async function setNotificationLanguage(language: "de" | "en"): Promise<void> {
  if (!("caches" in globalThis)) return;
  await (await caches.open(SETTINGS_CACHE)).put(LANGUAGE_KEY, new Response(language));
}

/** For the settings screen's initial label. */
export async function pushState(): Promise<PushState> {
  const registration = await workerRegistration();
  if (!registration) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" && (await registration.pushManager.getSubscription()) ? "on" : "off";
}

/**
 * Asks for permission, subscribes with the server's VAPID key and tells the server. Call it from
 * a click handler: browsers ask for permission only after a user gesture.
 */
export async function enablePush(messenger: Requester): Promise<PushState> {
  const registration = await workerRegistration();
  if (!registration) return "unsupported";
  const permission = await Notification.requestPermission();
  if (permission !== "granted") return permission === "denied" ? "denied" : "off";
  const response = await fetch("/api/v1/push/key");
  if (!response.ok) throw new Error(`push key: HTTP ${response.status}`);
  const key = fromBase64Url(((await response.json()) as { publicKey: string }).publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made for another key (the server's data directory was replaced) is useless.
  if (subscription && !sameBytes(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  await sendSubscription(messenger, subscription);
  return "on";
}

/** Tells the server the current subscription again (after connecting: browsers may renew it). */
export async function renewPush(messenger: Requester): Promise<void> {
  const registration = await workerRegistration();
  if (!registration || Notification.permission !== "granted") return;
  const subscription = await registration.pushManager.getSubscription();
  if (subscription) await sendSubscription(messenger, subscription);
}

export async function disablePush(messenger: Requester): Promise<PushState> {
  await messenger.request({ t: "push.unsubscribe" });
  const registration = await workerRegistration();
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
  return "off";
}

async function workerRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!("serviceWorker" in navigator) || !("PushManager" in globalThis) || !("Notification" in globalThis)) return undefined;
  return (await navigator.serviceWorker.getRegistration("/")) ? navigator.serviceWorker.ready : undefined;
}

async function sendSubscription(messenger: Requester, subscription: PushSubscription): Promise<void> {
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new Error("push subscription without endpoint or keys");
  await messenger.request({ t: "push.subscribe", endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
}

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
}

function sameBytes(buffer: ArrayBuffer | null, bytes: Uint8Array): boolean {
  const other = new Uint8Array(buffer ?? new ArrayBuffer(0));
  return other.length === bytes.length && other.every((b, i) => b === bytes[i]);
}
