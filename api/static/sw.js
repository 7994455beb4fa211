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
  "/static/js/consultant_link.js",
  "/static/js/strings/consultant_link.js",
  "/static/js/jobview.js",
  "/static/js/strings/jobview.js",
  "/static/css/jobview.css",
  "/static/js/i18n.js",
  "/static/js/map.js",
  "/static/js/offers.js",
  "/static/js/strings/offers.js",
  "/static/js/onboarding.js",
  "/static/js/occupations.js",
  "/static/js/interests.js",
  "/static/js/strings/interests.js",
  "/static/js/consent.js",
  "/static/js/strings/consent.js",
  "/static/js/push.js",
  "/static/js/passkeys.js",
  "/static/js/strings/account.js",
  "/static/js/devices.js",
  "/static/js/strings/devices.js",
  "/static/css/devices.css",
  "/static/js/ui.js",
  "/static/js/webpush.js",
  "/static/js/strings/webpush.js",
  "/static/js/trust.js",
  "/static/js/strings/trust.js",
  "/static/js/workprofile.js",
  "/static/js/strings/ranking.js",
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

// Web Push (alerts while the app is closed, docs/push-protocol.md): the server
// sends {"type":"match","vacancy_id","title","distance_m"}; show it, and open
// the job when tapped. One notification per vacancy (the tag), never a position.
const PUSH_TEXT = {
  da: { title: "Nyt job tæt på", far: "{d} fra dit område", open: "Se jobbet" },
  en: { title: "New job nearby", far: "{d} from your area", open: "See the job" },
};

function pushLang() {
  const lang = (self.navigator && self.navigator.language) || "da";
  return lang.toLowerCase().startsWith("da") ? "da" : "en";
}

function km(m) {
  return m >= 1000 ? `${(m / 1000).toFixed(1).replace(".0", "")} km` : `${Math.round(m)} m`;
}

self.addEventListener("push", (event) => {
  let msg = null;
  try {
    msg = event.data ? event.data.json() : null;
  } catch {
    msg = null;
  }
  if (!msg || msg.type !== "match" || typeof msg.vacancy_id !== "string") return;
  const text = PUSH_TEXT[pushLang()];
  const id = msg.vacancy_id.replace(/[^0-9a-f-]/gi, "");
  const body = [String(msg.title || "").slice(0, 120), typeof msg.distance_m === "number" ? text.far.replace("{d}", km(msg.distance_m)) : ""]
    .filter(Boolean).join(" · ");
  event.waitUntil(
    self.registration.showNotification(text.title, {
      body,
      tag: `job-${id}`,
      icon: "/static/icons/icon-192.png",
      badge: "/static/icons/icon-192.png",
      data: { url: `/app#job-${id}` },
    }),
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
