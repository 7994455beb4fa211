// The jobseeker app's service worker: the app shell works offline (and the app
// is installable), notifications open the job. API answers and anything
// personal are never cached: requests to /v1/ always go to the network.
const CACHE = "jotr-shell-v1";
const SHELL = [
  "/app",
  "/manifest.webmanifest",
  "/static/css/jotr.css",
  "/static/js/app.js",
  "/static/js/api.js",
  "/static/js/cards.js",
  "/static/js/i18n.js",
  "/static/js/map.js",
  "/static/js/onboarding.js",
  "/static/js/push.js",
  "/static/js/passkeys.js",
  "/static/js/strings/account.js",
  "/static/js/ui.js",
  "/static/vendor/leaflet/leaflet.js",
  "/static/vendor/leaflet/leaflet.css",
  "/static/icons/icon.svg",
  "/static/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/v1/") || url.pathname.startsWith("/v/")) return;
  const shell = req.mode === "navigate" ? (url.pathname.startsWith("/app") ? "/app" : null) : url.pathname;
  if (shell === null) return;
  if (!url.pathname.startsWith("/static/") && req.mode !== "navigate" && url.pathname !== "/manifest.webmanifest") return;
  // Network first (our files have no hashed names, so the newest wins while
  // online); the cached shell when offline.
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok && SHELL.includes(shell)) {
          const copy = res.clone();
          caches.open(CACHE).then((cache) => cache.put(shell, copy));
        }
        return res;
      })
      .catch(() => caches.match(shell).then((hit) => hit || Response.error())),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = (event.notification.data && event.notification.data.url) || "/app";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((wins) => {
      for (const w of wins) {
        if (new URL(w.url).pathname.startsWith("/app")) {
          w.navigate(target).catch(() => {});
          return w.focus();
        }
      }
      return self.clients.openWindow(target);
    }),
  );
});
