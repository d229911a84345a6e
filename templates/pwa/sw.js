// Service worker: the app shell pre-cached under a versioned name, pages network-first with
// the cached copy or the offline page as fallback, evidence never cached, and outbox replay.
"use strict";
const VERSION = "{{ version }}";
const SHELL = "inspect-shell-" + VERSION;
const PAGES = "inspect-pages";
const PRECACHE = {{ precache | safe }};
// Pages kept for offline use: home, an inspection being worked on, the outbox.
const KEEP_PAGE = /^\/($|inspections\/[0-9a-f-]{36}$|outbox$|offline$)/;

importScripts("/static/js/outbox.js");

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith("inspect-shell-") && key !== SHELL) await caches.delete(key);
    }
    await self.clients.claim();
    await self.InspectOutbox.flush();
  })());
});

async function networkFirst(request, url) {
  try {
    const response = await fetch(request);
    if (response.ok && KEEP_PAGE.test(url.pathname) && !response.redirected) {
      const cache = await caches.open(PAGES);
      await cache.put(url.pathname, response.clone());
    }
    return response;
  } catch (err) {
    const cached = (await caches.match(url.pathname, { cacheName: PAGES }))
      || (await caches.match(url.pathname, { cacheName: SHELL }));
    if (cached) return cached;
    if (request.mode === "navigate") return caches.match("/offline", { cacheName: SHELL });
    return Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // posts go to the network; the page queues them offline
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/photos/") || url.pathname === "/sw.js") return; // evidence: never cached
  if (PRECACHE.includes(url.pathname) && url.pathname.startsWith("/static/")) {
    event.respondWith(caches.match(url.pathname, { cacheName: SHELL }).then((hit) => hit || fetch(request)));
    return;
  }
  const wantsPage = request.mode === "navigate" || (request.headers.get("accept") || "").includes("text/html");
  if (wantsPage && !request.headers.get("hx-request")) {
    event.respondWith(networkFirst(request, url));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === "outbox") event.waitUntil(self.InspectOutbox.flush());
});

self.addEventListener("message", (event) => {
  if (event.data === "flush") event.waitUntil(self.InspectOutbox.flush());
});

// A worker that starts (after the browser stopped it) replays what waits.
self.InspectOutbox.flush();
