import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openBetterSqlite3 } from './better-sqlite3-db.js';
import { SchemaTooNewError } from './errors.js';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from './migrations.js';
import type { SqlDb } from './sql-db.js';

const dirs: string[] = [];
function tempDb(): { db: SqlDb; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kassa-mig-'));
  dirs.push(dir);
  const file = join(dir, 'r.sqlite');
  return { db: openBetterSqlite3(file), file };
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('migrations', () => {
  it('are numbered 1, 2, 3, … without gaps', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('apply once: a second run, and a second connection, apply nothing', () => {
    const { db, file } = tempDb();
    expect(migrate(db, 1)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(migrate(db, 2)).toEqual([]);
    const other = openBetterSqlite3(file);
    expect(migrate(other, 3)).toEqual([]);
    expect(db.all('SELECT version, applied_at FROM schema_migrations ORDER BY version')).toEqual(MIGRATIONS.map((m) => ({ version: m.version, applied_at: 1 })));
    other.close();
    db.close();
  });

  it('never rewrite the outbox or the journal: ops queued under an old schema come through an upgrade byte for byte', () => {
    const { db } = tempDb();
    migrate(db, 1, 1);
    expect(schemaVersion(db)).toBe(1);
    const op = JSON.stringify({ v: 1, id: 'x', seq: 1, payload: { a: [1, 2, 3] } });
    db.run('INSERT INTO outbox (seq, op_id, op_type, op_json, created_at) VALUES (1, ?, ?, ?, 5)', ['op-1', 'cash.moved', op]);
    db.run("INSERT INTO journal (seq, op_id, op_type, op_json, status, acked_at) VALUES (1, 'op-0', 'cash.moved', '{}', 'applied', 4)");
    const before = { outbox: db.all('SELECT * FROM outbox'), journal: db.all('SELECT * FROM journal') };
    expect(migrate(db, 9)).toEqual(MIGRATIONS.slice(1).map((m) => m.version));
    expect({ outbox: db.all('SELECT * FROM outbox'), journal: db.all('SELECT * FROM journal') }).toEqual(before);
    db.close();
  });

  it('no migration after the first touches the outbox or the journal', () => {
    for (const m of MIGRATIONS.slice(1)) expect(m.sql).not.toMatch(/\b(outbox|journal)\b/i);
  });

  it('refuse a database newer than the code (a downgraded app must not write to it)', () => {
    const { db } = tempDb();
    migrate(db, 1);
    db.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 1)", [SCHEMA_VERSION + 1]);
    expect(() => migrate(db, 2)).toThrow(SchemaTooNewError);
    db.close();
  });

  it('roll a failing migration back whole', () => {
    const { db } = tempDb();
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table;' }];
    expect(() => migrate(db, 1, broken.length, broken)).toThrow(/no_such_table|no such table/);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(db.get("SELECT name FROM sqlite_master WHERE name = 'half'")).toBeUndefined();
    db.close();
  });

  it('set the durable pragmas: TRUNCATE journal, synchronous FULL, foreign keys on', () => {
    const { db } = tempDb();
    expect(db.get('PRAGMA journal_mode')).toEqual({ journal_mode: 'truncate' });
    expect(db.get('PRAGMA synchronous')).toEqual({ synchronous: 2 });
    expect(db.get('PRAGMA foreign_keys')).toEqual({ foreign_keys: 1 });
    db.close();
  });
});
