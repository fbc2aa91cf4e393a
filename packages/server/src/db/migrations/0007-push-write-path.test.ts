import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeDb } from '../../testing/describe-db.js';
import { migrateToLatest } from '../migrations.js';
import { m0007_push_write_path } from './0007-push-write-path.js';

const HOT = ['facts', 'refunds', 'sales', 'stock_movements', 'sync_ops'];

async function indexesOf(db: Kysely<unknown>, kind: string, table: string): Promise<string[]> {
  const q =
    kind === 'postgres'
      ? sql<{ name: string }>`select indexname as name from pg_indexes where tablename = ${table} and schemaname = current_schema() order by 1`
      : sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = ${table} order by 1`;
  return (await q.execute(db)).rows.map((r) => r.name);
}

async function pgForeignKeys(db: Kysely<unknown>): Promise<string[]> {
  const { rows } = await sql<{ tbl: string }>`
    select c.relname as tbl from pg_constraint k join pg_class c on c.oid = k.conrelid
    where k.contype = 'f' and c.relnamespace = current_schema()::regnamespace order by 1`.execute(db);
  return rows.map((r) => r.tbl);
}

describeDb('migration 0007 (the push write path)', (dbs) => {
  it('drops the unread movements-by-product and facts-by-type indexes, and on PostgreSQL the hot tables’ foreign keys; down puts them back', async () => {
    const { storage } = await dbs.create();
    const db = storage.db as unknown as Kysely<unknown>;
    await migrateToLatest(storage.db);
    expect(await indexesOf(db, storage.kind, 'stock_movements')).not.toContain('stock_movements_product_idx');
    expect(await indexesOf(db, storage.kind, 'facts')).not.toContain('facts_org_store_type_idx');
    if (storage.kind === 'postgres') {
      const fks = await pgForeignKeys(db);
      for (const t of HOT) expect(fks, t).not.toContain(t);
      // Tables the push does not append to keep theirs.
      expect(fks).toContain('stores');
      expect(fks).toContain('stock_levels');
      const { rows } = await sql<{ opts: string[] | null }>`select reloptions as opts from pg_class where relname = 'facts' and relnamespace = current_schema()::regnamespace`.execute(db);
      expect(rows[0]?.opts).toContain('toast_tuple_target=8160');
    }

    await m0007_push_write_path.down?.(db);
    expect(await indexesOf(db, storage.kind, 'stock_movements')).toContain('stock_movements_product_idx');
    expect(await indexesOf(db, storage.kind, 'facts')).toContain('facts_org_store_type_idx');
    if (storage.kind === 'postgres') {
      const fks = await pgForeignKeys(db);
      for (const t of HOT) expect(fks, t).toContain(t);
      expect(fks.filter((t) => t === 'facts')).toHaveLength(3);
    }
    await m0007_push_write_path.up(db);
    expect(await indexesOf(db, storage.kind, 'stock_movements')).not.toContain('stock_movements_product_idx');
    expect(await indexesOf(db, storage.kind, 'facts')).not.toContain('facts_org_store_type_idx');
    if (storage.kind === 'postgres') expect((await pgForeignKeys(db)).filter((t) => HOT.includes(t))).toEqual([]);
  });
});
