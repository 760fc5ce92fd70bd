/// <reference lib="webworker" />
/** The service worker (scope /m/): the app shell precached, the lead and call-back lists cached
 * as they are fetched (network first, the cache when offline), and Web Push shown as
 * notifications that open the lead. */

import { clientsClaim } from "workbox-core";
import { ExpirationPlugin } from "workbox-expiration";
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from "workbox-precaching";
import { NavigationRoute, registerRoute } from "workbox-routing";
import { NetworkFirst } from "workbox-strategies";
import { LIST_CACHE, pushNotification } from "./notifications";

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: Array<string | { url: string; revision: string | null }> };

self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);

// Every app route (/m/, /m/leads/<id>) opens the precached shell, online or not.
registerRoute(new NavigationRoute(createHandlerBoundToURL("/m/index.html"), { allowlist: [/^\/m\//] }));

registerRoute(
  ({ url, request }) =>
    request.method === "GET" &&
    url.origin === self.location.origin &&
    (url.pathname === "/v1/me/leads" || url.pathname === "/v1/me/callbacks"),
  new NetworkFirst({
    cacheName: LIST_CACHE,
    networkTimeoutSeconds: 8,
    plugins: [new ExpirationPlugin({ maxEntries: 10, maxAgeSeconds: 14 * 24 * 3600 })],
  }),
);

self.addEventListener("push", (event) => {
  const shown = pushNotification(event.data ? event.data.text() : "");
  event.waitUntil(self.registration.showNotification(shown.title, shown.options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const target = new URL(typeof data?.url === "string" ? data.url : "/m/", self.location.origin);
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
      for (const client of windows) {
        if (new URL(client.url).pathname.startsWith("/m/") && "navigate" in client) {
          await client.focus();
          await client.navigate(target.href);
          return;
        }
      }
      await self.clients.openWindow(target.href);
    })(),
  );
});
