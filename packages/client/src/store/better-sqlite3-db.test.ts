import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openBetterSqlite3 } from './better-sqlite3-db.js';
import { StorageFullError, StoreInvariantError } from './errors.js';
import type { SqlDb } from './sql-db.js';

let dir = '';
let db: SqlDb;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kassa-sqldb-'));
  db = openBetterSqlite3(join(dir, 'x.sqlite'));
  db.exec('CREATE TABLE t (n INTEGER PRIMARY KEY, s TEXT) STRICT');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const count = () => db.get<{ n: number }>('SELECT count(*) AS n FROM t')?.n;

describe('SqlDb on better-sqlite3', () => {
  it('commits a transaction and returns its value only after COMMIT', () => {
    expect(db.transaction(() => db.run('INSERT INTO t (s) VALUES (?)', ['a']).changes)).toBe(1);
    expect(count()).toBe(1);
  });

  it('rolls back everything when the body throws, and rethrows the same error', () => {
    const boom = new Error('boom');
    expect(() =>
      db.transaction(() => {
        db.run('INSERT INTO t (s) VALUES (?)', ['a']);
        throw boom;
      }),
    ).toThrow(boom);
    expect(count()).toBe(0);
  });

  it('refuses a nested transaction and rolls the outer one back', () => {
    expect(() =>
      db.transaction(() => {
        db.run('INSERT INTO t (s) VALUES (?)', ['a']);
        db.transaction(() => db.run('INSERT INTO t (s) VALUES (?)', ['b']));
      }),
    ).toThrow(StoreInvariantError);
    expect(count()).toBe(0);
  });

  it('turns SQLITE_FULL into StorageFullError and leaves the file as it was', () => {
    db.transaction(() => db.run('INSERT INTO t (s) VALUES (?)', ['seed']));
    db.get('PRAGMA max_page_count = 1');
    expect(() => db.transaction(() => db.run('INSERT INTO t (s) VALUES (?)', ['x'.repeat(100_000)]))).toThrow(StorageFullError);
    expect(db.all('SELECT s FROM t')).toEqual([{ s: 'seed' }]);
  });

  it('binds and reads text, integers, reals, NULL and blobs', () => {
    db.exec('CREATE TABLE v (a ANY) STRICT');
    for (const value of ['é', 42, 1.5, null, new Uint8Array([1, 2, 3])]) db.run('INSERT INTO v (a) VALUES (?)', [value]);
    expect(db.all<{ a: unknown }>('SELECT a FROM v ORDER BY rowid').map((r) => r.a)).toEqual(['é', 42, 1.5, null, Buffer.from([1, 2, 3])]);
  });
});
