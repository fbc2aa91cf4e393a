/**
 * The {@link SqlDb} port on sqlite-wasm's oo1 API over the `opfs-sahpool` VFS: the register's
 * store in the browser. Runs only inside the dedicated worker that owns the database (OPFS sync
 * access handles exist only in workers), where commands are synchronous like in Node.
 */
import type { Database, PreparedStatement, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { SQLITE_FULL, StorageFullError, StoreClosedError } from '../store/errors.js';
import { applyPragmas } from '../store/pragmas.js';
import { runInTransaction, type RunResult, type SqlDb, type SqlRow, type SqlValue } from '../store/sql-db.js';

/**
 * Errors the VFS logged while a statement ran. `opfs-sahpool` turns a failed write into a bare
 * `SQLITE_IOERR` and only logs the browser's error (a `QuotaExceededError` when the origin is
 * out of quota), so the log is how a full disk is told apart from a broken one.
 */
export interface VfsErrorLog {
  /** Clears what was logged so far. */
  reset(): void;
  /** True when a `QuotaExceededError` was logged since the last reset. */
  sawQuotaExceeded(): boolean;
}

/** A log of VFS errors; pass `record` as `sqlite3ApiConfig.error` before the module initialises. */
export function createVfsErrorLog(forward: (...args: unknown[]) => void = (...args) => console.error(...args)): VfsErrorLog & { record(...args: unknown[]): void } {
  let quota = false;
  return {
    record: (...args) => {
      if (args.some((a) => a instanceof Error && a.name === 'QuotaExceededError')) quota = true;
      forward(...args);
    },
    reset: () => {
      quota = false;
    },
    sawQuotaExceeded: () => quota,
  };
}

const IOERR = 10;

/**
 * Wraps an open oo1 database as a {@link SqlDb} and sets the store's pragmas.
 *
 * @param description shown by `describe()`, e.g. the VFS and file name.
 */
export function wasmSqlDb(sqlite3: Sqlite3Static, db: Database, vfsErrors: VfsErrorLog, description: string): SqlDb {
  const cache = new Map<string, PreparedStatement>();
  const prepare = (sql: string): PreparedStatement => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const translate = (e: unknown): unknown => {
    if (e instanceof sqlite3.SQLite3Error) {
      const primary = e.resultCode & 0xff;
      if (primary === SQLITE_FULL) return new StorageFullError(e.message);
      if (primary === IOERR && vfsErrors.sawQuotaExceeded()) return new StorageFullError(`QuotaExceededError: ${e.message}`);
    }
    if (e instanceof Error && e.name === 'QuotaExceededError') return new StorageFullError(e.message);
    return e;
  };
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw translate(e);
    }
  };
  const query = <T>(sql: string, params: readonly SqlValue[], max: number): T[] => {
    const stmt = prepare(sql);
    try {
      if (params.length > 0) stmt.bind([...params]);
      const rows: T[] = [];
      while (rows.length < max && stmt.step()) rows.push(stmt.get({}) as T);
      return rows;
    } finally {
      stmt.reset(true);
    }
  };
  const pointer = db.pointer;
  if (pointer === undefined) throw new StoreClosedError();
  const sqlDb: SqlDb = {
    description: `sqlite-wasm, SQLite ${sqlite3.version.libVersion}, ${description}`,
    exec: (sql) => wrap(() => void db.exec(sql)),
    run: (sql, params = []): RunResult =>
      wrap(() => {
        const stmt = prepare(sql);
        try {
          if (params.length > 0) stmt.bind([...params]);
          // A write steps to completion; rows of a RETURNING clause are not needed here.
          while (stmt.step()) continue;
        } finally {
          stmt.reset(true);
        }
        return { changes: db.changes() };
      }),
    get: <T extends object = SqlRow>(sql: string, params: readonly SqlValue[] = []) => wrap(() => query<T>(sql, params, 1)[0]),
    all: <T extends object = SqlRow>(sql: string, params: readonly SqlValue[] = []) => wrap(() => query<T>(sql, params, Number.POSITIVE_INFINITY)),
    transaction: (fn) => {
      vfsErrors.reset();
      return wrap(() =>
        runInTransaction(
          (sql) => db.exec(sql),
          () => sqlite3.capi.sqlite3_get_autocommit(pointer) === 0,
          fn,
        ),
      );
    },
    close: () => {
      for (const stmt of cache.values()) stmt.finalize();
      cache.clear();
      db.close();
    },
  };
  applyPragmas(sqlDb);
  return sqlDb;
}
