import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe } from 'vitest';
import type { StorageConfig } from '../config.js';
import { openPgPool, openSqlite, pgKysely, redactUrl, sqliteKysely } from '../db/database.js';
import type { DbKind, Storage } from '../db/database.js';

/**
 * Where the test PostgreSQL lives. DESIGN asks for a real server on 127.0.0.1:5432 (user
 * postgres, trust auth); `KASSA_TEST_PG_URL` points elsewhere (its database is the admin one
 * from which test databases are created).
 */
export const TEST_PG_ADMIN_URL = process.env['KASSA_TEST_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one test, and how to reach it again (e.g. from a child process). */
export interface TestDatabase {
  readonly storage: Storage;
  /** The same database as a {@link StorageConfig}: for `openStorage` or a spawned server's env. */
  readonly config: StorageConfig;
  /** Environment variables that make a server use this database. */
  readonly env: Readonly<Record<string, string>>;
  /** Opens a second, independent connection to the same database (the caller closes it). */
  reopen(): Storage;
}

/** Makes fresh databases of one dialect; everything it made is dropped after the suite. */
export interface TestDatabaseFactory {
  readonly kind: DbKind;
  create(): Promise<TestDatabase>;
}

function sqliteStorage(file: string): Storage {
  const db = sqliteKysely(openSqlite(file));
  return { db, kind: 'sqlite', location: file, close: () => db.destroy() };
}

function pgStorage(url: string): Storage {
  const db = pgKysely(openPgPool(url, 4));
  return { db, kind: 'postgres', location: redactUrl(url), close: () => db.destroy() };
}

class SqliteFactory implements TestDatabaseFactory {
  readonly kind = 'sqlite' as const;
  private readonly dirs: string[] = [];
  private readonly open: Storage[] = [];

  async create(): Promise<TestDatabase> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kassa-test-'));
    this.dirs.push(dataDir);
    const file = path.join(dataDir, 'kassa.sqlite');
    const reopen = (): Storage => {
      const s = sqliteStorage(file);
      this.open.push(s);
      return s;
    };
    return { storage: reopen(), config: { kind: 'sqlite', dataDir, file }, env: { DATA_DIR: dataDir }, reopen };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.open.map((s) => s.close().catch(() => undefined)));
    for (const dir of this.dirs) fs.rmSync(dir, { recursive: true, force: true });
  }
}

class PostgresFactory implements TestDatabaseFactory {
  readonly kind = 'postgres' as const;
  private readonly names: string[] = [];
  private readonly open: Storage[] = [];

  private async admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: TEST_PG_ADMIN_URL, connectionTimeoutMillis: 5_000 });
    try {
      await client.connect();
    } catch (err) {
      throw new Error(
        `PostgreSQL is not reachable at ${redactUrl(TEST_PG_ADMIN_URL)} (${err instanceof Error ? err.message : String(err)}). ` +
          'The server tests need a real PostgreSQL (user postgres, trust auth) and never skip: start it ' +
          "(e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or set KASSA_TEST_PG_URL.",
        { cause: err },
      );
    }
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  async create(): Promise<TestDatabase> {
    const name = `kassa_test_${randomBytes(6).toString('hex')}`;
    await this.admin((c) => c.query(`create database ${name}`));
    this.names.push(name);
    const url = new URL(TEST_PG_ADMIN_URL);
    url.pathname = `/${name}`;
    const reopen = (): Storage => {
      const s = pgStorage(url.toString());
      this.open.push(s);
      return s;
    };
    return { storage: reopen(), config: { kind: 'postgres', url: url.toString() }, env: { DATABASE_URL: url.toString() }, reopen };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.open.map((s) => s.close().catch(() => undefined)));
    if (this.names.length === 0) return;
    await this.admin(async (c) => {
      // `with (force)` ends connections a crashed child process may have left behind.
      for (const name of this.names) await c.query(`drop database if exists ${name} with (force)`);
    });
  }
}

/**
 * Runs `fn` as two suites: against fresh SQLite files in a temp folder and against fresh
 * PostgreSQL databases (`kassa_test_<random>`, created from the `postgres` database and dropped
 * after). If PostgreSQL cannot be reached the PostgreSQL suite fails with a clear message; it is
 * never skipped.
 *
 * @example
 * ```ts
 * describeDb('migrations', (dbs) => {
 *   it('runs', async () => {
 *     const { storage } = await dbs.create();
 *     await migrateToLatest(storage.db);
 *   });
 * });
 * ```
 */
export function describeDb(name: string, fn: (factory: TestDatabaseFactory) => void): void {
  for (const kind of ['sqlite', 'postgres'] as const) {
    describe(`${name} [${kind}]`, () => {
      const factory = kind === 'sqlite' ? new SqliteFactory() : new PostgresFactory();
      afterAll(() => factory.dispose());
      fn(factory);
    });
  }
}
