import { manualClock } from '@kassa/core';
import type { FieldWrite } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId } from '@kassa/core/test-fixtures/ops';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../../db/migrations.js';
import type { Database } from '../../db/schema.js';
import { describeDb } from '../../testing/describe-db.js';
import { readChanges } from '../change-log.js';
import { createPushWorld, hlcAt } from '../push/push-test-kit.js';
import { applyReferenceEdit } from './reference-edit.js';
import type { ReferenceEditSource } from './reference-edit.js';
import { tickServerHlc } from './server-hlc.js';

const user: ReferenceEditSource = { kind: 'user', userId: 'u1' };
const register: ReferenceEditSource = { kind: 'register', registerId: SAMPLE_IDS.device, storeId: SAMPLE_IDS.store, staffId: SAMPLE_IDS.staff, opId: sampleId(1) };

async function setup(dbs: { create(): Promise<{ storage: { db: Kysely<Database> } }> }) {
  const { storage } = await dbs.create();
  await migrateToLatest(storage.db);
  const world = await createPushWorld(storage.db);
  const clock = manualClock(SAMPLE_TIME + 3_600_000);
  const edit = (docType: 'product' | 'customer' | 'category' | 'promotion', docId: string, writes: FieldWrite[], source = user) =>
    storage.db.transaction().execute((trx) => applyReferenceEdit(trx, { orgId: world.orgId, docType, docId, writes, source, clock }));
  return { db: storage.db, world, clock, edit };
}

describeDb('applyReferenceEdit', (dbs) => {
  it('merges back-office edits (server HLC) with register edits the same way, and a retried edit changes nothing', async () => {
    const { db, world, clock, edit } = await setup(dbs);
    const seen = hlcAt(SAMPLE_TIME, 'seed');
    // A register edit made an hour ago, then a back-office edit that saw only the older value.
    const fromTill = { field: 'price', value: 275, hlc: hlcAt(SAMPLE_TIME + 1000), base: seen };
    expect((await edit('product', SAMPLE_IDS.product, [fromTill], register)).changed).toBe(true);
    const stamp = await db.transaction().execute((trx) => tickServerHlc(trx, world.orgId, clock));
    expect(stamp).toMatch(/^[0-9a-f]{12}-0000-server$/);
    const result = await edit('product', SAMPLE_IDS.product, [{ field: 'price', value: 299, hlc: stamp, base: seen }]);
    expect(result.values).toEqual({ price: 299 });
    expect(result.conflicts.map((c) => c.id)).toEqual([`product:${SAMPLE_IDS.product}:price:${fromTill.hlc}:${stamp}`]);
    // A sequential edit (based on the current value) is no conflict.
    const next = await db.transaction().execute((trx) => tickServerHlc(trx, world.orgId, clock));
    expect(next > stamp).toBe(true);
    const sequential = await edit('product', SAMPLE_IDS.product, [{ field: 'name', value: 'Mug', hlc: next, base: null }, { field: 'price', value: 310, hlc: next, base: stamp }]);
    expect(sequential.conflicts).toEqual([]);
    const row = await db.selectFrom('products').select(['name', 'price_minor']).where('id', '=', SAMPLE_IDS.product).executeTakeFirstOrThrow();
    expect(row).toEqual({ name: 'Mug', price_minor: 310 });

    const headBefore = (await readChanges(db, world.orgId, { after: 0, upTo: 1e9, storeId: null, limit: 100 })).length;
    const retried = await edit('product', SAMPLE_IDS.product, [fromTill], register);
    expect(retried).toMatchObject({ changed: false, conflicts: [] });
    expect((await readChanges(db, world.orgId, { after: 0, upTo: 1e9, storeId: null, limit: 100 })).length).toBe(headBefore);
    expect(await db.selectFrom('conflicts').select('id').execute()).toHaveLength(1);
  });

  it('creates a product row once the doc has every required field; until then it lives in the doc only', async () => {
    const { db, world, edit } = await setup(dbs);
    const id = sampleId(8800);
    const h = (n: number) => hlcAt(SAMPLE_TIME + n);
    await edit('product', id, [{ field: 'name', value: 'Teapot', hlc: h(1), base: null }, { field: 'price', value: 1999, hlc: h(1), base: null }]);
    expect(await db.selectFrom('products').select('id').where('id', '=', id).execute()).toEqual([]);
    await edit('product', id, [
      { field: 'sku', value: 'TEA-01', hlc: h(2), base: null },
      { field: 'currency', value: 'EUR', hlc: h(2), base: null },
      { field: 'unit', value: 'piece', hlc: h(2), base: null },
      { field: 'categoryId', value: sampleId(8899), hlc: h(2), base: null },
    ]);
    const row = await db.selectFrom('products').select(['name', 'sku', 'price_minor', 'currency', 'unit', 'category_id']).where('id', '=', id).executeTakeFirstOrThrow();
    // The category does not exist: the column stays empty, the doc keeps the value.
    expect(row).toEqual({ name: 'Teapot', sku: 'TEA-01', price_minor: 1999, currency: 'EUR', unit: 'piece', category_id: null });
    // A SKU another product has is kept out of the column.
    await edit('product', id, [{ field: 'sku', value: 'MUG-01', hlc: h(3), base: h(2) }]);
    expect((await db.selectFrom('products').select('sku').where('id', '=', id).executeTakeFirstOrThrow()).sku).toBe('TEA-01');

    // Barcodes: normalised into rows; one another product holds, or one that is no GTIN, stays in the doc only.
    await db.insertInto('barcodes').values({ org_id: world.orgId, code: '4006381333931', product_id: SAMPLE_IDS.product, created_at: 0 }).execute();
    await edit('product', id, [{ field: 'barcodes', value: ['96385074', '4006381333931', 'abc'], hlc: h(4), base: null }], register);
    const codes = async () => (await db.selectFrom('barcodes').select(['code', 'product_id']).orderBy('code').execute()).map((r) => [r.code, r.product_id === id ? 'teapot' : 'mug']);
    expect(await codes()).toEqual([
      ['0000096385074', 'teapot'],
      ['4006381333931', 'mug'],
    ]);
    // Deleted: an inactive row, its barcodes released.
    await edit('product', id, [{ field: 'deleted', value: true, hlc: h(5), base: null }], register);
    expect((await db.selectFrom('products').select('active').where('id', '=', id).executeTakeFirstOrThrow()).active).toBe(0);
    expect(await codes()).toEqual([['4006381333931', 'mug']]);
  });

  it('never touches another organisation\u2019s row with the same id', async () => {
    const { db, edit } = await setup(dbs);
    await db.insertInto('organisations').values({ id: 'other-org', name: 'Other', created_at: 0 }).execute();
    const theirs = sampleId(8900);
    await db.insertInto('products').values({ id: theirs, org_id: 'other-org', sku: 'X', name: 'Theirs', price_minor: 1, currency: 'EUR', unit: 'piece', created_at: 0, updated_at: 0 }).execute();
    await edit('product', theirs, [{ field: 'name', value: 'Hijacked', hlc: hlcAt(SAMPLE_TIME), base: null }]);
    expect((await db.selectFrom('products').select('name').where('id', '=', theirs).executeTakeFirstOrThrow()).name).toBe('Theirs');
  });

  it('logs doc types without a snapshot document as {id, values, fieldHlc}; customers get a row in clear', async () => {
    const { db, world, edit } = await setup(dbs);
    const promo = sampleId(8950);
    await edit('promotion', promo, [{ field: 'name', value: '2 for 1', hlc: hlcAt(SAMPLE_TIME), base: null }]);
    await edit('customer', SAMPLE_IDS.customer, [{ field: 'name', value: 'Ada', hlc: hlcAt(SAMPLE_TIME), base: null }], register);
    await edit('customer', SAMPLE_IDS.customer, [{ field: 'deleted', value: true, hlc: hlcAt(SAMPLE_TIME + 1), base: null }]);
    const changes = await readChanges(db, world.orgId, { after: 0, upTo: 1e9, storeId: null, limit: 100 });
    expect(changes.map((c) => [c.entity, c.op, c.storeId, c.data])).toEqual([
      ['promotion', 'upsert', null, { id: promo, values: { name: '2 for 1' }, fieldHlc: { name: hlcAt(SAMPLE_TIME) } }],
      // A customer reaches its own store's registers only: the store of the register that made it.
      ['customer', 'upsert', SAMPLE_IDS.store, { id: SAMPLE_IDS.customer, values: { name: 'Ada' }, fieldHlc: { name: hlcAt(SAMPLE_TIME) } }],
      [
        'customer',
        'delete',
        SAMPLE_IDS.store,
        { id: SAMPLE_IDS.customer, values: { deleted: true, name: 'Ada' }, fieldHlc: { deleted: hlcAt(SAMPLE_TIME + 1), name: hlcAt(SAMPLE_TIME) } },
      ],
    ]);
    expect(await db.selectFrom('customers').select(['name', 'deleted', 'store_id']).execute()).toEqual([{ name: 'Ada', deleted: 1, store_id: SAMPLE_IDS.store }]);
  });
});
