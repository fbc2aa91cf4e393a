import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/*
 * Correctness of the sync checks (docs/adr/0013-sync-push.md, 0014-change-log-and-pull.md):
 *
 *   store_limits_history  the permission limits a store had from `effective_from` (server ms) until
 *                         the next row's, so an op is judged by the limits in force when it was
 *                         made, as roles are by `staff_role_history`. `limits_json` null: core's
 *                         defaults (the settings had no `limits`). Backfilled with one row per store
 *                         at its creation holding today's limits: nothing older is known.
 *   customers.store_id    the store a customer belongs to (DESIGN §4: a register holds only its own
 *                         store's customers). Backfilled from the organisation's only store, else the
 *                         store of the customer's first sale; unknown stays null (no register is
 *                         sent it until a register of some store edits it, which claims it). The
 *                         customers' old log rows are scoped to that store ('' when not known: no
 *                         register pulls them).
 */

type Db = Kysely<unknown>;

interface StoreRow {
  id: string;
  org_id: string;
  settings_json: string;
  created_at: number | string;
}

function limitsOf(settingsJson: string): string | null {
  try {
    const settings = JSON.parse(settingsJson) as { limits?: unknown };
    return settings.limits === undefined || settings.limits === null ? null : JSON.stringify(settings.limits);
  } catch {
    return null;
  }
}

export const m0006_limits_history_customer_store: Migration = {
  async up(db: Db) {
    await db.schema
      .createTable('store_limits_history')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
      .addColumn('store_id', 'text', (c) => c.notNull().references('stores.id'))
      .addColumn('effective_from', 'bigint', (c) => c.notNull())
      .addColumn('limits_json', 'text')
      .addPrimaryKeyConstraint('store_limits_history_pk', ['org_id', 'store_id', 'effective_from'])
      .execute();

    const stores = (await sql<StoreRow>`select id, org_id, settings_json, created_at from stores`.execute(db)).rows;
    for (const s of stores) {
      await sql`insert into store_limits_history (org_id, store_id, effective_from, limits_json) values (${s.org_id}, ${s.id}, ${Number(s.created_at)}, ${limitsOf(s.settings_json)})`.execute(db);
    }

    await db.schema.alterTable('customers').addColumn('store_id', 'text').execute();
    await db.schema.createIndex('customers_org_store_idx').on('customers').columns(['org_id', 'store_id']).execute();

    // The organisation's only store.
    await sql`
      update customers set store_id = (select min(s.id) from stores s where s.org_id = customers.org_id)
      where store_id is null and (select count(*) from stores s where s.org_id = customers.org_id) = 1`.execute(db);
    // Else the store of the customer's first sale.
    await sql`
      update customers set store_id = (
        select sa.store_id from sales sa
        where sa.org_id = customers.org_id and sa.customer_id = customers.id
        order by sa.sold_at, sa.order_id limit 1)
      where store_id is null`.execute(db);
    // Old log rows of customers follow their store; those of a customer whose store is not known get
    // '' (no store's id), so no register pulls them — rather than every register of the organisation.
    await sql`
      update change_log set store_id = coalesce((
        select c.store_id from customers c where c.org_id = change_log.org_id and c.id = change_log.entity_id), '')
      where entity = 'customer' and store_id is null`.execute(db);
  },

  async down(db: Db) {
    await sql`update change_log set store_id = null where entity = 'customer'`.execute(db);
    await db.schema.dropIndex('customers_org_store_idx').execute();
    await db.schema.alterTable('customers').dropColumn('store_id').execute();
    await db.schema.dropTable('store_limits_history').execute();
  },
};
