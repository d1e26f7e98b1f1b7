// Lianxin's service worker: keeps the versioned app shell so the app opens with no network.
// The API (/api/*) is never cached: the caseload lives in IndexedDB, not here.
// A new version installs in the background and waits; the page activates it when asked
// ("activate-new-version"), so nobody loses what they are typing to an update.
const VERSION = "__VERSION__";
const CACHE = "lianxin-shell-" + VERSION;
// The bundle step writes the list: the wasm, its glue, boot.js and style.css carry their
// content's hash in their names (style-0123456789abcdef.css), the rest keep theirs.
const SHELL = ["__SHELL__"];
const HASHED = /-[0-9a-f]{16}\.[a-z0-9]+$/;

// A new version downloads only what changed: a file whose hashed name an older shell's cache
// already holds is the same file, copied from there; the others are fetched (index.html and
// the unhashed ones revalidated with the server).
self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(SHELL.map(async (path) => {
      if (HASHED.test(path)) {
        const kept = await caches.match(path);
        if (kept) return cache.put(path, kept);
      }
      const response = await fetch(path, { cache: HASHED.test(path) ? "default" : "no-cache" });
      if (!response.ok) throw new Error(path + ": " + response.status);
      await cache.put(path, response);
    }));
  })());
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
