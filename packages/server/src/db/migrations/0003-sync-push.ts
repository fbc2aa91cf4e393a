import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/*
 * Tables of `POST /api/v1/sync/push` (DESIGN §3, docs/adr/0013-sync-push.md):
 *
 *   sync_ops           every (register, seq) taken: the op's id and hash, applied or quarantined
 *   facts              every fact op applied, once, by op id (the op as JSON)
 *   sales, refunds     typed projections of the receipt facts (order lookups, reports)
 *   stock_movements    the stock ledger's movements, keyed by core's deterministic movement ids
 *   stock_levels       on hand per (store, product, variant): the sum of the movements
 *   sale_line_tallies  refunded (and sold) per refunded sale line: the over-refund check
 *   balances           gift-card, store-credit and loyalty balances: sums of balance facts
 *   reference_docs     the per-field merge document of every reference doc (core's ReferenceDoc)
 *   conflicts          merge conflicts for review, by core's stable id
 *   customers          customers as the server keeps them (in clear: the server is trusted)
 *   quarantine         ops that cannot be understood or may not be accepted, with why
 *   seq_conflicts      a different op pushed under a seq already taken, kept for review
 *   alerts             breaches and problems, one row per (org, key), upserted
 *   server_hlc         the server's hybrid logical clock per organisation (survives restarts)
 *
 * "No variant" is '' rather than null in key columns, because a primary key column cannot be null.
 */

type Db = Kysely<unknown>;

export const m0003_sync_push: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('sync_ops')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('op_id', 'text', (c) => c.notNull())
      .addColumn('op_hash', 'text', (c) => c.notNull())
      .addColumn('op_type', 'text')
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('applied', 'quarantined')`))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_ops_pk', ['org_id', 'register_id', 'seq'])
      .execute();
    await db.schema.createIndex('sync_ops_org_op_idx').on('sync_ops').columns(['org_id', 'op_id']).execute();

    await db.schema
      .createTable('facts')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('staff_id', 'text', (c) => c.notNull())
      .addColumn('approved_by', 'text')
      .addColumn('hlc', 'text', (c) => c.notNull())
      .addColumn('device_hlc', 'text', (c) => c.notNull())
      .addColumn('device_time', 'bigint', (c) => c.notNull())
      .addColumn('op_json', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('facts_pk', ['org_id', 'id'])
      .execute();
    await db.schema.createIndex('facts_org_store_type_idx').on('facts').columns(['org_id', 'store_id', 'type']).execute();

    await db.schema
      .createTable('sales')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('op_id', 'text', (c) => c.notNull())
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('receipt_no', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .addColumn('tax_total', 'bigint', (c) => c.notNull())
      .addColumn('discount_total', 'bigint', (c) => c.notNull())
      .addColumn('customer_id', 'text')
      .addColumn('sold_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sales_pk', ['org_id', 'order_id'])
      .execute();
    await db.schema.createIndex('sales_org_store_sold_idx').on('sales').columns(['org_id', 'store_id', 'sold_at']).execute();

    await db.schema
      .createTable('refunds')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('op_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('refund', 'exchange', 'void')`))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('refund_id', 'text')
      .addColumn('original_order_id', 'text')
      .addColumn('receipt_no', 'text', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('total', 'bigint', (c) => c.notNull())
      .addColumn('refunded_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('refunds_pk', ['org_id', 'op_id'])
      .execute();
    await db.schema.createIndex('refunds_org_order_idx').on('refunds').columns(['org_id', 'original_order_id']).execute();

    await db.schema
      .createTable('stock_movements')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('op_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('variant_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('delta', 'bigint', (c) => c.notNull())
      .addColumn('movement_json', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('stock_movements_pk', ['org_id', 'store_id', 'id'])
      .execute();
    await db.schema
      .createIndex('stock_movements_product_idx')
      .on('stock_movements')
      .columns(['org_id', 'store_id', 'product_id', 'variant_id'])
      .execute();

    await db.schema
      .createTable('stock_levels')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('variant_id', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('on_hand', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('stock_levels_pk', ['org_id', 'store_id', 'product_id', 'variant_id'])
      .execute();

    await db.schema
      .createTable('sale_line_tallies')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('order_id', 'text', (c) => c.notNull())
      .addColumn('line_id', 'text', (c) => c.notNull())
      .addColumn('product_id', 'text', (c) => c.notNull())
      .addColumn('sold', 'bigint', (c) => c.notNull())
      .addColumn('refunded', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('sale_line_tallies_pk', ['org_id', 'order_id', 'line_id'])
      .execute();

    await db.schema
      .createTable('balances')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('account', 'text', (c) => c.notNull().check(sql`account in ('gift_card', 'store_credit', 'loyalty')`))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('unit', 'text', (c) => c.notNull())
      .addColumn('balance', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('balances_pk', ['org_id', 'account', 'account_id', 'unit'])
      .execute();

    await db.schema
      .createTable('reference_docs')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('doc_type', 'text', (c) => c.notNull())
      .addColumn('doc_id', 'text', (c) => c.notNull())
      .addColumn('doc_json', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('reference_docs_pk', ['org_id', 'doc_type', 'doc_id'])
      .execute();

    await db.schema
      .createTable('conflicts')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('doc_type', 'text', (c) => c.notNull())
      .addColumn('doc_id', 'text', (c) => c.notNull())
      .addColumn('field', 'text', (c) => c.notNull())
      .addColumn('winner_json', 'text', (c) => c.notNull())
      .addColumn('loser_json', 'text', (c) => c.notNull())
      .addColumn('source_json', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'resolved')`))
      .addColumn('detected_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .addColumn('resolved_by', 'text')
      .addPrimaryKeyConstraint('conflicts_pk', ['org_id', 'id'])
      .execute();
    await db.schema.createIndex('conflicts_org_status_idx').on('conflicts').columns(['org_id', 'status']).execute();

    await db.schema
      .createTable('customers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('name', 'text')
      .addColumn('email', 'text')
      .addColumn('phone', 'text')
      .addColumn('values_json', 'text', (c) => c.notNull())
      .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('field_hlc_json', 'text', (c) => c.notNull().defaultTo('{}'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('customers_org_idx').on('customers').column('org_id').execute();

    await db.schema
      .createTable('quarantine')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('seq', 'bigint')
      .addColumn('op_id', 'text')
      .addColumn('op_type', 'text')
      .addColumn('op_hash', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('details_json', 'text', (c) => c.notNull())
      .addColumn('op_json', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'dismissed', 'retried')`))
      .addColumn('resolved_at', 'bigint')
      .addColumn('resolved_by', 'text')
      .addUniqueConstraint('quarantine_register_hash_unique', ['org_id', 'register_id', 'op_hash'])
      .execute();
    await db.schema.createIndex('quarantine_org_status_idx').on('quarantine').columns(['org_id', 'status']).execute();

    await db.schema
      .createTable('seq_conflicts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('register_id', 'text', (c) => c.notNull().references('registers.id'))
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('op_id', 'text')
      .addColumn('op_hash', 'text', (c) => c.notNull())
      .addColumn('existing_op_id', 'text')
      .addColumn('existing_op_hash', 'text')
      .addColumn('op_json', 'text', (c) => c.notNull())
      .addColumn('received_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull().defaultTo('open').check(sql`status in ('open', 'resolved')`))
      .addColumn('resolved_at', 'bigint')
      .addUniqueConstraint('seq_conflicts_unique', ['org_id', 'register_id', 'seq', 'op_hash'])
      .execute();

    await db.schema
      .createTable('alerts')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('store_id', 'text', (c) => c.references('stores.id'))
      .addColumn('register_id', 'text', (c) => c.references('registers.id'))
      .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'resolved')`))
      .addColumn('data_json', 'text', (c) => c.notNull())
      .addColumn('occurrences', 'bigint', (c) => c.notNull().defaultTo(1))
      .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('resolved_at', 'bigint')
      .addColumn('acknowledged_at', 'bigint')
      .addColumn('acknowledged_by', 'text')
      .addPrimaryKeyConstraint('alerts_pk', ['org_id', 'key'])
      .execute();
    await db.schema.createIndex('alerts_org_status_idx').on('alerts').columns(['org_id', 'status', 'kind']).execute();

    await db.schema
      .createTable('server_hlc')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id'))
      .addColumn('wall_ms', 'bigint', (c) => c.notNull())
      .addColumn('counter', 'integer', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },

  async down(db: Db) {
    for (const table of [
      'server_hlc',
      'alerts',
      'seq_conflicts',
      'quarantine',
      'customers',
      'conflicts',
      'reference_docs',
      'balances',
      'sale_line_tallies',
      'stock_levels',
      'stock_movements',
      'refunds',
      'sales',
      'facts',
      'sync_ops',
    ]) {
      await db.schema.dropTable(table).execute();
    }
  },
};
