import { randomUUID } from 'node:crypto';
import { manualClock } from '@kassa/core';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import type { Database } from '../../db/schema.js';
import { describeDb } from '../../testing/describe-db.js';
import type { TestDatabaseFactory } from '../../testing/describe-db.js';
import { appendChanges, pruneChangeLog } from '../change-log.js';
import { applyReferenceEdit } from '../apply/reference-edit.js';
import { tickServerHlc } from '../apply/server-hlc.js';
import { referenceChanges } from './reference-docs.js';
import type { ReferenceEntity } from './reference-docs.js';
import { bearer, createTenant } from './test-fixtures.js';
import type { TestStore, TestTenant } from './test-fixtures.js';

const config = loadConfig({}, '/tmp');

interface Item {
  entity: string;
  entityId: string;
  storeId: string | null;
  op: string;
  data: Record<string, unknown>;
}
interface SnapshotBody {
  items: Item[];
  nextPage: string | null;
  cursor: string;
  total: number;
  serverTime: number;
}
interface PullBody {
  changes: (Item & { seq: number })[];
  cursor: string;
  hasMore: boolean;
  serverTime: number;
}

const apps: App[] = [];
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
});

/** A small catalog for a tenant: 2 tax rates, 2 categories, `products` products with barcodes, staff in every store. */
async function seedCatalog(db: Kysely<Database>, tenant: TestTenant, products: number): Promise<{ productIds: string[]; staffIds: string[] }> {
  const org_id = tenant.orgId;
  const t = { created_at: 0, updated_at: 0 };
  const taxIds = [randomUUID(), randomUUID()];
  await db.insertInto('tax_rates').values(taxIds.map((id, i) => ({ id, org_id, name: `VAT ${i}`, rate_ppm: i === 0 ? 190000 : 70000, ...t }))).execute();
  const catIds = [randomUUID(), randomUUID()];
  await db.insertInto('categories').values(catIds.map((id, i) => ({ id, org_id, name: `Category ${i}`, parent_id: null, ...t }))).execute();
  const productIds = Array.from({ length: products }, () => randomUUID());
  await db
    .insertInto('products')
    .values(
      productIds.map((id, i) => ({
        id,
        org_id,
        sku: `SKU-${i}`,
        name: `Product ${i}`,
        price_minor: 100 + i,
        currency: 'EUR',
        category_id: catIds[i % 2] ?? null,
        tax_rate_ids_json: JSON.stringify([taxIds[i % 2]]),
        unit: 'piece' as const,
        field_hlc_json: JSON.stringify({ name: `0192a3b4c5d6-0000-dev${i}` }),
        ...t,
      })),
    )
    .execute();
  await db
    .insertInto('barcodes')
    .values(productIds.map((product_id, i) => ({ org_id, code: `${tenant.orgId.slice(0, 4)}${String(i).padStart(9, '0')}`, product_id, created_at: 0 })))
    .execute();
  const staffIds: string[] = [];
  for (const store of tenant.stores) {
    for (const role of ['manager', 'cashier'] as const) {
      const id = randomUUID();
      staffIds.push(id);
      await db
        .insertInto('staff')
        .values({ id, org_id, store_id: store.id, name: `${role} of ${store.code}`, role, pin_kdf: 'pbkdf2-sha256', pin_iterations: 600000, pin_salt: `salt-${id}`, pin_hash: `hash-${id}`, ...t })
        .execute();
    }
  }
  return { productIds, staffIds };
}

async function setup(dbs: TestDatabaseFactory, now = 0) {
  const db = await dbs.create();
  await migrateToLatest(db.storage.db);
  const app = await buildApp({ storage: db.storage, config, clock: manualClock(now), rateLimit: { max: 100_000, windowMs: 60_000 } });
  apps.push(app);
  return { db, app };
}

const snapshotPage = async (app: App, store: TestStore, query: string): Promise<SnapshotBody> => {
  const res = await app.inject({ method: 'GET', url: `/api/v1/sync/snapshot${query}`, headers: bearer(store) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<SnapshotBody>();
};

/** A register's view: entity:id → document. */
type View = Map<string, Record<string, unknown>>;
const key = (i: { entity: string; entityId: string }): string => `${i.entity}:${i.entityId}`;

async function snapshotAll(app: App, store: TestStore, limit = 1000): Promise<{ view: View; cursor: string; total: number }> {
  const view: View = new Map();
  let page = await snapshotPage(app, store, `?limit=${limit}`);
  const { cursor, total } = page;
  for (;;) {
    for (const i of page.items) {
      if (i.op === 'delete') view.delete(key(i));
      else view.set(key(i), i.data);
    }
    if (page.nextPage === null) break;
    page = await snapshotPage(app, store, `?limit=${limit}&page=${page.nextPage}`);
    expect(page.cursor).toBe(cursor);
  }
  return { view, cursor, total };
}

async function follow(app: App, store: TestStore, view: View, since: string): Promise<string> {
  let cursor = since;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${cursor}&limit=3`, headers: bearer(store) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PullBody>();
    for (const c of body.changes) {
      if (c.op === 'delete') view.delete(key(c));
      else view.set(key(c), c.data);
    }
    cursor = body.cursor;
    if (!body.hasMore) return cursor;
  }
}

/** Makes a writer's change the way a back-office route does: data change and log entry in one transaction. */
async function change(db: Kysely<Database>, orgId: string, entity: ReferenceEntity, ids: string[], edit: (trx: Kysely<Database>) => Promise<unknown>, deletedStoreId: string | null = null) {
  await db.transaction().execute(async (trx) => {
    await edit(trx);
    await appendChanges(trx, orgId, await referenceChanges(trx, orgId, entity, ids, deletedStoreId));
  });
}

describeDb('GET /api/v1/sync/snapshot', (dbs) => {
  it('pages the store’s reference data; snapshot + following the log equals the live state despite writes between pages', async () => {
    const { db, app } = await setup(dbs);
    const sdb = db.storage.db;
    const tenant = await createTenant(sdb, 'Org A');
    const [s1, s2] = tenant.stores as [TestStore, TestStore];
    const { productIds, staffIds } = await seedCatalog(sdb, tenant, 9);
    // Earlier history in the log, so the snapshot's cursor is not at 0.
    await change(sdb, tenant.orgId, 'product', productIds.slice(0, 2), async () => undefined);

    const view: View = new Map();
    let page = await snapshotPage(app, s1, '?limit=4');
    const { cursor, total } = page;
    // 1 store + 2 tax rates + 2 categories + 9 products + 2 staff of store 1.
    expect(total).toBe(16);
    const pageSizes: number[] = [];
    let writes = 0;
    for (;;) {
      pageSizes.push(page.items.length);
      for (const i of page.items) view.set(key(i), i.data);
      // Between pages, the back office keeps working.
      const p = productIds[writes];
      if (writes === 0 && p) {
        await change(sdb, tenant.orgId, 'product', [p], (trx) => trx.updateTable('products').set({ name: 'Renamed early', price_minor: 999 }).where('id', '=', p).execute());
      } else if (writes === 1) {
        const last = productIds.at(-1) ?? '';
        await change(sdb, tenant.orgId, 'product', [last], (trx) => trx.updateTable('products').set({ name: 'Renamed late' }).where('id', '=', last).execute());
      } else if (writes === 2) {
        const gone = productIds[4] ?? '';
        await change(sdb, tenant.orgId, 'product', [gone], async (trx) => {
          await trx.deleteFrom('barcodes').where('product_id', '=', gone).execute();
          await trx.deleteFrom('products').where('id', '=', gone).execute();
        });
        const fresh = '00000000-0000-4000-8000-000000000000'; // sorts first: inserted behind the snapshot's position
        await change(sdb, tenant.orgId, 'product', [fresh], (trx) =>
          trx.insertInto('products').values({ id: fresh, org_id: tenant.orgId, sku: 'NEW', name: 'New', price_minor: 5, currency: 'EUR', unit: 'kg', weighed: 1, created_at: 1, updated_at: 1 }).execute(),
        );
        const cashier = staffIds[1] ?? '';
        await change(sdb, tenant.orgId, 'staff', [cashier], (trx) => trx.updateTable('staff').set({ active: 0, updated_at: 2 }).where('id', '=', cashier).execute());
        // Another store's staff change is not this register's business.
        const other = staffIds[2] ?? '';
        await change(sdb, tenant.orgId, 'staff', [other], (trx) => trx.updateTable('staff').set({ name: 'Moved', updated_at: 2 }).where('id', '=', other).execute());
        await change(sdb, tenant.orgId, 'store', [s1.id], (trx) => trx.updateTable('stores').set({ name: 'Renamed store' }).where('id', '=', s1.id).execute());
      }
      writes += 1;
      if (page.nextPage === null) break;
      page = await snapshotPage(app, s1, `?limit=4&page=${page.nextPage}`);
      expect(page).toMatchObject({ cursor, total });
    }
    // Full pages while writes land between them (how many items the rest holds depends on which
    // rows the writes touched relative to the page position: ids are random).
    expect(pageSizes.slice(0, 3)).toEqual([4, 4, 4]);
    expect(pageSizes.length).toBeGreaterThanOrEqual(4);

    await follow(app, s1, view, cursor);
    const live = await snapshotAll(app, s1);
    expect(new Map([...view].sort())).toEqual(new Map([...live.view].sort()));
    // …and the live state is what was written.
    expect(live.view.get(`product:${productIds[0] ?? ''}`)).toMatchObject({ name: 'Renamed early', priceMinor: 999 });
    expect(live.view.get(`product:${productIds.at(-1) ?? ''}`)).toMatchObject({ name: 'Renamed late' });
    expect(live.view.has(`product:${productIds[4] ?? ''}`)).toBe(false);
    expect(live.view.get('product:00000000-0000-4000-8000-000000000000')).toMatchObject({ weighed: true, unit: 'kg', barcodes: [] });
    expect(live.view.get(`staff:${staffIds[1] ?? ''}`)).toMatchObject({ active: false });
    expect(live.view.get(`store:${s1.id}`)).toMatchObject({ name: 'Renamed store', code: 'S01', settings: { currency: 'EUR' } });
    expect(live.total).toBe(16);
    expect(s2.id).not.toBe(s1.id);
  });

  it('serves a register its own store and organisation only, with the documents registers need', async () => {
    const { db, app } = await setup(dbs);
    const sdb = db.storage.db;
    const a = await createTenant(sdb, 'Org A');
    const b = await createTenant(sdb, 'Org B', 1);
    const [a1, a2] = a.stores as [TestStore, TestStore];
    const b1 = b.stores[0] as TestStore;
    const catA = await seedCatalog(sdb, a, 3);
    await seedCatalog(sdb, b, 2);

    const viewA1 = (await snapshotAll(app, a1)).view;
    const entities = [...viewA1.values()].length;
    expect(entities).toBe(1 + 2 + 2 + 3 + 2);
    expect([...viewA1.keys()].filter((k) => k.startsWith('store:'))).toEqual([`store:${a1.id}`]);
    const staffA1 = [...viewA1.entries()].filter(([k]) => k.startsWith('staff:')).map(([, v]) => v);
    expect(staffA1.map((s) => s['storeId'])).toEqual([a1.id, a1.id]);
    // The PIN verifier travels (registers check PINs offline); nothing of another store or org does.
    expect(staffA1[0]).toMatchObject({ active: true, pin: { kdf: 'pbkdf2-sha256', iterations: 600000 } });
    const product = viewA1.get(`product:${catA.productIds[0] ?? ''}`);
    expect(product).toEqual({
      id: catA.productIds[0],
      sku: 'SKU-0',
      name: 'Product 0',
      priceMinor: 100,
      currency: 'EUR',
      categoryId: expect.any(String),
      taxRateIds: [expect.any(String)],
      weighed: false,
      unit: 'piece',
      active: true,
      barcodes: [`${a.orgId.slice(0, 4)}000000000`],
      fieldHlc: { name: '0192a3b4c5d6-0000-dev0' },
    });

    const viewA2 = (await snapshotAll(app, a2)).view;
    expect([...viewA2.keys()].filter((k) => k.startsWith('staff:') || k.startsWith('store:')).sort()).not.toEqual(
      [...viewA1.keys()].filter((k) => k.startsWith('staff:') || k.startsWith('store:')).sort(),
    );
    const viewB = (await snapshotAll(app, b1)).view;
    expect(viewB.size).toBe(1 + 2 + 2 + 2 + 2);
    for (const k of viewB.keys()) expect(viewA1.has(k)).toBe(false);
    const serialisedA = JSON.stringify([...viewA1.values()]);
    for (const v of viewB.values()) expect(serialisedA).not.toContain(String(v['id']));
  });

  it('answers a garbled page token with 400 and a token of a replaced or pruned-past log with 410', async () => {
    const { db, app } = await setup(dbs);
    const sdb = db.storage.db;
    const tenant = await createTenant(sdb, 'Org A', 1);
    const s1 = tenant.stores[0] as TestStore;
    await seedCatalog(sdb, tenant, 3);
    const first = await snapshotPage(app, s1, '?limit=2');
    expect(first.nextPage).not.toBeNull();
    const get = (q: string) => app.inject({ method: 'GET', url: `/api/v1/sync/snapshot${q}`, headers: bearer(s1) });

    for (const page of ['%%%', 'bm90IGpzb24', Buffer.from(JSON.stringify({ v: 1, e: randomUUID(), s: 0, c: null, k: 99, a: null, t: 0 })).toString('base64url')]) {
      const res = await get(`?page=${page}`);
      expect(res.statusCode, page).toBe(400);
      expect(['invalid_page', 'invalid_input']).toContain(res.json<{ error: string }>().error);
    }
    expect((await get('?page=abc&extra=1')).statusCode).toBe(400);
    const otherLog = Buffer.from(JSON.stringify({ v: 1, e: randomUUID(), s: 0, c: null, k: 1, a: null, t: 3 })).toString('base64url');
    expect((await get(`?page=${otherLog}`)).json()).toMatchObject({ error: 'resync_required', details: { reason: 'other_log' } });
    // The log moves on and is pruned past the snapshot's cursor: the register must start again.
    await appendChanges(sdb, tenant.orgId, [{ entity: 'x', entityId: 'y', storeId: null, op: 'upsert', data: {} }]);
    await pruneChangeLog(sdb, tenant.orgId, Number.MAX_SAFE_INTEGER);
    const res = await get(`?page=${first.nextPage ?? ''}`);
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ error: 'resync_required', details: { reason: 'pruned' } });
    expect((await app.inject({ method: 'GET', url: '/api/v1/sync/snapshot' })).statusCode).toBe(401);
  });

  it('serves merge docs without a table (customers, variants) as the log sends them, deletes included', async () => {
    const { db, app } = await setup(dbs);
    const sdb = db.storage.db;
    const tenant = await createTenant(sdb, 'Org A', 1);
    const s1 = tenant.stores[0] as TestStore;
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const edit = (docType: 'customer' | 'variant', docId: string, values: Record<string, string | boolean>) =>
      sdb.transaction().execute(async (trx) => {
        const hlc = await tickServerHlc(trx, tenant.orgId, clock);
        await applyReferenceEdit(trx, {
          orgId: tenant.orgId,
          docType,
          docId,
          clock,
          // A customer made in the back office names its store (registers get only their store's).
          source: { kind: 'user', userId: 'u1', storeId: s1.id },
          writes: Object.entries(values).map(([field, value]) => ({ field, value, hlc, base: null })),
        });
      });
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const [c1, c2, c3, c4] = ids as [string, string, string, string];
    await edit('customer', c1, { name: 'Ada' });
    await edit('customer', c2, { name: 'Bea' });
    await edit('customer', c3, { name: 'Cem' });
    await edit('variant', c4, { name: 'Large' });

    const view: View = new Map();
    let page = await snapshotPage(app, s1, '?limit=2');
    const { cursor } = page;
    expect(page.total).toBe(1 + 4); // the store, 3 customers, 1 variant
    let step = 0;
    for (;;) {
      for (const i of page.items) {
        if (i.op === 'delete') view.delete(key(i));
        else view.set(key(i), i.data);
      }
      if (step === 0) {
        clock.advance(1000);
        await edit('customer', c1, { name: 'Ada Lovelace' });
        await edit('customer', c2, { deleted: true });
        await edit('variant', c4, { name: 'XL' });
      }
      step += 1;
      if (page.nextPage === null) break;
      page = await snapshotPage(app, s1, `?limit=2&page=${page.nextPage}`);
    }
    await follow(app, s1, view, cursor);
    const live = await snapshotAll(app, s1);
    expect(new Map([...view].sort())).toEqual(new Map([...live.view].sort()));
    expect(live.view.get(`customer:${c1}`)).toMatchObject({ id: c1, values: { name: 'Ada Lovelace' }, fieldHlc: { name: expect.any(String) } });
    expect(live.view.has(`customer:${c2}`)).toBe(false);
    expect(live.view.get(`variant:${c4}`)).toMatchObject({ values: { name: 'XL' } });
    // The deleted customer still counts in the total: it is served as a delete (a no-op to a new register).
    expect(live.total).toBe(5);
  });
});

/** A stock fact as the push writes one: the level moves and the fact is logged in ONE transaction. */
async function stockFact(db: Kysely<Database>, orgId: string, storeId: string, productId: string, variantId: string, delta: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('stock_levels')
      .values({ org_id: orgId, store_id: storeId, product_id: productId, variant_id: variantId, on_hand: delta, updated_at: 0 })
      .onConflict((oc) => oc.columns(['org_id', 'store_id', 'product_id', 'variant_id']).doUpdateSet({ on_hand: sql<number>`stock_levels.on_hand + excluded.on_hand` }))
      .execute();
    await appendChanges(trx, orgId, [{ entity: 'fact', entityId: randomUUID(), storeId, op: 'upsert', data: { productId, variantId, delta } }]);
  });
}

const levelKey = (productId: string, variantId: string | null): string => `${productId}/${variantId ?? ''}`;

/** The store's live levels, as the register keys them. */
async function liveLevels(db: Kysely<Database>, orgId: string, storeId: string): Promise<Map<string, number>> {
  const rows = await db.selectFrom('stock_levels').selectAll().where('org_id', '=', orgId).where('store_id', '=', storeId).execute();
  return new Map(rows.map((r) => [levelKey(r.product_id, r.variant_id === '' ? null : r.variant_id), Number(r.on_hand)]));
}

/** What a register does: the snapshot's levels, plus every fact pulled after the cursor counted once by id. */
async function levelsAfterFollowing(app: App, store: TestStore, levels: Map<string, number>, since: string): Promise<Map<string, number>> {
  const out = new Map(levels);
  const seen = new Set<string>();
  let cursor = since;
  for (;;) {
    const res = await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${cursor}&limit=7`, headers: bearer(store) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<PullBody>();
    for (const c of body.changes) {
      if (c.entity !== 'fact' || seen.has(c.entityId)) continue;
      seen.add(c.entityId);
      const d = c.data as { productId: string; variantId: string; delta: number };
      const k = levelKey(d.productId, d.variantId === '' ? null : d.variantId);
      out.set(k, (out.get(k) ?? 0) + d.delta);
    }
    cursor = body.cursor;
    if (!body.hasMore) return out;
  }
}

const levelsOf = (items: readonly Item[]): Map<string, number> =>
  new Map(
    items
      .filter((i) => i.entity === 'stock_level')
      .map((i) => [levelKey(i.data['productId'] as string, i.data['variantId'] as string | null), i.data['onHand'] as number]),
  );

describeDb('GET /api/v1/sync/snapshot: stock levels at the cursor', (dbs) => {
  it('carries the store’s levels on page 1, read with the cursor; a push between pages is counted once, from the log', async () => {
    const NOW = Date.UTC(2026, 4, 1);
    const { db, app } = await setup(dbs, NOW);
    const sdb = db.storage.db;
    const tenant = await createTenant(sdb, 'Org A');
    const [s1, s2] = tenant.stores as [TestStore, TestStore];
    const { productIds } = await seedCatalog(sdb, tenant, 5);
    const [p0, p1, p2] = productIds as [string, string, string];
    const v1 = randomUUID();
    await stockFact(sdb, tenant.orgId, s1.id, p0, '', 5000);
    await stockFact(sdb, tenant.orgId, s1.id, p1, v1, 2000);
    await stockFact(sdb, tenant.orgId, s1.id, p0, '', -1500);
    await stockFact(sdb, tenant.orgId, s2.id, p0, '', 9000); // another store: never in s1's snapshot

    const first = await snapshotPage(app, s1, '?limit=3');
    expect(first.serverTime).toBe(NOW);
    const levelItems = first.items.filter((i) => i.entity === 'stock_level');
    expect(levelItems).toEqual([
      { entity: 'stock_level', entityId: p0, storeId: s1.id, op: 'upsert', data: { productId: p0, variantId: null, onHand: 3500 } },
      { entity: 'stock_level', entityId: `${p1}:${v1}`, storeId: s1.id, op: 'upsert', data: { productId: p1, variantId: v1, onHand: 2000 } },
    ].sort((a, b) => (a.data.productId < b.data.productId ? -1 : 1)));
    // Every level plus up to `limit` reference items.
    expect(first.items).toHaveLength(2 + 3);
    expect(first.nextPage).not.toBeNull();

    // Pushes between pages: the live levels move past the cursor.
    await stockFact(sdb, tenant.orgId, s1.id, p0, '', -1000);
    await stockFact(sdb, tenant.orgId, s1.id, p2, '', 300);
    await stockFact(sdb, tenant.orgId, s1.id, p1, v1, 70);

    const items = [...first.items];
    let page = first;
    while (page.nextPage !== null) {
      page = await snapshotPage(app, s1, `?limit=3&page=${page.nextPage}`);
      expect(page.cursor).toBe(first.cursor);
      expect(page.serverTime).toBe(NOW);
      // Later pages read live rows: a level there would be newer than the cursor.
      expect(page.items.filter((i) => i.entity === 'stock_level')).toEqual([]);
      items.push(...page.items);
    }
    expect(items).toHaveLength(first.total);
    const snapLevels = levelsOf(items);
    expect(snapLevels).toEqual(new Map([[levelKey(p0, null), 3500], [levelKey(p1, v1), 2000]]));

    // Snapshot levels + facts after the cursor = the live levels: nothing before the cursor comes again.
    const live = await liveLevels(sdb, tenant.orgId, s1.id);
    expect(live).toEqual(new Map([[levelKey(p0, null), 2500], [levelKey(p1, v1), 2070], [levelKey(p2, null), 300]]));
    expect(await levelsAfterFollowing(app, s1, snapLevels, first.cursor)).toEqual(live);

    // Store 2's register gets its own level only.
    expect(levelsOf((await snapshotPage(app, s2, '?limit=1000')).items)).toEqual(new Map([[levelKey(p0, null), 9000]]));
  });

  it('levels match the cursor while pushes commit concurrently with page 1', async () => {
    const { db, app } = await setup(dbs);
    const sdb = db.storage.db;
    const tenant = await createTenant(sdb, 'Org A', 1);
    const [s1] = tenant.stores as [TestStore];
    const { productIds } = await seedCatalog(sdb, tenant, 4);
    const snapshots: { levels: Map<string, number>; cursor: string }[] = [];
    let written = 0;
    // Writers push a few facts, then wait for the reader's next snapshot, so commits land between
    // and during page-1 reads on both databases (SQLite's one connection would otherwise let the
    // writers run to the end first).
    let snapped!: () => void;
    let nextSnapshot = new Promise<void>((resolve) => (snapped = resolve));
    const writers = Array.from({ length: 4 }, async (_, w) => {
      for (let i = 0; snapshots.length < 8; i++) {
        for (let j = 0; j < 3; j++) {
          const delta = (w + 1) * 100 + i * 3 + j;
          await stockFact(sdb, tenant.orgId, s1.id, productIds[(w + i + j) % 4] ?? '', '', delta);
          written += delta;
        }
        if (snapshots.length < 8) await nextSnapshot;
      }
    });
    const reader = (async () => {
      while (snapshots.length < 8) {
        const p = await snapshotPage(app, s1, '?limit=1000');
        snapshots.push({ levels: levelsOf(p.items), cursor: p.cursor });
        const wake = snapped;
        nextSnapshot = new Promise<void>((resolve) => (snapped = resolve));
        wake();
      }
    })();
    await Promise.all([...writers, reader]);
    const live = await liveLevels(sdb, tenant.orgId, s1.id);
    expect([...live.values()].reduce((x, y) => x + y, 0)).toBe(written);
    // Distinct cursors: the reads really interleaved with the writers.
    expect(new Set(snapshots.map((x) => x.cursor)).size).toBeGreaterThan(1);
    for (const snap of snapshots) expect(await levelsAfterFollowing(app, s1, snap.levels, snap.cursor)).toEqual(live);
  });
});
