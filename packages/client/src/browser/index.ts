/**
 * `@kassa/client/browser`: the register's store in the browser — sqlite-wasm on OPFS
 * (`opfs-sahpool`) in a dedicated worker (`store-worker.ts`), reached through a Comlink proxy;
 * and the browser-only guarantees around it: one tab owns the database (`openRegisterInTab`), a
 * paired register whose database is lost says so (`DatabaseLostError`), storage persistence.
 */
export * from './browser-store.js';
export type { BrowserStoreLocation, StoreWorkerApi } from './store-worker.js';
export * from './errors.js';
export * from './value-subject.js';
export * from './pairing-marker.js';
export * from './database-check.js';
export * from './storage.js';
export * from './tab-channel.js';
export * from './register-tab.js';
export * from './tab-sync.js';
