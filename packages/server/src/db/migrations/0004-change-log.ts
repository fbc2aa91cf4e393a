import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';

/*
 * The change log that registers pull (DESIGN §3, docs/adr/0014-change-log-and-pull.md).
 *
 *   change_log_heads  one row per organisation: the log's epoch, its head seq and pruned horizon.
 *                     Appenders bump `head` with UPDATE … RETURNING inside their transaction; the
 *                     row lock that takes serialises appenders of one organisation until commit,
 *                     so seq order is commit order and a reader never skips a late commit.
 *   change_log        (org_id, seq) → one change. No foreign keys besides the head's: the log is
 *                     append-only history and partitions by org_id like everything else.
 */
export const m0004_change_log: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('change_log_heads')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id'))
      .addColumn('epoch', 'text', (c) => c.notNull())
      .addColumn('head', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('horizon', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('horizon_change_id', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('change_log')
      .addColumn('org_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('change_id', 'text', (c) => c.notNull())
      .addColumn('entity', 'text', (c) => c.notNull())
      .addColumn('entity_id', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text')
      .addColumn('op', 'text', (c) => c.notNull().check(sql`op in ('upsert', 'delete')`))
      .addColumn('data_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('change_log_pk', ['org_id', 'seq'])
      .execute();
    // Pruning looks for the first change younger than the retention window.
    await db.schema.createIndex('change_log_org_created_idx').on('change_log').columns(['org_id', 'created_at']).execute();
  },

  async down(db: Kysely<unknown>) {
    await db.schema.dropTable('change_log').execute();
    await db.schema.dropTable('change_log_heads').execute();
  },
};
