import { encodeHlc } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, expectRefused, logHead, T0, withoutCsrf } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const serverHlc = (ms: number, counter = 0) => encodeHlc({ wallMs: ms, counter, node: 'server' });

describeDb('back office: categories', (dbs) => {
  it('creates, lists, edits and nests categories: exact rows, change log and audit', async () => {
    const h = await backofficeHarness(dbs, apps);
    const head = await logHead(h.db, h.a.orgId);
    const drinks = await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Drinks', sortOrder: 2 });
    expect(drinks.status, JSON.stringify(drinks.body)).toBe(201);
    const drinksId = drinks.body['id'] as string;
    const hlc0 = serverHlc(T0);
    expect(drinks.body).toEqual({
      id: drinksId,
      name: 'Drinks',
      parentId: null,
      sortOrder: 2,
      fieldHlc: { name: hlc0, parentId: hlc0, sortOrder: hlc0 },
      createdAt: T0,
      updatedAt: T0,
    });
    h.clock.advance(1000);
    const juice = await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Juice', parentId: drinksId });
    const juiceId = juice.body['id'] as string;
    const food = await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Food', sortOrder: 1 });
    expect(await h.db.selectFrom('categories').select(['id', 'org_id', 'name', 'parent_id', 'sort_order']).where('id', '=', juiceId).execute()).toEqual([
      { id: juiceId, org_id: h.a.orgId, name: 'Juice', parent_id: drinksId, sort_order: 0 },
    ]);

    const list = await h.call(h.cashier, 'GET', '/api/v1/categories');
    expect((list.body['categories'] as { name: string }[]).map((c) => c.name)).toEqual(['Juice', 'Food', 'Drinks']);
    expect(list.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect((await h.call(h.cashier, 'GET', `/api/v1/categories?parentId=${drinksId}`)).body).toMatchObject({ categories: [{ id: juiceId }], total: 1 });
    expect((await h.call(h.cashier, 'GET', '/api/v1/categories?q=OO')).body).toMatchObject({ categories: [{ id: food.body['id'] }], total: 1 });

    h.clock.advance(1000);
    const moved = await h.call(h.manager, 'PATCH', `/api/v1/categories/${juiceId}`, { parentId: null, name: 'Juices', fieldHlc: juice.body['fieldHlc'] });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ category: { id: juiceId, name: 'Juices', parentId: null, updatedAt: T0 + 2000 }, conflicts: [] });

    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.map((c) => [c.entity, c.entityId, c.storeId, c.op])).toEqual([
      ['category', drinksId, null, 'upsert'],
      ['category', juiceId, null, 'upsert'],
      ['category', food.body['id'], null, 'upsert'],
      ['category', juiceId, null, 'upsert'],
    ]);
    expect(changes.at(-1)?.data).toMatchObject({ id: juiceId, name: 'Juices', parentId: null, sortOrder: 0 });
    const audit = await h.db.selectFrom('audit_log').select(['action', 'target_kind', 'target_id']).where('target_kind', '=', 'category').orderBy('at').orderBy('action').execute();
    expect(audit.filter((a) => a.target_id === juiceId)).toEqual([
      { action: 'catalog.created', target_kind: 'category', target_id: juiceId },
      { action: 'catalog.updated', target_kind: 'category', target_id: juiceId },
    ]);
  });

  it('refuses a cycle (409) and deleting a category still in use (409); a delete reaches registers as a delete', async () => {
    const h = await backofficeHarness(dbs, apps);
    const top = (await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Top' })).body['id'] as string;
    const mid = (await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Mid', parentId: top })).body['id'] as string;
    const leaf = (await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Leaf', parentId: mid })).body['id'] as string;
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/categories/${top}`, { parentId: leaf }), 409, 'category_cycle');
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/categories/${top}`, { parentId: top }), 409, 'category_cycle');
    await expectRefused(h.db, () => h.call(h.manager, 'DELETE', `/api/v1/categories/${mid}`), 409, 'category_in_use');
    const product = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'P', sku: 'P', price: 1, currency: 'EUR', categoryId: leaf });
    await expectRefused(h.db, () => h.call(h.manager, 'DELETE', `/api/v1/categories/${leaf}`), 409, 'category_in_use');

    expect((await h.call(h.manager, 'PATCH', `/api/v1/products/${String(product.body['id'])}`, { categoryId: null })).status).toBe(200);
    const head = await logHead(h.db, h.a.orgId);
    h.clock.advance(5000);
    const del = await h.call(h.manager, 'DELETE', `/api/v1/categories/${leaf}`);
    expect(del.status, JSON.stringify(del.body)).toBe(204);
    expect(await h.db.selectFrom('categories').select('id').where('id', '=', leaf).execute()).toEqual([]);
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.at(-1)).toMatchObject({ entity: 'category', entityId: leaf, op: 'delete', storeId: null });
    const doc = JSON.parse((await h.db.selectFrom('reference_docs').select('doc_json').where('doc_id', '=', leaf).executeTakeFirstOrThrow()).doc_json) as { fields: Record<string, { value: unknown }[]> };
    expect(doc.fields['deleted']).toEqual([{ value: true, hlc: serverHlc(T0 + 5000), base: null }]);
    expect((await h.call(h.manager, 'GET', `/api/v1/categories/${leaf}`)).status).toBe(404);
    expect((await h.call(h.manager, 'DELETE', `/api/v1/categories/${leaf}`)).status).toBe(404);
    expect(await h.db.selectFrom('audit_log').select('action').where('target_id', '=', leaf).where('action', '=', 'catalog.deleted').execute()).toHaveLength(1);
  });

  it('keeps organisations apart, needs CSRF on changes and a manager to change anything', async () => {
    const h = await backofficeHarness(dbs, apps);
    const mine = (await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Mine' })).body['id'] as string;
    const other = h.otherManager;
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/categories/${mine}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'PATCH', `/api/v1/categories/${mine}`, { name: 'Theirs' }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'DELETE', `/api/v1/categories/${mine}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'POST', '/api/v1/categories', { name: 'Child', parentId: mine }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/categories?parentId=${mine}`), 404, 'not_found');
    expect((await h.call(other, 'GET', '/api/v1/categories')).body).toMatchObject({ categories: [], total: 0 });
    for (const [method, url, payload] of [
      ['POST', '/api/v1/categories', { name: 'New' }],
      ['PATCH', `/api/v1/categories/${mine}`, { name: 'Renamed' }],
      ['DELETE', `/api/v1/categories/${mine}`, undefined],
    ] as const) {
      await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), method, url, payload), 403, 'csrf_required');
      await expectRefused(h.db, () => h.call(h.cashier, method, url, payload), 403, 'forbidden');
    }
    for (const body of [{}, { name: '' }, { name: 'a\u0007b' }, { name: 'x', sortOrder: 1.5 }, { name: 'x', parentId: 'root' }, { name: 'x', extra: 1 }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/categories', body), 400, 'invalid_input');
    }
  });
});
