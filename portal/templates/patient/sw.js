/* The patient portal's service worker (scope /patient/). It keeps only the app's shell: its CSS, script,
   icons and the offline page. Pages are never cached: they hold patient data. A navigation always goes to
   the network; when that fails, the offline page is shown. */
const CACHE = {{ version|safe }};
const SHELL = {{ shell|safe }};
const OFFLINE = SHELL[SHELL.length - 1];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE)));
    return;
  }
  const url = new URL(request.url);
  // Chat pages and their JSON (/patient/messages/…) always come from the network, never from a cache:
  // a cached conversation would show old or someone else's messages.
  if (url.pathname.includes("/messages/")) return;
  if (url.origin === self.location.origin && SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
