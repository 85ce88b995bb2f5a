// The service worker (/sw.js, scope /): keeps this build's files for offline use (the outbox in
// the page sends what was written offline once back online), and turns the server's
// content-free wake-up into a "new message" notification: it holds no keys and reads no messages.
// /api/ and /admin/ always go to the network and are never cached.

// The few service-worker types used here; the webworker lib cannot share a program with the DOM lib.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
}
interface WorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly location: Location;
  readonly clients: {
    matchAll(options: { type: "window"; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: "install" | "activate" | "push", listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", listener: (event: FetchEvent) => void): void;
  addEventListener(type: "notificationclick", listener: (event: NotificationEvent) => void): void;
}

const worker = self as unknown as WorkerScope;
/** Written in by the build (vite.config.ts): this build's files and a version derived from them. */
const BUILD = JSON.parse("__MOMEDO_BUILD__") as { version: string; files: string[] };
const CACHE_PREFIX = "momedo-shell-";
const CACHE = CACHE_PREFIX + BUILD.version;
const NETWORK_ONLY = /^\/(api|admin)(\/|$)/;
/** The person's language, written by the page (pwa.ts, same names) where the worker can read it. */
const SETTINGS_CACHE = "momedo-settings";
const LANGUAGE_KEY = "/settings/language";

worker.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll([new Request("/", { cache: "reload" }), ...BUILD.files]);
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) if (name.startsWith(CACHE_PREFIX) && name !== CACHE) await caches.delete(name);
      await worker.clients.claim();
    })(),
  );
});

worker.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== worker.location.origin || NETWORK_ONLY.test(url.pathname)) return;
  if (request.mode === "navigate") {
    // Online, the page comes from the server (an update reaches everyone at once); offline, the shell.
    event.respondWith(fetch(request).catch(async () => (await caches.match("/", { cacheName: CACHE })) ?? Response.error()));
    return;
  }
  event.respondWith(
    (async () => {
      const cached = await caches.match(request, { cacheName: CACHE });
      if (cached) return cached;
      const response = await fetch(request);
      // Chunks loaded later (hashed, immutable) are kept too, so they work offline next time.
      if (response.ok && url.pathname.startsWith("/assets/")) await (await caches.open(CACHE)).put(request, response.clone());
      return response;
    })(),
  );
});

worker.addEventListener("push", (event) => {
  event.waitUntil(
    (async () => {
      // German unless the person switched the app to English, as in the app.
      const english = (await (await caches.match(LANGUAGE_KEY, { cacheName: SETTINGS_CACHE }))?.text()) === "en";
      await worker.registration.showNotification(english ? "New message" : "Neue Nachricht", {
        body: "momedo",
        lang: english ? "en" : "de",
        icon: "/icon-192.png",
        badge: "/icon-192.png",
        // Wake-ups replace each other: one notification however many messages arrived.
        tag: "momedo-mail",
      });
    })(),
  );
});

worker.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(
    (async () => {
      const windows = await worker.clients.matchAll({ type: "window", includeUncontrolled: true });
      const open = windows.find((client) => new URL(client.url).origin === worker.location.origin);
      if (open) await open.focus();
      else await worker.clients.openWindow("/");
    })(),
  );
});

export {};
