/**
 * The {@link SqlDb} port on better-sqlite3: the register's store in Node (the simulator, tests,
 * benchmarks). Never imported by the browser entry, so the bundle never pulls a native module.
 */
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { StorageFullError } from './errors.js';
import { applyPragmas } from './pragmas.js';
import { runInTransaction, type RunResult, type SqlDb, type SqlValue } from './sql-db.js';

/** Options of {@link openBetterSqlite3}. */
export interface BetterSqlite3Options {
  /** Open read-only (for inspection tools); the store itself always writes. */
  readonly readonly?: boolean;
}

function translate(e: unknown): unknown {
  if (e instanceof Database.SqliteError && e.code.startsWith('SQLITE_FULL')) return new StorageFullError(e.message);
  return e;
}

/**
 * Opens (creating when missing) a SQLite file with better-sqlite3 and sets the store's pragmas:
 * `journal_mode=TRUNCATE`, `synchronous=FULL`, `foreign_keys=ON` (see ADR 0030).
 *
 * @example
 * ```ts
 * const db = openBetterSqlite3('/var/lib/kassa/register.sqlite');
 * db.transaction(() => db.run('DELETE FROM alerts WHERE closed_at IS NOT NULL'));
 * ```
 */
export function openBetterSqlite3(path: string, options: BetterSqlite3Options = {}): SqlDb {
  const db = new Database(path, { readonly: options.readonly === true });
  // Prepared statements are cached per SQL text: commands run the same few dozen statements.
  const cache = new Map<string, Statement<SqlValue[]>>();
  const prepare = (sql: string): Statement<SqlValue[]> => {
    let stmt = cache.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare<SqlValue[]>(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      throw translate(e);
    }
  };
  const version = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  const sqlDb: SqlDb = {
    description: `better-sqlite3, SQLite ${version}, file ${path}`,
    exec: (sql) => wrap(() => void db.exec(sql)),
    run: (sql, params = []): RunResult => wrap(() => ({ changes: prepare(sql).run(...params).changes })),
    get: <T extends object>(sql: string, params: readonly SqlValue[] = []) => wrap(() => prepare(sql).get(...params) as T | undefined),
    all: <T extends object>(sql: string, params: readonly SqlValue[] = []) => wrap(() => prepare(sql).all(...params) as T[]),
    transaction: (fn) =>
      wrap(() =>
        runInTransaction(
          (sql) => db.exec(sql),
          () => db.inTransaction,
          fn,
        ),
      ),
    close: () => db.close(),
  };
  if (options.readonly !== true) applyPragmas(sqlDb);
  return sqlDb;
}
