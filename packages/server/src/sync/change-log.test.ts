import { manualClock } from '@kassa/core';
import type { Kysely } from 'kysely';
import { expect, it } from 'vitest';
import { migrateToLatest } from '../db/migrations.js';
import type { Database } from '../db/schema.js';
import { describeDb } from '../testing/describe-db.js';
import { appendChanges, ensureLog, FACT_REFERENCE, pruneChangeLog, readChanges, readLogHead } from './change-log.js';
import type { ChangeInput } from './change-log.js';
import { createTenant } from './pull/test-fixtures.js';

async function org(db: Kysely<Database>, id: string): Promise<void> {
  await db.insertInto('organisations').values({ id, name: id, created_at: 0 }).execute();
}

const change = (entityId: string, storeId: string | null = null): ChangeInput => ({
  entity: 'product',
  entityId,
  storeId,
  op: 'upsert',
  data: { id: entityId, name: `Product ${entityId}` },
});

describeDb('change log', (dbs) => {
  it('numbers changes per organisation from 1, gaplessly, and starts each log with its own epoch', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    await org(db, 'o1');
    await org(db, 'o2');

    expect(await db.transaction().execute((trx) => appendChanges(trx, 'o1', [change('a'), change('b', 's1')]))).toBe(2);
    expect(await db.transaction().execute((trx) => appendChanges(trx, 'o2', [change('x')]))).toBe(1);
    // A plain Kysely gets its own transaction.
    expect(await appendChanges(db, 'o1', [change('c')])).toBe(3);
    expect(await appendChanges(db, 'o1', [])).toBe(3);

    const rows = await db.selectFrom('change_log').select(['org_id', 'seq', 'entity_id', 'store_id', 'op', 'data_json']).orderBy('org_id').orderBy('seq').execute();
    expect(rows).toEqual([
      { org_id: 'o1', seq: 1, entity_id: 'a', store_id: null, op: 'upsert', data_json: '{"id":"a","name":"Product a"}' },
      { org_id: 'o1', seq: 2, entity_id: 'b', store_id: 's1', op: 'upsert', data_json: '{"id":"b","name":"Product b"}' },
      { org_id: 'o1', seq: 3, entity_id: 'c', store_id: null, op: 'upsert', data_json: '{"id":"c","name":"Product c"}' },
      { org_id: 'o2', seq: 1, entity_id: 'x', store_id: null, op: 'upsert', data_json: '{"id":"x","name":"Product x"}' },
    ]);
    const h1 = await readLogHead(db, 'o1');
    const h2 = await readLogHead(db, 'o2');
    expect(h1).toMatchObject({ head: 3, horizon: 0, horizonChangeId: null });
    expect(h2).toMatchObject({ head: 1, horizon: 0 });
    expect(h1?.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(h1?.epoch).not.toBe(h2?.epoch);
  });

  it('logs a fact by reference and reads it back from `facts`, next to changes logged in full', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    const tenant = await createTenant(db, 'Org');
    const store = tenant.stores[0];
    if (!store) throw new Error('fixture has a store');
    const op = { v: 1, id: 'f-1', type: 'cash.counted', storeId: store.id, payload: { amount: 1250, note: 'ünïcode ✓' } };
    await db
      .insertInto('facts')
      .values({
        org_id: tenant.orgId,
        id: op.id,
        store_id: store.id,
        register_id: store.registerId,
        seq: 1,
        type: op.type,
        staff_id: 'staff-1',
        approved_by: null,
        hlc: 'h',
        device_hlc: 'h',
        device_time: 0,
        op_json: JSON.stringify(op),
        received_at: 0,
      })
      .execute();
    const byRef: ChangeInput = { entity: 'fact', entityId: op.id, storeId: store.id, op: 'upsert', data: op, stored: 'facts' };
    await appendChanges(db, tenant.orgId, [change('a'), byRef, { ...byRef, storeId: 'other-store' }]);

    const stored = await db.selectFrom('change_log').select(['seq', 'data_json']).where('org_id', '=', tenant.orgId).orderBy('seq').execute();
    expect(stored).toEqual([
      { seq: 1, data_json: '{"id":"a","name":"Product a"}' },
      { seq: 2, data_json: FACT_REFERENCE },
      { seq: 3, data_json: FACT_REFERENCE },
    ]);
    const read = await readChanges(db, tenant.orgId, { after: 0, upTo: 3, storeId: store.id, limit: 10 });
    expect(read.map((c) => [c.seq, c.entity, c.entityId, c.storeId, c.data])).toEqual([
      [1, 'product', 'a', null, { id: 'a', name: 'Product a' }],
      [2, 'fact', op.id, store.id, op],
    ]);
    const all = await readChanges(db, tenant.orgId, { after: 0, upTo: 3, storeId: null, limit: 10 });
    expect(all.map((c) => c.data)).toEqual([{ id: 'a', name: 'Product a' }, op, op]);

    // A reference to a fact that is not there is a broken invariant, never a silent null.
    await appendChanges(db, tenant.orgId, [{ ...byRef, entityId: 'f-missing' }]);
    await expect(readChanges(db, tenant.orgId, { after: 3, upTo: 4, storeId: null, limit: 10 })).rejects.toThrow(/refers to fact f-missing/);
  });

  it('leaves no seq taken when the writer rolls back', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    await org(db, 'o1');
    await appendChanges(db, 'o1', [change('a')]);
    await expect(
      db.transaction().execute(async (trx) => {
        await appendChanges(trx, 'o1', [change('b'), change('c')]);
        throw new Error('the data change failed');
      }),
    ).rejects.toThrow('the data change failed');
    expect(await appendChanges(db, 'o1', [change('d')])).toBe(2);
    expect((await readChanges(db, 'o1', { after: 0, upTo: 99, storeId: null, limit: 10 })).map((c) => [c.seq, c.entityId])).toEqual([
      [1, 'a'],
      [2, 'd'],
    ]);
  });

  it('reads what a store may see: org-wide rows and its own store', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    await org(db, 'o1');
    await appendChanges(db, 'o1', [change('a'), change('b', 's1'), change('c', 's2'), change('d', 's1')]);
    const s1 = await readChanges(db, 'o1', { after: 0, upTo: 4, storeId: 's1', limit: 10 });
    expect(s1.map((c) => c.seq)).toEqual([1, 2, 4]);
    expect(s1[1]).toMatchObject({ entity: 'product', entityId: 'b', storeId: 's1', op: 'upsert', data: { id: 'b', name: 'Product b' } });
    expect((await readChanges(db, 'o1', { after: 1, upTo: 3, storeId: 's2', limit: 10 })).map((c) => c.seq)).toEqual([3]);
    expect((await readChanges(db, 'o1', { after: 0, upTo: 4, storeId: 's1', limit: 2 })).map((c) => c.seq)).toEqual([1, 2]);
  });

  it('prunes changes older than the window, advancing the horizon past them only', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    await migrateToLatest(db);
    await org(db, 'o1');
    const clock = manualClock(Date.UTC(2026, 0, 1));
    await appendChanges(db, 'o1', [change('a'), change('b')], { clock });
    clock.advance(60_000);
    await appendChanges(db, 'o1', [change('c')], { clock });
    // A clock step backwards: seq 4 is stamped earlier than seq 3 but is still kept after 3.
    clock.advance(-30_000);
    await appendChanges(db, 'o1', [change('d')], { clock });
    const before = await readChanges(db, 'o1', { after: 0, upTo: 4, storeId: null, limit: 10 });

    expect(await pruneChangeLog(db, 'o1', Date.UTC(2026, 0, 1) + 60_000)).toEqual({ removed: 2, horizon: 2 });
    expect(await readLogHead(db, 'o1')).toMatchObject({ head: 4, horizon: 2, horizonChangeId: before[1]?.id });
    expect((await readChanges(db, 'o1', { after: 0, upTo: 4, storeId: null, limit: 10 })).map((c) => c.seq)).toEqual([3, 4]);
    // Nothing newer is older than the window: a second run changes nothing.
    expect(await pruneChangeLog(db, 'o1', Date.UTC(2026, 0, 1) + 60_000)).toEqual({ removed: 0, horizon: 2 });
    // Everything is old: the horizon reaches the head.
    expect(await pruneChangeLog(db, 'o1', Date.UTC(2027, 0, 1))).toEqual({ removed: 2, horizon: 4 });
    expect(await db.selectFrom('change_log').select('seq').execute()).toEqual([]);
    expect(await pruneChangeLog(db, 'nobody', 0)).toEqual({ removed: 0, horizon: 0 });
    // Appending continues after the horizon.
    expect(await appendChanges(db, 'o1', [change('e')], { clock })).toBe(5);
  });

  it('starts a log once even when two callers race to start it', async () => {
    const first = await dbs.create();
    await migrateToLatest(first.storage.db);
    await org(first.storage.db, 'o1');
    const second = first.reopen();
    const [a, b] = await Promise.all([ensureLog(first.storage.db, 'o1'), ensureLog(second.db, 'o1')]);
    expect(a.epoch).toBe(b.epoch);
    expect(await first.storage.db.selectFrom('change_log_heads').select('org_id').execute()).toEqual([{ org_id: 'o1' }]);
  });
});
