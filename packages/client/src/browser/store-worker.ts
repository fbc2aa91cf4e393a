/**
 * The dedicated worker that owns the register's database in the browser: sqlite-wasm on the
 * `opfs-sahpool` VFS, the same engine as in Node, exposed to the page over Comlink. Commands run
 * here synchronously, inside one SQLite transaction each; the page awaits their answer.
 *
 * Start it with `new Worker(new URL('./store-worker.js', import.meta.url), { type: 'module' })`
 * and talk to it through `openBrowserStore` (browser-store.ts).
 */
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { SAHPoolUtil, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import * as Comlink from 'comlink';
import { StoreClosedError } from '../store/errors.js';
import { RegisterEngine, type RegisterEngineApi } from '../store/register-engine.js';
import { installErrorFields } from './comlink-errors.js';
import { createVfsErrorLog, wasmSqlDb } from './wasm-sql-db.js';

/** Where the database lives: the VFS pool (an OPFS directory) and the file name inside it. */
export interface BrowserStoreLocation {
  /** Names the pool and its OPFS directory (`.kassa-<pool>`); one register per origin uses one. */
  readonly pool: string;
  /** The database file within the pool. */
  readonly file: string;
}

/** What the worker exposes: open/close, then every engine method. */
export interface StoreWorkerApi extends RegisterEngineApi {
  /** Opens (creating and migrating) the database; resolves when the engine is ready. */
  open(location: BrowserStoreLocation): Promise<string>;
  /** Closes the database and releases the pool's OPFS handles (so another worker may open it). */
  close(): Promise<void>;
  /** Closes and deletes the pool with every file in it (tests; a register's "reset" is elsewhere). */
  destroy(): Promise<void>;
}

const vfsErrors = createVfsErrorLog();
// Must be set before the module initialises: the VFS captures its logger then.
(globalThis as { sqlite3ApiConfig?: unknown }).sqlite3ApiConfig = { error: vfsErrors.record };

let sqlite3: Sqlite3Static | undefined;
let pool: SAHPoolUtil | undefined;
let engine: RegisterEngine | undefined;

function current(): RegisterEngine {
  if (engine === undefined) throw new StoreClosedError();
  return engine;
}

/**
 * The pool's OPFS sync access handles are exclusive: right after a reload the previous worker may
 * still hold them for a moment. Retry until they are released, within a bound.
 */
async function installPool(s: Sqlite3Static, name: string): Promise<SAHPoolUtil> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      return await s.installOpfsSAHPoolVfs({ name: `kassa-${name}`, directory: `.kassa-${name}`, initialCapacity: 6, forceReinitIfPreviouslyFailed: true, preserveOnInitFailure: true } as Parameters<Sqlite3Static['installOpfsSAHPoolVfs']>[0]);
    } catch (e) {
      lastError = e;
      await new Promise((resolve) => setTimeout(resolve, Math.min(20 * (attempt + 1), 200)));
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

const api: Record<string, unknown> = {
  async open(location: BrowserStoreLocation): Promise<string> {
    if (engine !== undefined) return engine.describe();
    sqlite3 ??= await sqlite3InitModule();
    pool = await installPool(sqlite3, location.pool);
    if (pool.isPaused()) await pool.unpauseVfs();
    const db = new pool.OpfsSAHPoolDb(location.file);
    engine = RegisterEngine.open(wasmSqlDb(sqlite3, db, vfsErrors, `opfs-sahpool ${location.pool}:${location.file}`));
    return engine.describe();
  },
  close(): Promise<void> {
    engine?.close();
    engine = undefined;
    pool?.pauseVfs();
    return Promise.resolve();
  },
  async destroy(): Promise<void> {
    engine?.close();
    engine = undefined;
    if (pool !== undefined) {
      if (pool.isPaused()) await pool.unpauseVfs();
      await pool.removeVfs();
    }
    pool = undefined;
  },
};

// Every engine method, forwarded to the open engine.
for (const name of Object.getOwnPropertyNames(RegisterEngine.prototype)) {
  if (name === 'constructor' || name === 'close' || name in api) continue;
  api[name] = (...args: unknown[]) => (current() as unknown as Record<string, (...a: unknown[]) => unknown>)[name]?.(...args);
}

installErrorFields();
Comlink.expose(api);
