/**
 * The harness's service worker: at install it caches every file of the build (listed in
 * `precache.json`, written by tab.vite.config.ts), then answers every same-origin GET from that
 * cache, ignoring the query string, and from the network only for what it lacks. So the harness
 * loads — page, worker, sqlite-wasm — with no server at all: the crash test relaunches Chromium
 * offline, with its static server gone. Cache-first is right for a test build that never changes
 * under a profile; the register app's own worker needs an update strategy (the app issue).
 */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Promise<Response>): void;
}
interface ServiceWorkerScope {
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const scope = globalThis as unknown as ServiceWorkerScope;
const CACHE = 'kassa-tab-harness';

scope.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const files = (await (await fetch('./precache.json', { cache: 'no-store' })).json()) as string[];
      const cache = await caches.open(CACHE);
      await cache.addAll(files);
      await scope.skipWaiting();
    })(),
  );
});

scope.addEventListener('activate', (event) => event.waitUntil(scope.clients.claim()));

scope.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET' || new URL(request.url).origin !== location.origin) return;
  event.respondWith(
    (async () => {
      const cached = await caches.match(request, { ignoreSearch: true, cacheName: CACHE });
      return cached ?? fetch(request);
    })(),
  );
});
