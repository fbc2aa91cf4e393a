/**
 * The register's local store, common to Node and the browser: the SQL port, schema and
 * migrations, lookups and the engine that runs the commands. No driver is imported here: Node
 * adds better-sqlite3 (`@kassa/client/node`), the browser sqlite-wasm in its worker.
 */
export * from './sql-db.js';
export * from './errors.js';
export * from './pragmas.js';
export * from './migrations.js';
export * from './meta.js';
export * from './settings.js';
export * from './catalog.js';
export * from './lookups.js';
export * from './register-engine.js';
export * from './sync-store.js';
export * from './sync-review.js';
export * from './vault.js';
