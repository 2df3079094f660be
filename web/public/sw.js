// Nightjar's service worker: the app shell works offline, nothing personal is cached.
//  - Pages (navigations): from the network; offline, the cached shell (index.html), which
//    then says it is offline.
//  - /assets/ (hashed, immutable): from the cache, filled on first use.
//  - Icons, the manifest, the favicon: from the cache, refreshed in the background.
//  - /api/, /healthz and everything else: never touched — answers that hold personal data
//    (cameras, pictures, recordings, the account) are never stored here.
// The alarms issue adds Web Push to this same worker.
const SHELL = 'nightjar-shell-v1';
const STATIC = ['/', '/manifest.webmanifest', '/favicon.svg', '/icon-192.png', '/icon-512.png'];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await cache.addAll(STATIC);
      // The shell's own scripts and styles, as the current index.html names them.
      const html = await (await cache.match('/')).text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
      await cache.addAll(assets);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== SHELL) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/healthz' || url.pathname === '/metrics') return;

  if (request.mode === 'navigate') {
    event.respondWith(
      (async () => {
        try {
          const fresh = await fetch(request);
          if (fresh.ok && (fresh.headers.get('content-type') ?? '').startsWith('text/html')) {
            const cache = await caches.open(SHELL);
            await cache.put('/', fresh.clone());
          }
          return fresh;
        } catch {
          return (await caches.match('/')) ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (url.pathname.startsWith('/assets/')) {
    event.respondWith(
      (async () => {
        const cached = await caches.match(request);
        if (cached) return cached;
        const fresh = await fetch(request);
        if (fresh.ok) (await caches.open(SHELL)).put(request, fresh.clone());
        return fresh;
      })(),
    );
    return;
  }
  if (STATIC.includes(url.pathname) && url.pathname !== '/') {
    event.respondWith(
      (async () => {
        const cache = await caches.open(SHELL);
        const cached = await cache.match(request);
        const refresh = fetch(request)
          .then((fresh) => (fresh.ok ? cache.put(request, fresh.clone()).then(() => fresh) : fresh))
          .catch(() => cached ?? Response.error());
        return cached ?? refresh;
      })(),
    );
  }
});
