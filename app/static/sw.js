// Lianxin's service worker: keeps the versioned app shell so the app opens with no network.
// The API (/api/*) is never cached: the caseload lives in IndexedDB, not here.
// A new version installs in the background and waits; the page activates it when asked
// ("activate-new-version"), so nobody loses what they are typing to an update.
const VERSION = "__VERSION__";
const CACHE = "lianxin-shell-" + VERSION;
const SHELL = [
  "/", "/index.html", "/boot.js", "/style.css", "/manifest.webmanifest", "/icon.svg",
  "/pkg/lianxin_app.js", "/pkg/lianxin_app_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("lianxin-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "activate-new-version") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  // Every screen has its own address (/case/…, /board, /reports): a page opened at any of
  // them is the app shell, so a case's link opens with no signal.
  const wanted = event.request.mode === "navigate" ? "/index.html" : event.request;
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(wanted, { ignoreSearch: true }))
      .then((hit) => hit || fetch(event.request))
  );
});
