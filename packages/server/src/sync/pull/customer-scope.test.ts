import { manualClock } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import { addRegister, bearer, createPushWorld, hlcAt, OpSequence } from '../push/push-test-kit.js';

const NOW = SAMPLE_TIME + 3_600_000;
const config = loadConfig({}, '/tmp');

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

interface Item {
  readonly entity: string;
  readonly entityId: string;
  readonly storeId: string | null;
}

describeDb('customers reach only their own store’s registers', (dbs) => {
  it('a customer created at a register of store A is pulled and bootstrapped by A’s registers, never by store B’s', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const storeB = SAMPLE_IDS.otherStore;
    const tokenB = await addRegister(storage.db, { orgId: world.orgId, storeId: storeB }, { id: sampleId(950), code: 'R01' });
    const app = await buildApp({ storage, config, clock: manualClock(NOW), rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    apps.push(app);
    const get = async (token: string, url: string) => {
      const res = await app.inject({ method: 'GET', url, headers: bearer(token) });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<Record<string, unknown>>();
    };
    const snapshot = async (token: string) => {
      const page = await get(token, '/api/v1/sync/snapshot?limit=1000');
      expect(page['nextPage']).toBeNull();
      return { items: page['items'] as Item[], total: page['total'] as number, cursor: page['cursor'] as string };
    };
    const before = { a: await snapshot(world.token), b: await snapshot(tokenB) };

    // Register A (store S01) creates a customer, and edits a variant (organisation-wide data).
    const ops = new OpSequence();
    const customer = ops.next('customer.upserted', { hlc: hlcAt(NOW), deviceTime: NOW, payload: { writes: [{ field: 'name', value: 'Ada Lovelace', hlc: hlcAt(NOW), base: null }] } });
    const variant = ops.next('reference.edited', {
      staffId: world.managerId,
      hlc: hlcAt(NOW + 1),
      deviceTime: NOW + 1,
      payload: { docType: 'variant', docId: sampleId(960), writes: [{ field: 'name', value: 'Mug, large', hlc: hlcAt(NOW + 1), base: null }] },
    });
    const pushed = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(world.token), payload: { ops: [customer, variant] } });
    expect(pushed.json<{ results: { status: string }[] }>().results.map((r) => r.status)).toEqual(['applied', 'applied']);
    expect(await storage.db.selectFrom('customers').select(['id', 'store_id']).execute()).toEqual([{ id: SAMPLE_IDS.customer, store_id: world.storeId }]);

    const pulled = async (token: string, since: string) => ((await get(token, `/api/v1/sync/pull?since=${since}`))['changes'] as Item[]).map((c) => [c.entity, c.entityId, c.storeId]);
    expect(await pulled(world.token, before.a.cursor)).toEqual([
      ['customer', SAMPLE_IDS.customer, world.storeId],
      ['variant', sampleId(960), null],
    ]);
    expect(await pulled(tokenB, before.b.cursor)).toEqual([['variant', sampleId(960), null]]);

    const after = { a: await snapshot(world.token), b: await snapshot(tokenB) };
    const customers = (s: { items: Item[] }) => s.items.filter((i) => i.entity === 'customer').map((i) => [i.entityId, i.storeId]);
    expect(customers(after.a)).toEqual([[SAMPLE_IDS.customer, world.storeId]]);
    expect(customers(after.b)).toEqual([]);
    // `total` counts only what the register is given.
    expect(after.a.total).toBe(after.a.items.length);
    expect(after.b.total).toBe(after.b.items.length);
    expect(after.b.total - before.b.total).toBe(1); // the variant
  });
});
