import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/*
 * The push's write path, made cheaper without changing what is stored (docs/adr/0017):
 *
 *   stock_movements_product_idx   dropped (both databases). No query reads movements by product —
 *                                 stock on hand is `stock_levels`, and movements are read by their
 *                                 key only — yet every sale line inserted a row into it at a random
 *                                 place: ~300 index pages rewritten (and, on SQLite, written to the
 *                                 WAL and checkpointed) per 100-sale batch, most of the bytes a push
 *                                 wrote. A view of movements by product can bring an index back.
 *
 *   facts_org_store_type_idx      dropped (both databases). Facts are read by id only (the pull
 *                                 joins them by id, dedupe and the projections by id); each commit
 *                                 still rewrote ~5 of this index's 16 KiB pages (5% of the WAL).
 *                                 A report of facts by store and type brings the index it needs.
 *
 *   foreign keys of the push's append-only tables  dropped on PostgreSQL: facts, sync_ops, sales,
 *                                 refunds and stock_movements → organisations, stores, registers.
 *                                 Each was a trigger call per inserted row (~1,600 per 100 sales)
 *                                 inside the transaction that holds the organisation's lock. The
 *                                 push writes these rows with the organisation, store and register
 *                                 of the device token, read from the register row it has locked in
 *                                 the same transaction (an op naming another store is quarantined),
 *                                 and organisations, stores and registers are never deleted (a
 *                                 register is revoked, not removed). SQLite keeps them: it cannot drop
 *                                 a constraint without copying the table, and its checks are cheap
 *                                 lookups in the same file.
 *
 *   facts: toast_tuple_target 8160 (PostgreSQL). A fact row (~2.5 KB, the op's JSON) is just over
 *                                 the default 2 KB threshold, so every insert compressed it with
 *                                 pglz; now rows up to a page stay inline and uncompressed.
 */

const FK_TABLES = ['facts', 'sync_ops', 'sales', 'refunds', 'stock_movements'] as const;

/** The foreign keys migration 0003 declared on those tables, to put back on the way down. */
const FOREIGN_KEYS: Readonly<Record<(typeof FK_TABLES)[number], readonly [column: string, parent: string][]>> = {
  facts: [
    ['org_id', 'organisations'],
    ['store_id', 'stores'],
    ['register_id', 'registers'],
  ],
  sync_ops: [
    ['org_id', 'organisations'],
    ['register_id', 'registers'],
    ['store_id', 'stores'],
  ],
  sales: [
    ['org_id', 'organisations'],
    ['store_id', 'stores'],
    ['register_id', 'registers'],
  ],
  refunds: [
    ['org_id', 'organisations'],
    ['store_id', 'stores'],
  ],
  stock_movements: [
    ['org_id', 'organisations'],
    ['store_id', 'stores'],
  ],
};

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export const m0007_push_write_path: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('stock_movements_product_idx').execute();
    await db.schema.dropIndex('facts_org_store_type_idx').execute();
    if (!isPostgres(db)) return;
    const { rows } = await sql<{ tbl: string; conname: string }>`
      select c.relname as tbl, k.conname
      from pg_constraint k join pg_class c on c.oid = k.conrelid
      where k.contype = 'f' and c.relname in (${sql.join(FK_TABLES.map((t) => sql.lit(t)))})
        and c.relnamespace = current_schema()::regnamespace
      order by 1, 2`.execute(db);
    for (const r of rows) await sql`alter table ${sql.table(r.tbl)} drop constraint ${sql.id(r.conname)}`.execute(db);
    await sql`alter table facts set (toast_tuple_target = 8160)`.execute(db);
  },

  async down(db: Kysely<unknown>) {
    if (isPostgres(db)) {
      await sql`alter table facts reset (toast_tuple_target)`.execute(db);
      for (const table of FK_TABLES) {
        for (const [column, parent] of FOREIGN_KEYS[table]) {
          await sql`alter table ${sql.table(table)} add foreign key (${sql.id(column)}) references ${sql.table(parent)} (id)`.execute(db);
        }
      }
    }
    await db.schema.createIndex('stock_movements_product_idx').on('stock_movements').columns(['org_id', 'store_id', 'product_id', 'variant_id']).execute();
    await db.schema.createIndex('facts_org_store_type_idx').on('facts').columns(['org_id', 'store_id', 'type']).execute();
  },
};
