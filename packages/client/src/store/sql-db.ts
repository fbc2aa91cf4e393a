/**
 * The synchronous SQL port every store implementation provides. The register's engine runs where
 * its database is (a dedicated worker in the browser, the main thread in Node), so a command is
 * plain synchronous SQL inside one `BEGIN IMMEDIATE … COMMIT`: nothing can interleave with it,
 * and there is no `await` between reading the next seq and writing the op that takes it.
 */
import { StoreInvariantError } from './errors.js';

/** A value SQLite stores and returns: text, an integer or real, NULL, or a blob. */
export type SqlValue = string | number | null | Uint8Array;

/** One row as an object keyed by column name. */
export type SqlRow = Record<string, SqlValue>;

/** What a write statement did. */
export interface RunResult {
  /** Rows inserted, updated or deleted by the statement. */
  readonly changes: number;
}

/**
 * A synchronous connection to one SQLite database.
 *
 * @example
 * ```ts
 * db.transaction(() => {
 *   const { n } = db.get<{ n: number }>('SELECT count(*) AS n FROM outbox') ?? { n: 0 };
 *   db.run('INSERT INTO settings (key, value_json) VALUES (?, ?)', ['n', String(n)]);
 * });
 * ```
 */
export interface SqlDb {
  /** Runs one or more statements without parameters (schema, pragmas). */
  exec(sql: string): void;
  /** Runs one statement with positional parameters. */
  run(sql: string, params?: readonly SqlValue[]): RunResult;
  /** The first row of a query, or `undefined`. */
  get<T extends object = SqlRow>(sql: string, params?: readonly SqlValue[]): T | undefined;
  /** Every row of a query. */
  all<T extends object = SqlRow>(sql: string, params?: readonly SqlValue[]): T[];
  /**
   * Runs `fn` in one `BEGIN IMMEDIATE … COMMIT`; any exception rolls everything back and is
   * rethrown (translated by the implementation: a full disk becomes `StorageFullError`). Returns
   * only after COMMIT. Transactions do not nest: calling it inside `fn` is a bug and throws.
   */
  transaction<T>(fn: () => T): T;
  /** Closes the connection; further calls throw. */
  close(): void;
  /** What the connection is, for diagnostics: e.g. `better-sqlite3 3.50.2` or `sqlite-wasm 3.54.1 opfs-sahpool`. */
  readonly description: string;
}

/**
 * Runs `fn` inside `BEGIN IMMEDIATE … COMMIT` on a connection that only knows `exec`. Shared by
 * the implementations so rollback behaves identically in Node and in the browser: on any error
 * the transaction is rolled back (if SQLite has not already done so) and the error rethrown.
 */
export function runInTransaction<T>(exec: (sql: string) => void, inTransaction: () => boolean, fn: () => T): T {
  if (inTransaction()) throw new StoreInvariantError('transactions do not nest: a command ran inside another');
  exec('BEGIN IMMEDIATE');
  try {
    const result = fn();
    exec('COMMIT');
    return result;
  } catch (e) {
    // SQLite rolls back by itself after some errors (SQLITE_FULL during COMMIT, IOERR); a second
    // ROLLBACK would then fail with "no transaction is active" and hide the real error.
    if (inTransaction()) exec('ROLLBACK');
    throw e;
  }
}
