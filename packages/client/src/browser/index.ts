/**
 * `@kassa/client/browser`: the register's store in the browser — sqlite-wasm on OPFS
 * (`opfs-sahpool`) in a dedicated worker (`store-worker.ts`), reached through a Comlink proxy.
 */
export * from './browser-store.js';
export type { BrowserStoreLocation, StoreWorkerApi } from './store-worker.js';
