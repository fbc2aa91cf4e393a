import { sampleId } from '@kassa/core/test-fixtures/ops';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { describeDb } from '../../testing/describe-db.js';
import { migrateToLatest } from '../migrations.js';
import type { Database } from '../schema.js';
import { m0006_limits_history_customer_store as m0006 } from './0006-limits-history-customer-store.js';

const SETTINGS = { currency: 'EUR', locale: 'de-DE', taxMode: 'inclusive', cashRoundingMinor: null, receiptHeader: [], variableMeasureLayouts: [] };

async function store(db: Kysely<Database>, orgId: string, id: string, code: string, createdAt: number, limits?: unknown) {
  await db
    .insertInto('stores')
    .values({ id, org_id: orgId, code, name: code, currency: 'EUR', locale: 'de-DE', settings_json: JSON.stringify({ ...SETTINGS, ...(limits === undefined ? {} : { limits }) }), created_at: createdAt, updated_at: createdAt })
    .execute();
}

describeDb('migration 0006 (limits history, customers per store)', (dbs) => {
  it('backfills one limits row per store and each customer’s store (the only store, else its first sale’s), and scopes their log rows', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    // Back to the shape before 0006, with data written the way it was then.
    await m0006.down?.(db as unknown as Kysely<unknown>);
    const [one, two] = [sampleId(1), sampleId(2)];
    const [s1, s2a, s2b] = [sampleId(11), sampleId(21), sampleId(22)];
    const [c1, c2, c3] = [sampleId(31), sampleId(32), sampleId(33)];
    for (const org of [one, two]) await db.insertInto('organisations').values({ id: org, name: org, created_at: 0 }).execute();
    await store(db, one, s1, 'S01', 1000, { cashierDiscountLimitPpm: 250_000 });
    await store(db, two, s2a, 'S01', 2000);
    await store(db, two, s2b, 'S02', 3000);
    await db
      .insertInto('registers')
      .values({ id: sampleId(41), org_id: two, store_id: s2b, code: 'R01', name: 'Till', token_hash: 'x'.repeat(64), last_receipt_number: 0, paired_at: 0, created_at: 0, updated_at: 0 })
      .execute();
    const insertCustomer = (sql: Kysely<Database>, id: string, org: string) =>
      sql.insertInto('customers').values({ id, org_id: org, name: id, email: null, phone: null, values_json: '{}', created_at: 0, updated_at: 0 } as never).execute();
    await insertCustomer(db, c1, one);
    await insertCustomer(db, c2, two);
    await insertCustomer(db, c3, two);
    await db
      .insertInto('sales')
      .values({ org_id: two, order_id: sampleId(51), store_id: s2b, op_id: sampleId(52), register_id: sampleId(41), receipt_no: 'S02-R01-000001', currency: 'EUR', total: 1, tax_total: 0, discount_total: 0, customer_id: c2, sold_at: 5 })
      .execute();
    for (const [org, seq, id] of [
      [one, 1, c1],
      [two, 1, c2],
      [two, 2, c3],
    ] as const) {
      await db.insertInto('change_log').values({ org_id: org, seq, change_id: sampleId(60 + seq), entity: 'customer', entity_id: id, store_id: null, op: 'upsert', data_json: '{}', created_at: 0 }).execute();
    }

    await m0006.up(db as unknown as Kysely<unknown>);

    expect(await db.selectFrom('store_limits_history').select(['store_id', 'effective_from', 'limits_json']).orderBy('effective_from').execute()).toEqual([
      { store_id: s1, effective_from: 1000, limits_json: JSON.stringify({ cashierDiscountLimitPpm: 250_000 }) },
      { store_id: s2a, effective_from: 2000, limits_json: null },
      { store_id: s2b, effective_from: 3000, limits_json: null },
    ]);
    expect(await db.selectFrom('customers').select(['id', 'store_id']).orderBy('id').execute()).toEqual([
      { id: c1, store_id: s1 }, // the organisation's only store
      { id: c2, store_id: s2b }, // where it was first sold to
      { id: c3, store_id: null }, // not known: reaches no register until one edits it
    ]);
    expect(await db.selectFrom('change_log').select(['entity_id', 'store_id']).orderBy('entity_id').execute()).toEqual([
      { entity_id: c1, store_id: s1 },
      { entity_id: c2, store_id: s2b },
      { entity_id: c3, store_id: '' }, // pulled by no register
    ]);
  });
});
