/**
 * `@kassa/client/node`: the register's store on better-sqlite3, for Node (the simulator, tests,
 * benchmarks). Kept apart from the package's main entry so a browser bundle never pulls a native
 * module.
 */
import { openBetterSqlite3 } from './store/better-sqlite3-db.js';
import { asyncStore, RegisterEngine, type AsyncRegisterStore, type EngineOptions } from './store/register-engine.js';

export { openBetterSqlite3 } from './store/better-sqlite3-db.js';
export * from './store/index.js';
export * from './commands/index.js';

/** A register store on a SQLite file in Node: the synchronous engine and its asynchronous API. */
export interface NodeRegisterStore {
  /** The engine itself (synchronous), for the simulator and tests. */
  readonly engine: RegisterEngine;
  /** The same engine behind the API the browser store also offers. */
  readonly store: AsyncRegisterStore;
}

/**
 * Opens (creating and migrating when needed) the register's store on a SQLite file.
 *
 * @example
 * ```ts
 * const { store } = openNodeStore('/tmp/register.sqlite');
 * await store.pair(identity);
 * ```
 */
export function openNodeStore(path: string, options: EngineOptions = {}): NodeRegisterStore {
  const engine = RegisterEngine.open(openBetterSqlite3(path), options);
  const store = asyncStore(engine);
  return { engine, store: { ...store, close: () => Promise.resolve(engine.close()) } };
}
