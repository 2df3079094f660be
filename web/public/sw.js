// Nightjar's service worker: the app shell works offline, nothing personal is cached.
//  - Pages (navigations): from the network; offline, the cached shell (index.html), which
//    then says it is offline.
//  - /assets/ (hashed, immutable): from the cache, filled on first use.
//  - Icons, the manifest, the favicon: from the cache, refreshed in the background.
//  - /api/, /healthz and everything else: never touched — answers that hold personal data
//    (cameras, pictures, recordings, the account) are never stored here.
//  - Web Push: a push shows a notification with the words the server sent (never a picture
//    in the message). The picture is the event's own, fetched here with the person's
//    session and shown from memory, so nothing is kept. A tap opens the alarms.
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

// A push from Nightjar: {"event_id","device_id","kind","at","grouped","title","body"}.
self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const title = typeof message.title === 'string' ? message.title : 'Nightjar';
  const options = {
    body: typeof message.body === 'string' ? message.body : '',
    tag: typeof message.event_id === 'string' ? message.event_id : undefined,
    icon: '/icon-192.png',
    data: { event_id: message.event_id, device_id: message.device_id },
  };
  // "Silence 30 min": the message carries a token that can do only that, as the service
  // worker has no page to carry the session's CSRF token.
  const snooze = message.snooze && typeof message.snooze.token === 'string' ? message.snooze : null;
  if (snooze) {
    options.actions = [{ action: 'snooze', title: typeof snooze.label === 'string' ? snooze.label : 'Silence' }];
    options.data.snooze = snooze.token;
  }
  event.waitUntil(
    (async () => {
      // The picture, with the person's own session; an image a notification can show.
      if (typeof message.event_id === 'string' && /^[0-9a-f]{32}$/.test(message.event_id)) {
        try {
          const r = await fetch(`/api/v1/events/${message.event_id}/snapshot.jpg`, { credentials: 'same-origin' });
          if (r.ok) {
            const bytes = new Uint8Array(await r.arrayBuffer());
            let binary = '';
            for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
            options.image = `data:image/jpeg;base64,${btoa(binary)}`;
          }
        } catch {
          // No picture (signed out, offline, not made yet): the words still go.
        }
      }
      await self.registration.showNotification(title, options);
    })(),
  );
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data || {};
  if (event.action === 'snooze' && typeof data.snooze === 'string') {
    event.waitUntil(
      fetch('/api/v1/notifications/snooze', {
        method: 'POST',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: data.snooze }),
      }).catch(() => undefined),
    );
    return;
  }
  event.waitUntil(
    (async () => {
      const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
      for (const w of windows) {
        if (new URL(w.url).origin === self.location.origin) {
          await w.focus();
          return w.navigate('/events');
        }
      }
      return self.clients.openWindow('/events');
    })(),
  );
});
