/**
 * `@kassa/client`: the register's local engine. It runs in the browser (SQLite WebAssembly on OPFS
 * in a worker) and in Node (better-sqlite3), behind one interface.
 */
export * from './store/index.js';
export * from './commands/index.js';
export * from './crypto/index.js';
export * from './sync/index.js';
