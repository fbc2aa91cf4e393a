import { sql } from 'kysely';
import pg from 'pg';
import fs from 'node:fs';
import { expect, it } from 'vitest';
import { TEST_PG_ADMIN_URL, describeDb } from '../testing/describe-db.js';
import { pollUntil } from '../testing/poll.js';
import { cachingStatements, openSqlite, openStorage, redactUrl, SQLITE_PAGE_SIZE, WAL_AUTOCHECKPOINT_PAGES } from './database.js';

describeDb('openStorage', (dbs) => {
  if (dbs.kind === 'sqlite') {
    it('opens SQLite with WAL, synchronous=FULL, foreign keys and a busy timeout', async () => {
      const { config } = await dbs.create();
      const storage = openStorage(config);
      try {
        const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(storage.db)).rows[0] ?? {})[0];
        expect(await pragma('journal_mode')).toBe('wal');
        expect(await pragma('synchronous')).toBe(2); // FULL
        expect(await pragma('foreign_keys')).toBe(1);
        expect(await pragma('busy_timeout')).toBe(5000);
        expect(await pragma('page_size')).toBe(SQLITE_PAGE_SIZE);
        expect(storage.location).toBe(config.kind === 'sqlite' ? config.file : '');
      } finally {
        await storage.close();
      }
    });

    it('copies the WAL into the database file from a background thread, without a commit doing it', async () => {
      const { config } = await dbs.create();
      if (config.kind !== 'sqlite') throw new Error('sqlite only');
      const storage = openStorage(config);
      try {
        const pragma = async (name: string) => Object.values((await sql.raw(`pragma ${name}`).execute(storage.db)).rows[0] ?? {})[0];
        expect(await pragma('wal_autocheckpoint')).toBe(WAL_AUTOCHECKPOINT_PAGES);
        await sql`create table filler (x text)`.execute(storage.db);
        await storage.db.transaction().execute(async (trx) => {
          for (let i = 0; i < 200; i++) await sql`insert into filler (x) values (${'x'.repeat(10_000)})`.execute(trx);
        });
        // 2 MB committed to the WAL, far below the serving connection's own checkpoint threshold:
        // only the background checkpointer moves it into the database file.
        await pollUntil(() => (fs.statSync(config.file).size >= 2_000_000 ? true : undefined), { what: 'the WAL checkpointed into the database file', timeoutMs: 10_000 });
        expect((await sql<{ n: number }>`select count(*) as n from filler`.execute(storage.db)).rows[0]?.n).toBe(200);
      } finally {
        await storage.close();
      }
    });

    it('keeps prepared statements by SQL text, least recently used out first, and they run again after a schema change', async () => {
      const { config } = await dbs.create();
      if (config.kind !== 'sqlite') throw new Error('sqlite only');
      const sqlite = openSqlite(config.file);
      try {
        const handle = cachingStatements(sqlite, 2);
        const a = handle.prepare('select 1 as one');
        expect(handle.prepare('select 1 as one')).toBe(a);
        handle.prepare('select 2 as two');
        expect(handle.prepare('select 1 as one')).toBe(a); // used last: kept
        handle.prepare('select 3 as three'); // evicts `select 2`, the least recently used
        expect(handle.prepare('select 1 as one')).toBe(a);
        const b = handle.prepare('select 2 as two');
        expect(handle.prepare('select 2 as two')).toBe(b);
        expect(handle.prepare('select 3 as three')).not.toBe(b);

        sqlite.exec('create table t (x integer)');
        const insert = handle.prepare('insert into t (x) values (?)');
        const count = handle.prepare('select count(*) as n from t');
        (insert as unknown as { run(...p: unknown[]): unknown }).run(1);
        sqlite.exec('alter table t add column y text');
        (insert as unknown as { run(...p: unknown[]): unknown }).run(2);
        expect((count as unknown as { all(): unknown[] }).all()).toEqual([{ n: 2 }]);
      } finally {
        sqlite.close();
      }
    });
  } else {
    it('survives PostgreSQL killing an idle connection: reported, then reconnected', async () => {
      const { config } = await dbs.create();
      const errors: Error[] = [];
      const storage = openStorage(config, { onPoolError: (err) => errors.push(err) });
      try {
        const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(storage.db)).rows[0]?.pid;
        const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
        await admin.connect();
        try {
          await admin.query('select pg_terminate_backend($1)', [pid]);
        } finally {
          await admin.end();
        }
        await pollUntil(() => (errors.length > 0 ? true : undefined), { what: 'the pool to report the dead connection', timeoutMs: 10_000 });
        const again = await sql<{ one: number }>`select 1 as one`.execute(storage.db);
        expect(again.rows).toEqual([{ one: 1 }]);
      } finally {
        await storage.close();
      }
    });
  }
});

it('redacts a password in a database URL', () => {
  expect(redactUrl('postgres://kassa:s3cret@db:5432/kassa')).toBe('postgres://kassa:***@db:5432/kassa');
  expect(redactUrl('postgres://postgres@127.0.0.1:5432/kassa')).toBe('postgres://postgres@127.0.0.1:5432/kassa');
});
