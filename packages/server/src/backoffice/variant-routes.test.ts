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

describeDb('back office: variants', (dbs) => {
  it('adds, lists, edits and deletes a product’s variants as merge docs that registers receive', async () => {
    const h = await backofficeHarness(dbs, apps);
    const shirt = (await h.call(h.manager, 'POST', '/api/v1/products', { name: 'T-shirt', sku: 'TS', price: 1500, currency: 'EUR' })).body['id'] as string;
    const other = (await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cap', sku: 'CAP', price: 900, currency: 'EUR' })).body['id'] as string;
    h.clock.set(T0 + 1000);
    const head = await logHead(h.db, h.a.orgId);
    const m = await h.call(h.manager, 'POST', `/api/v1/products/${shirt}/variants`, { sku: 'TS-M', name: 'M' });
    expect(m.status, JSON.stringify(m.body)).toBe(201);
    const id = m.body['id'] as string;
    const hlc = serverHlc(T0 + 1000);
    expect(m.body).toEqual({
      id,
      productId: shirt,
      sku: 'TS-M',
      name: 'M',
      price: null,
      active: true,
      deleted: false,
      fieldHlc: { active: hlc, name: hlc, price: hlc, productId: hlc, sku: hlc },
      updatedAt: T0 + 1000,
    });
    const xl = await h.call(h.manager, 'POST', `/api/v1/products/${shirt}/variants`, { sku: 'TS-XL', name: 'XL', price: 1700 });
    await h.call(h.manager, 'POST', `/api/v1/products/${other}/variants`, { sku: 'CAP-R', name: 'Red' });
    expect((await h.call(h.cashier, 'GET', `/api/v1/products/${shirt}/variants`)).body).toEqual({ variants: [m.body, xl.body] });

    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes[0]).toEqual({
      seq: head + 1,
      entity: 'variant',
      entityId: id,
      storeId: null,
      op: 'upsert',
      data: { id, values: { active: true, name: 'M', price: null, productId: shirt, sku: 'TS-M' }, fieldHlc: { active: hlc, name: hlc, price: hlc, productId: hlc, sku: hlc } },
    });

    h.clock.set(T0 + 2000);
    const edit = await h.call(h.manager, 'PATCH', `/api/v1/variants/${id}`, { price: 1600, fieldHlc: m.body['fieldHlc'] });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    expect(edit.body).toEqual({ variant: { ...m.body, price: 1600, fieldHlc: { ...(m.body['fieldHlc'] as object), price: serverHlc(T0 + 2000) }, updatedAt: T0 + 2000 }, conflicts: [] });

    const next = await logHead(h.db, h.a.orgId);
    expect((await h.call(h.manager, 'DELETE', `/api/v1/variants/${id}`)).status).toBe(204);
    expect(await changesAfter(h.db, h.a.orgId, next)).toMatchObject([{ entity: 'variant', entityId: id, op: 'delete' }]);
    expect((await h.call(h.manager, 'GET', `/api/v1/variants/${id}`)).status).toBe(404);
    expect(((await h.call(h.manager, 'GET', `/api/v1/products/${shirt}/variants`)).body['variants'] as { id: string }[]).map((v) => v.id)).toEqual([xl.body['id']]);
  });

  it('keeps organisations apart, refuses bad input, and needs a manager with CSRF', async () => {
    const h = await backofficeHarness(dbs, apps);
    const shirt = (await h.call(h.manager, 'POST', '/api/v1/products', { name: 'T-shirt', sku: 'TS', price: 1500, currency: 'EUR' })).body['id'] as string;
    const id = (await h.call(h.manager, 'POST', `/api/v1/products/${shirt}/variants`, { sku: 'TS-M', name: 'M' })).body['id'] as string;
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/products/${shirt}/variants`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'POST', `/api/v1/products/${shirt}/variants`, { sku: 'X', name: 'X' }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/variants/${id}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'PATCH', `/api/v1/variants/${id}`, { name: 'L' }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'DELETE', `/api/v1/variants/${id}`), 404, 'not_found');
    for (const body of [{ sku: 'X' }, { sku: 'X', name: 'X', price: -1 }, { sku: 'X', name: 'X\u0000' }, { sku: 'X', name: 'X', productId: shirt }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/products/${shirt}/variants`, body), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/variants/${id}`, { productId: shirt }), 400, 'invalid_input');
    await expectRefused(h.db, () => h.call(h.cashier, 'PATCH', `/api/v1/variants/${id}`, { name: 'L' }), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'DELETE', `/api/v1/variants/${id}`), 403, 'csrf_required');
  });
});
