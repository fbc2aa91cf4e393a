import fs from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase as KyselySqliteDatabase, SqliteDialectConfig, SqliteStatement } from 'kysely';
import pg from 'pg';
import type { StorageConfig } from '../config.js';
import type { Database } from './schema.js';

/** Which database engine is behind a {@link Storage}: the value `/healthz` reports. */
export type DbKind = 'sqlite' | 'postgres';

/** An open database and what it is. */
export interface Storage {
  readonly db: Kysely<Database>;
  readonly kind: DbKind;
  /** Human-readable location for the start-up banner: a file path, or the URL without a password. */
  readonly location: string;
  /** Closes every connection; waits for queries in flight. */
  close(): Promise<void>;
}

/** PostgreSQL type OID of `int8` / `bigint`. */
const INT8_OID = 20;

/**
 * Parses an `int8` column as a JS number, refusing values a number cannot hold exactly.
 *
 * Amounts (minor units), sequences and millisecond timestamps are bigint on PostgreSQL so they
 * never overflow 32 bits, but every one of them stays far below 2^53; pg would otherwise return
 * them as strings. An unsafe value is a corrupted row, so it fails loudly rather than rounding.
 */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(`int8 value ${text} is outside the safe integer range`);
  }
  return n;
}

const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/**
 * Page size of a new SQLite file. A pushed op and its change-log entry are each a 2–3 KB JSON
 * row: with SQLite's default 4 KiB pages only one fits a page (the rest is wasted, and written,
 * fsynced and checkpointed at every commit); 16 KiB pages hold six. A file created before keeps
 * its page size (WAL files cannot change it). See docs/adr/0017-push-performance-and-bench.md.
 */
export const SQLITE_PAGE_SIZE = 16_384;

/**
 * Opens the SQLite file with the pragmas an acknowledged op needs to survive a power cut:
 * WAL (readers never block the writer), `synchronous=FULL` (fsync on every commit, see
 * docs/adr/0011-server-storage.md), foreign keys on, and a busy timeout instead of SQLITE_BUSY.
 * A new file gets {@link SQLITE_PAGE_SIZE} pages.
 */
export function openSqlite(file: string): SqliteDatabase.Database {
  const sqlite = new SqliteDatabase(file);
  // Only takes effect on a file with no tables yet, and only before WAL mode is switched on.
  sqlite.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return sqlite;
}

/**
 * Kysely's SQLite driver opens transactions with a deferred `begin`, which takes the write lock
 * only at the first write: two processes that both read then write (migrate, seed "if empty")
 * could both proceed. `begin immediate` takes the write lock up front, so such a transaction is
 * atomic across processes too (a second process waits up to the busy timeout).
 */
class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class KassaSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.#config);
  }
}

/** Most prepared statements kept per SQLite handle (see {@link cachingStatements}). */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * The handle as Kysely's SQLite driver sees it, with prepared statements kept by SQL text.
 * Kysely prepares every query it runs again; parsing and planning a multi-row INSERT of a push
 * batch costs more than running it. Kysely's SQL for one query shape is always the same text
 * (values are parameters), so a statement prepared once serves every later call. Bounded,
 * least recently used out first. Safe because the driver runs one query at a time on its one
 * connection (a statement is never in use twice at once), and SQLite re-prepares a cached
 * statement by itself when the schema changes.
 */
export function cachingStatements(sqlite: SqliteDatabase.Database, size = STATEMENT_CACHE_SIZE): KyselySqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => sqlite.close(),
    prepare: (sqlText: string): SqliteStatement => {
      const hit = cache.get(sqlText);
      if (hit !== undefined) {
        // Move to the young end.
        cache.delete(sqlText);
        cache.set(sqlText, hit);
        return hit;
      }
      const statement = sqlite.prepare(sqlText) as unknown as SqliteStatement;
      cache.set(sqlText, statement);
      if (cache.size > size) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      return statement;
    },
  };
}

/** Kysely over an open better-sqlite3 handle, with `begin immediate` transactions and cached statements. */
export function sqliteKysely(sqlite: SqliteDatabase.Database): Kysely<Database> {
  return new Kysely<Database>({ dialect: new KassaSqliteDialect({ database: cachingStatements(sqlite) }) });
}

/** Kysely over a pg pool. */
export function pgKysely(pool: pg.Pool): Kysely<Database> {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * Makes a pg pool whose int8 columns read back as numbers (see {@link parseInt8}). An idle
 * connection that dies (PostgreSQL restarted, network cut) makes the pool emit `error`; unhandled,
 * that would crash the process, so it is reported to `onError` and the pool reconnects on next use.
 */
export function openPgPool(url: string, max = 10, onError: (err: Error) => void = () => undefined): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes });
  pool.on('error', onError);
  return pool;
}

/** How often the background checkpointer copies the WAL into the database file. */
export const WAL_CHECKPOINT_INTERVAL_MS = 250;

/**
 * WAL size (pages) at which the serving connection checkpoints by itself: a safety net only, far
 * above what the background checkpointer lets the WAL reach. SQLite's default is 1,000.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 4_000;

// The worker is plain JavaScript (no loader needed) and imports better-sqlite3 by absolute URL.
const CHECKPOINTER_SOURCE = `(async () => {
  const { workerData, parentPort } = await import('node:worker_threads');
  const Sqlite = (await import(workerData.driver)).default;
  const db = new Sqlite(workerData.file);
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = FULL');
  const timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy or closing: next tick */ }
  }, workerData.intervalMs);
  parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
  parentPort.postMessage('ready');
})();`;

/** A running background checkpointer; `stop` waits until its connection is closed. */
export interface WalCheckpointer {
  stop(): Promise<void>;
}

/**
 * Checkpoints the SQLite file's WAL from a worker thread with its own connection, every
 * {@link WAL_CHECKPOINT_INTERVAL_MS}, in PASSIVE mode (it never blocks the writer or readers).
 *
 * Why: with SQLite's automatic checkpoint, the commit that pushes the WAL past 1,000 pages copies
 * the whole WAL into the database file and fsyncs it before it returns — on the event loop, so
 * every request waits (tens to hundreds of ms: the push latency's long tail). Here the serving
 * connection only appends to the WAL and fsyncs it at commit (what makes an acknowledged op
 * durable, unchanged), and the copy happens beside it. The serving connection keeps an automatic
 * checkpoint at {@link WAL_AUTOCHECKPOINT_PAGES} as a safety net. See docs/adr/0017.
 */
export async function startWalCheckpointer(file: string, intervalMs = WAL_CHECKPOINT_INTERVAL_MS): Promise<WalCheckpointer> {
  const driver = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href;
  const worker = new Worker(CHECKPOINTER_SOURCE, { eval: true, workerData: { file, intervalMs, driver } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the WAL checkpointer exited (${code}) before it started`)));
  });
  // A checkpointer that fails later only means the safety-net checkpoint takes over.
  worker.on('error', () => undefined);
  worker.unref();
  return {
    stop: async () => {
      // Referenced again, or a process with nothing else left to do would exit before it ends.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}

/** The URL with any password replaced, for logs and the banner. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Opens the database the configuration names. SQLite's folder is created when missing.
 *
 * @example
 * ```ts
 * const storage = openStorage({ kind: 'sqlite', dataDir: './data', file: './data/kassa.sqlite' });
 * await migrateToLatest(storage.db);
 * await storage.close();
 * ```
 */
export function openStorage(config: StorageConfig, options: { onPoolError?: (err: Error) => void } = {}): Storage {
  if (config.kind === 'sqlite') {
    fs.mkdirSync(config.dataDir, { recursive: true });
    const sqlite = openSqlite(config.file);
    sqlite.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    const db = sqliteKysely(sqlite);
    // Started in the background; until it runs (or if it cannot), the safety-net checkpoint works.
    const checkpointer = startWalCheckpointer(config.file).catch(() => undefined);
    return {
      db,
      kind: 'sqlite',
      location: config.file,
      close: async () => {
        await (await checkpointer)?.stop();
        await db.destroy();
      },
    };
  }
  const db = pgKysely(openPgPool(config.url, 10, options.onPoolError));
  return { db, kind: 'postgres', location: redactUrl(config.url), close: () => db.destroy() };
}
