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

describeDb('back office: tax rates', (dbs) => {
  it('creates, lists and edits tax rates: exact rows, change log and audit', async () => {
    const h = await backofficeHarness(dbs, apps);
    const head = await logHead(h.db, h.a.orgId);
    const std = await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'VAT 19 %', ratePpm: 190_000 });
    expect(std.status, JSON.stringify(std.body)).toBe(201);
    const id = std.body['id'] as string;
    expect(std.body).toEqual({ id, name: 'VAT 19 %', ratePpm: 190_000, fieldHlc: { name: serverHlc(T0), ratePpm: serverHlc(T0) }, createdAt: T0, updatedAt: T0 });
    const reduced = await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'VAT 7 %', ratePpm: 70_000 });
    expect((await h.call(h.cashier, 'GET', '/api/v1/tax-rates')).body).toMatchObject({ taxRates: [{ id }, { id: reduced.body['id'] }], total: 2 });
    expect((await h.call(h.cashier, 'GET', '/api/v1/tax-rates?q=7')).body).toMatchObject({ taxRates: [{ id: reduced.body['id'] }], total: 1 });

    h.clock.advance(1000);
    const edit = await h.call(h.manager, 'PATCH', `/api/v1/tax-rates/${String(reduced.body['id'])}`, { ratePpm: 80_000, name: 'VAT 8 %', fieldHlc: reduced.body['fieldHlc'] });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    expect(edit.body).toMatchObject({ taxRate: { name: 'VAT 8 %', ratePpm: 80_000, fieldHlc: { ratePpm: serverHlc(T0 + 1000) } }, conflicts: [] });
    expect(await h.db.selectFrom('tax_rates').select(['org_id', 'name', 'rate_ppm', 'updated_at']).where('id', '=', reduced.body['id'] as string).execute()).toEqual([
      { org_id: h.a.orgId, name: 'VAT 8 %', rate_ppm: 80_000, updated_at: T0 + 1000 },
    ]);
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.map((c) => [c.entity, c.op, c.data['ratePpm']])).toEqual([
      ['tax_rate', 'upsert', 190_000],
      ['tax_rate', 'upsert', 70_000],
      ['tax_rate', 'upsert', 80_000],
    ]);
    expect(await h.db.selectFrom('audit_log').select('details_json').where('action', '=', 'catalog.updated').execute()).toEqual([
      { details_json: JSON.stringify({ fields: ['name', 'ratePpm'], values: { name: 'VAT 8 %', ratePpm: 80_000 }, conflicts: [] }) },
    ]);
    for (const body of [{ name: 'x', ratePpm: 1_000_001 }, { name: 'x', ratePpm: -1 }, { name: 'x', ratePpm: 0.19 }, { name: 'x' }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/tax-rates', body), 400, 'invalid_input');
    }
  });

  it('refuses deleting a rate a product uses (409); then deletes it as a delete registers receive', async () => {
    const h = await backofficeHarness(dbs, apps);
    const rate = (await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'VAT', ratePpm: 190_000 })).body['id'] as string;
    const product = (await h.call(h.manager, 'POST', '/api/v1/products', { name: 'P', sku: 'P', price: 1, currency: 'EUR', taxRateIds: [rate] })).body['id'] as string;
    await expectRefused(h.db, () => h.call(h.manager, 'DELETE', `/api/v1/tax-rates/${rate}`), 409, 'tax_rate_in_use');
    expect((await h.call(h.manager, 'PATCH', `/api/v1/products/${product}`, { taxRateIds: [] })).status).toBe(200);
    const head = await logHead(h.db, h.a.orgId);
    expect((await h.call(h.manager, 'DELETE', `/api/v1/tax-rates/${rate}`)).status).toBe(204);
    expect(await h.db.selectFrom('tax_rates').select('id').execute()).toEqual([]);
    expect((await changesAfter(h.db, h.a.orgId, head)).map((c) => [c.entity, c.entityId, c.op])).toEqual([
      ['tax_rate', rate, 'upsert'],
      ['tax_rate', rate, 'delete'],
    ]);
    expect((await h.call(h.manager, 'GET', `/api/v1/tax-rates/${rate}`)).status).toBe(404);
  });

  it('keeps organisations apart, needs CSRF on changes and a manager to change anything', async () => {
    const h = await backofficeHarness(dbs, apps);
    const mine = (await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'Mine', ratePpm: 1 })).body['id'] as string;
    const other = h.otherManager;
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/tax-rates/${mine}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'PATCH', `/api/v1/tax-rates/${mine}`, { ratePpm: 2 }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'DELETE', `/api/v1/tax-rates/${mine}`), 404, 'not_found');
    expect((await h.call(other, 'GET', '/api/v1/tax-rates')).body).toMatchObject({ taxRates: [], total: 0 });
    for (const [method, url, payload] of [
      ['POST', '/api/v1/tax-rates', { name: 'New', ratePpm: 1 }],
      ['PATCH', `/api/v1/tax-rates/${mine}`, { ratePpm: 3 }],
      ['DELETE', `/api/v1/tax-rates/${mine}`, undefined],
    ] as const) {
      await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), method, url, payload), 403, 'csrf_required');
      await expectRefused(h.db, () => h.call(h.cashier, method, url, payload), 403, 'forbidden');
    }
  });
});
