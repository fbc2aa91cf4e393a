/**
 * The register's sync engine (issue 7, docs/adr/0033): push and pull loops with backoff, the
 * bootstrap, the status observable, pairing, and the unsynced export.
 */
export * from './errors.js';
export * from './wire-schemas.js';
export * from './entity-mapping.js';
export * from './backoff.js';
export * from './timers.js';
export * from './status.js';
export * from './owner-lock.js';
export * from './sync-api.js';
export type { SyncStore, BeforeApply } from './loop-deps.js';
export * from './sync-engine.js';
export * from './pairing.js';
export * from './key-client.js';
export * from './recovery.js';
export * from './notifying-store.js';
