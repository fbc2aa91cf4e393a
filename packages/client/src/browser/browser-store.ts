/**
 * The page's side of the browser store: a typed Comlink proxy to the worker that owns the
 * database. It offers the same {@link AsyncRegisterStore} as the Node store.
 */
import * as Comlink from 'comlink';
import type { AsyncRegisterStore } from '../store/register-engine.js';
import type { BrowserStoreLocation, StoreWorkerApi } from './store-worker.js';

/** The browser store: the engine's API plus what only a worker-backed store needs. */
export type BrowserRegisterStore = AsyncRegisterStore & {
  /** Deletes the database and its pool (tests). */
  destroy(): Promise<void>;
  /** Ends the worker (after `close`). */
  terminate(): void;
};

/** The production location: one pool and one database file per origin. */
export const DEFAULT_LOCATION: BrowserStoreLocation = { pool: 'register', file: '/register.sqlite' };

/**
 * Opens the register's store in a dedicated worker and resolves when its database is migrated.
 *
 * @example
 * ```ts
 * const worker = new Worker(new URL('@kassa/client/browser/store-worker', import.meta.url), { type: 'module' });
 * const store = await openBrowserStore(worker);
 * const hit = await store.findByBarcode('4006381333931');
 * ```
 */
export async function openBrowserStore(worker: Worker, location: BrowserStoreLocation = DEFAULT_LOCATION): Promise<BrowserRegisterStore> {
  const remote = Comlink.wrap<StoreWorkerApi>(worker);
  await remote.open(location);
  const store = remote as unknown as BrowserRegisterStore;
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'terminate') return () => worker.terminate();
      // Comlink proxies answer every property, `then` included: say we are not a promise.
      if (prop === 'then') return undefined;
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
