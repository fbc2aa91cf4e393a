import { encodeHlc } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, dumpBackoffice, expectRefused, logHead, T0, withoutCsrf } from './backoffice-test-kit.js';
import type { BackofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** The server's HLC stamp at `ms` with `counter`. */
const serverHlc = (ms: number, counter = 0) => encodeHlc({ wallMs: ms, counter, node: 'server' });

const FIELDS = ['active', 'barcodes', 'categoryId', 'currency', 'name', 'price', 'sku', 'taxRateIds', 'unit', 'weighed'];

async function catalog(h: BackofficeHarness) {
  const category = await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Coffee' });
  const vat = await h.call(h.manager, 'POST', '/api/v1/tax-rates', { name: 'VAT 19 %', ratePpm: 190_000 });
  expect([category.status, vat.status]).toEqual([201, 201]);
  return { categoryId: category.body['id'] as string, vatId: vat.body['id'] as string };
}

describeDb('back office: products', (dbs) => {
  it('creates a product: barcodes normalised, exact row, merge doc with the server HLC, change log and audit', async () => {
    const h = await backofficeHarness(dbs, apps);
    const { categoryId, vatId } = await catalog(h);
    h.clock.advance(1000);
    const head = await logHead(h.db, h.a.orgId);
    const res = await h.call(h.manager, 'POST', '/api/v1/products', {
      name: 'Espresso beans 1 kg',
      sku: 'ESP-1',
      price: 1899,
      currency: 'EUR',
      categoryId,
      taxRateIds: [vatId],
      barcodes: ['4006381333931', '036000291452'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body['id'] as string;
    const hlc = serverHlc(T0 + 1000);
    expect(res.body).toEqual({
      id,
      sku: 'ESP-1',
      name: 'Espresso beans 1 kg',
      price: 1899,
      currency: 'EUR',
      categoryId,
      taxRateIds: [vatId],
      weighed: false,
      unit: 'piece',
      active: true,
      deleted: false,
      barcodes: ['0036000291452', '4006381333931'],
      fieldHlc: Object.fromEntries(FIELDS.map((f) => [f, hlc])),
      createdAt: T0 + 1000,
      updatedAt: T0 + 1000,
    });
    expect(await h.db.selectFrom('products').selectAll().where('id', '=', id).execute()).toEqual([
      {
        id,
        org_id: h.a.orgId,
        sku: 'ESP-1',
        name: 'Espresso beans 1 kg',
        price_minor: 1899,
        currency: 'EUR',
        category_id: categoryId,
        tax_rate_ids_json: JSON.stringify([vatId]),
        weighed: 0,
        unit: 'piece',
        active: 1,
        field_hlc_json: JSON.stringify(Object.fromEntries(FIELDS.map((f) => [f, hlc]))),
        created_at: T0 + 1000,
        updated_at: T0 + 1000,
      },
    ]);
    expect(await h.db.selectFrom('barcodes').select(['org_id', 'code', 'product_id']).orderBy('code').execute()).toEqual([
      { org_id: h.a.orgId, code: '0036000291452', product_id: id },
      { org_id: h.a.orgId, code: '4006381333931', product_id: id },
    ]);
    const doc = await h.db.selectFrom('reference_docs').select(['doc_type', 'doc_json']).where('doc_id', '=', id).executeTakeFirstOrThrow();
    expect(doc.doc_type).toBe('product');
    expect(JSON.parse(doc.doc_json)).toMatchObject({ fields: { price: [{ value: 1899, hlc, base: null }], barcodes: [{ value: ['0036000291452', '4006381333931'], hlc, base: null }] } });

    // Registers see the product with its barcodes.
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.map((c) => [c.entity, c.entityId, c.storeId, c.op])).toEqual([['product', id, null, 'upsert']]);
    expect(changes.at(-1)?.data).toMatchObject({ id, sku: 'ESP-1', priceMinor: 1899, barcodes: ['0036000291452', '4006381333931'], taxRateIds: [vatId], categoryId });

    const audit = await h.db.selectFrom('audit_log').selectAll().where('action', '=', 'catalog.created').where('target_id', '=', id).execute();
    expect(audit).toMatchObject([{ org_id: h.a.orgId, actor_kind: 'user', actor_id: h.a.users.manager.id, target_kind: 'product', at: T0 + 1000 }]);

    expect((await h.call(h.cashier, 'GET', `/api/v1/products/${id}`)).body).toEqual(res.body);
  });

  it('lists with paging, search over name, SKU and barcode, and category and active filters', async () => {
    const h = await backofficeHarness(dbs, apps);
    const { categoryId } = await catalog(h);
    const make = async (name: string, sku: string, extra: Record<string, unknown> = {}) => {
      const res = await h.call(h.manager, 'POST', '/api/v1/products', { name, sku, price: 100, currency: 'EUR', ...extra });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body['id'] as string;
    };
    const a = await make('apple juice', 'JU-1', { categoryId, barcodes: ['5901234123457'] });
    const b = await make('banana', 'FR-2', { weighed: true });
    const c = await make('cherry 100%_pure', 'JU-3', { categoryId, active: false });
    const list = async (query: string) => {
      const res = await h.call(h.cashier, 'GET', `/api/v1/products${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return { ids: (res.body['products'] as { id: string }[]).map((p) => p.id), total: res.body['total'], limit: res.body['limit'], offset: res.body['offset'] };
    };
    expect(await list('')).toEqual({ ids: [a, b, c], total: 3, limit: 50, offset: 0 });
    expect(await list('?limit=2&offset=1')).toEqual({ ids: [b, c], total: 3, limit: 2, offset: 1 });
    expect(await list('?q=JU-')).toMatchObject({ ids: [a, c], total: 2 });
    expect(await list('?q=APPLE')).toMatchObject({ ids: [a], total: 1 });
    expect(await list('?q=5901234123457')).toMatchObject({ ids: [a] });
    // `%` and `_` are taken literally.
    expect(await list(`?q=${encodeURIComponent('0%_')}`)).toMatchObject({ ids: [c] });
    expect(await list('?q=%25')).toMatchObject({ ids: [c] });
    expect(await list(`?categoryId=${categoryId}`)).toMatchObject({ ids: [a, c] });
    expect(await list(`?categoryId=${categoryId}&active=true`)).toMatchObject({ ids: [a] });
    expect(await list('?active=false')).toMatchObject({ ids: [c] });
    const banana = await h.call(h.manager, 'GET', `/api/v1/products/${b}`);
    expect(banana.body).toMatchObject({ weighed: true, unit: 'kg' });

    for (const bad of ['?limit=0', '?limit=201', '?offset=-1', '?active=yes', '?q=', '?q=a%00b', '?categoryId=nope', '?colour=red']) {
      const res = await h.call(h.manager, 'GET', `/api/v1/products${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body['error'], bad).toBe('invalid_input');
    }
  });

  it('refuses a barcode another product holds (409, in any of its forms) and a taken SKU, changing nothing', async () => {
    const h = await backofficeHarness(dbs, apps);
    const first = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cola', sku: 'COLA', price: 150, currency: 'EUR', barcodes: ['0036000291452'] });
    expect(first.status).toBe(201);
    const other = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Lemonade', sku: 'LEMON', price: 150, currency: 'EUR' });
    // The UPC-A form of the same GTIN.
    const dup = await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cola Zero', sku: 'COLA-0', price: 150, currency: 'EUR', barcodes: ['036000291452'] }), 409, 'duplicate_barcode');
    expect(dup.body['details']).toEqual({ held: [{ barcode: '0036000291452', productId: first.body['id'] }] });
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/products/${String(other.body['id'])}`, { barcodes: ['0036000291452'] }), 409, 'duplicate_barcode');
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cola again', sku: 'COLA', price: 150, currency: 'EUR' }), 409, 'duplicate_sku');
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/products/${String(other.body['id'])}`, { sku: 'COLA' }), 409, 'duplicate_sku');
    // The product holding a code may keep it in an edit.
    const keep = await h.call(h.manager, 'PATCH', `/api/v1/products/${String(first.body['id'])}`, { barcodes: ['036000291452', '5901234123457'] });
    expect(keep.status, JSON.stringify(keep.body)).toBe(200);
    expect(keep.body['product']).toMatchObject({ barcodes: ['0036000291452', '5901234123457'] });
  });

  it('answers 400 with the schema issues for an invalid EAN check digit and other bad input, changing nothing', async () => {
    const h = await backofficeHarness(dbs, apps);
    const ok = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Tea', sku: 'TEA', price: 300, currency: 'EUR' });
    const id = ok.body['id'] as string;
    const bad = await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/products', { name: 'Tea 2', sku: 'TEA-2', price: 300, currency: 'EUR', barcodes: ['4006381333932'] }), 400, 'invalid_input');
    expect(JSON.stringify(bad.body['details'])).toContain('check digit');
    expect(bad.body['details']).toMatchObject({ issues: [{ path: '/barcodes/0' }] });
    for (const body of [
      { name: 'Tea', sku: 'T', price: 1.5, currency: 'EUR' },
      { name: 'Tea', sku: 'T', price: -1, currency: 'EUR' },
      { name: 'Tea', sku: 'T', price: 1, currency: 'XXX' },
      { name: 'Te\u0000a', sku: 'T', price: 1, currency: 'EUR' },
      { name: 'Tea', sku: 'T', price: 1, currency: 'EUR', colour: 'green' },
      { name: 'Tea', sku: 'T', price: 1, currency: 'EUR', barcodes: ['12345'] },
      { name: 'Tea', sku: 'T', price: 1, currency: 'EUR', barcodes: ['4006381333931', '4006381333931'] },
      { name: 'Tea', sku: 'T', price: 1, currency: 'EUR', weighed: true, unit: 'piece' },
      { name: 'Tea', sku: 'T', price: 1 },
    ]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/products', body), 400, 'invalid_input');
    }
    for (const body of [{}, { fieldHlc: {} }, { price: 'free' }, { fieldHlc: { price: 'yesterday' }, price: 1 }, { deleted: true }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/products/${id}`, body), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', '/api/v1/products/not-a-uuid', { price: 1 }), 400, 'invalid_input');
    // Unknown references in the body are 404s.
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/products/${id}`, { categoryId: h.a.storeId }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.manager, 'PATCH', `/api/v1/products/${id}`, { taxRateIds: [h.a.storeId] }), 404, 'not_found');
  });

  it('edits per field from the HLC the editor saw, and deletes with a `deleted` write that frees the barcodes', async () => {
    const h = await backofficeHarness(dbs, apps);
    const created = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Mug', sku: 'MUG', price: 250, currency: 'EUR', barcodes: ['4006381333931'] });
    const id = created.body['id'] as string;
    const seen = created.body['fieldHlc'] as Record<string, string>;
    h.clock.advance(60_000);
    const head = await logHead(h.db, h.a.orgId);
    const edit = await h.call(h.manager, 'PATCH', `/api/v1/products/${id}`, { price: 275, name: 'Big mug', fieldHlc: seen });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    const hlc = serverHlc(T0 + 60_000);
    expect(edit.body).toEqual({
      product: { ...created.body, name: 'Big mug', price: 275, fieldHlc: { ...seen, name: hlc, price: hlc }, updatedAt: T0 + 60_000 },
      conflicts: [],
    });
    const doc = JSON.parse((await h.db.selectFrom('reference_docs').select('doc_json').where('doc_id', '=', id).executeTakeFirstOrThrow()).doc_json) as { fields: Record<string, unknown> };
    expect(doc.fields['price']).toEqual([
      { value: 250, hlc: seen['price'], base: null },
      { value: 275, hlc, base: seen['price'] },
    ]);
    expect((await changesAfter(h.db, h.a.orgId, head)).map((c) => [c.entity, c.op, c.data['priceMinor'], c.data['name']])).toEqual([['product', 'upsert', 275, 'Big mug']]);
    expect(await h.db.selectFrom('audit_log').select(['details_json']).where('action', '=', 'catalog.updated').execute()).toEqual([
      { details_json: JSON.stringify({ fields: ['name', 'price'], values: { name: 'Big mug', price: 275 }, conflicts: [] }) },
    ]);

    // The same edit again writes nothing (no new HLC, no change, no audit).
    const before = await dumpBackoffice(h.db);
    const again = await h.call(h.manager, 'PATCH', `/api/v1/products/${id}`, { price: 275, name: 'Big mug' });
    expect(again.body).toEqual(edit.body);
    expect(await dumpBackoffice(h.db)).toEqual(before);

    h.clock.advance(1000);
    const del = await h.call(h.manager, 'DELETE', `/api/v1/products/${id}`);
    expect(del.status, JSON.stringify(del.body)).toBe(200);
    expect(del.body).toMatchObject({ id, deleted: true, active: false, barcodes: [] });
    expect(await h.db.selectFrom('barcodes').selectAll().execute()).toEqual([]);
    expect(await h.db.selectFrom('products').select(['active']).where('id', '=', id).execute()).toEqual([{ active: 0 }]);
    expect((await changesAfter(h.db, h.a.orgId, head)).at(-1)?.data).toMatchObject({ id, active: false, barcodes: [] });
    // The code is free for another product now; deleting twice changes nothing.
    expect((await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Cup', sku: 'CUP', price: 200, currency: 'EUR', barcodes: ['4006381333931'] })).status).toBe(201);
    const snapshot = await dumpBackoffice(h.db);
    expect((await h.call(h.manager, 'DELETE', `/api/v1/products/${id}`)).status).toBe(200);
    expect(await dumpBackoffice(h.db)).toEqual(snapshot);
  });

  it('keeps organisations apart: another organisation’s product or category is a 404 everywhere', async () => {
    const h = await backofficeHarness(dbs, apps);
    const { categoryId, vatId } = await catalog(h);
    const mine = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Mine', sku: 'MINE', price: 1, currency: 'EUR', barcodes: ['5901234123457'] });
    const id = mine.body['id'] as string;
    const other = h.otherManager;
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/products/${id}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'PATCH', `/api/v1/products/${id}`, { price: 2 }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'DELETE', `/api/v1/products/${id}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/products?categoryId=${categoryId}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'POST', '/api/v1/products', { name: 'X', sku: 'X', price: 1, currency: 'EUR', categoryId }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'POST', '/api/v1/products', { name: 'X', sku: 'X', price: 1, currency: 'EUR', taxRateIds: [vatId] }), 404, 'not_found');
    const list = await h.call(other, 'GET', '/api/v1/products?q=MINE');
    expect(list.body).toMatchObject({ products: [], total: 0 });
    // Barcodes and SKUs are unique per organisation, not across them.
    const theirs = await h.call(other, 'POST', '/api/v1/products', { name: 'Mine', sku: 'MINE', price: 1, currency: 'EUR', barcodes: ['5901234123457'] });
    expect(theirs.status, JSON.stringify(theirs.body)).toBe(201);
    expect((await h.call(h.manager, 'GET', `/api/v1/products/${String(theirs.body['id'])}`)).status).toBe(404);
  });

  it('needs a session, the CSRF token on every change, and a manager or owner to change anything', async () => {
    const h = await backofficeHarness(dbs, apps);
    const made = await h.call(h.owner, 'POST', '/api/v1/products', { name: 'Owned', sku: 'OWN', price: 1, currency: 'EUR' });
    expect(made.status).toBe(201);
    const id = made.body['id'] as string;
    const body = { name: 'New', sku: 'NEW', price: 1, currency: 'EUR' };
    for (const [method, url, payload] of [
      ['POST', '/api/v1/products', body],
      ['PATCH', `/api/v1/products/${id}`, { price: 2 }],
      ['DELETE', `/api/v1/products/${id}`, undefined],
    ] as const) {
      await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), method, url, payload), 403, 'csrf_required');
      await expectRefused(h.db, () => h.call(h.cashier, method, url, payload), 403, 'forbidden');
      await expectRefused(h.db, () => h.call(null, method, url, payload), 401, 'unauthenticated');
    }
    expect((await h.call(h.cashier, 'GET', '/api/v1/products')).status).toBe(200);
    await expectRefused(h.db, () => h.call(null, 'GET', '/api/v1/products'), 401, 'unauthenticated');
  });
});
