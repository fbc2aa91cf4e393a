import { encodeHlc, OpSchema } from '@kassa/core';
import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { hlcAt } from '../sync/push/push-test-kit.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, dumpBackoffice, expectRefused, logHead, T0, withoutCsrf } from './backoffice-test-kit.js';
import type { BackofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const serverHlc = (ms: number, counter = 0) => encodeHlc({ wallMs: ms, counter, node: 'server' });

async function product(h: BackofficeHarness, sku: string) {
  const res = await h.call(h.manager, 'POST', '/api/v1/products', { name: `Product ${sku}`, sku, price: 100, currency: 'EUR' });
  expect(res.status).toBe(201);
  return res.body['id'] as string;
}

describeDb('back office: stock', (dbs) => {
  it('books an adjustment as a fact: movement, level, oversell alert, change log to the store, audit; the same request again changes nothing', async () => {
    const h = await backofficeHarness(dbs, apps);
    const mug = await product(h, 'MUG');
    h.clock.set(T0 + 5000);
    const head = await logHead(h.db, h.a.orgId);
    const body = { id: sampleId(501), storeId: h.a.storeId, type: 'stock.adjusted', payload: { movementId: sampleId(601), productId: mug, qtyDelta: -2000, reason: 'damaged', note: 'dropped' } };
    const res = await h.call(h.manager, 'POST', '/api/v1/stock/adjustments', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const op = {
      v: 1,
      id: sampleId(501),
      deviceId: h.a.users.manager.id,
      seq: 1,
      hlc: serverHlc(T0 + 5000),
      deviceTime: T0 + 5000,
      type: 'stock.adjusted',
      storeId: h.a.storeId,
      staffId: h.a.users.manager.id,
      payload: body.payload,
    };
    expect(OpSchema.parse(op)).toEqual(op);
    expect(res.body).toEqual({
      fact: { id: sampleId(501), storeId: h.a.storeId, type: 'stock.adjusted', seq: 1, hlc: serverHlc(T0 + 5000), createdAt: T0 + 5000, createdBy: h.a.users.manager.id, op },
      levels: [{ storeId: h.a.storeId, productId: mug, variantId: null, onHand: -2000, updatedAt: T0 + 5000, product: { sku: 'MUG', name: 'Product MUG' } }],
    });
    expect(await h.db.selectFrom('stock_movements').select(['store_id', 'id', 'op_id', 'kind', 'product_id', 'delta']).execute()).toEqual([
      { store_id: h.a.storeId, id: `adjusted:${sampleId(601)}`, op_id: sampleId(501), kind: 'adjustment', product_id: mug, delta: -2000 },
    ]);
    const facts = await h.db.selectFrom('backoffice_facts').select(['org_id', 'id', 'store_id', 'user_id', 'seq', 'type', 'op_json']).execute();
    expect(facts.map((f) => ({ ...f, op_json: JSON.parse(f.op_json) as unknown }))).toEqual([
      { org_id: h.a.orgId, id: sampleId(501), store_id: h.a.storeId, user_id: h.a.users.manager.id, seq: 1, type: 'stock.adjusted', op_json: op },
    ]);
    expect(await h.db.selectFrom('alerts').select(['kind', 'status', 'store_id']).execute()).toEqual([{ kind: 'oversell', status: 'open', store_id: h.a.storeId }]);
    expect(await changesAfter(h.db, h.a.orgId, head)).toEqual([{ seq: head + 1, entity: 'fact', entityId: sampleId(501), storeId: h.a.storeId, op: 'upsert', data: op }]);
    expect(await h.db.selectFrom('audit_log').select(['action', 'store_id', 'target_kind', 'target_id', 'details_json']).where('action', 'like', 'stock.%').execute()).toEqual([
      { action: 'stock.adjusted', store_id: h.a.storeId, target_kind: 'fact', target_id: sampleId(501), details_json: JSON.stringify({ products: [mug], qtyDelta: -2000, reason: 'damaged' }) },
    ]);

    // A retry of the same request (a lost answer) is recognised; another request under the id is not.
    h.clock.set(T0 + 6000);
    const before = await dumpBackoffice(h.db);
    const again = await h.call(h.manager, 'POST', '/api/v1/stock/adjustments', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(res.body);
    expect(await dumpBackoffice(h.db)).toEqual(before);
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/stock/adjustments', { ...body, payload: { ...body.payload, qtyDelta: -1000 } }), 409, 'id_in_use');
  });

  it('books a delivery, sums with a register’s adjustment, and lists levels by store and product', async () => {
    const h = await backofficeHarness(dbs, apps);
    const mug = await product(h, 'MUG');
    const cup = await product(h, 'CUP');
    h.clock.set(T0 + 10_000);
    const delivery = await h.call(h.owner, 'POST', '/api/v1/stock/adjustments', {
      id: sampleId(502),
      storeId: h.a.storeId,
      type: 'stock.received',
      payload: { movementId: sampleId(602), currency: 'EUR', supplierRef: 'DN-1', lines: [{ productId: mug, qty: 24_000, unitCost: 120 }, { productId: cup, qty: 6000 }] },
    });
    expect(delivery.status, JSON.stringify(delivery.body)).toBe(201);
    expect(delivery.body['levels']).toMatchObject([{ productId: cup, onHand: 6000 }, { productId: mug, onHand: 24_000 }].sort((a, b) => (a.productId < b.productId ? -1 : 1)));
    // A register's own adjustment of the same product adds up with it.
    const at = T0 + 20_000;
    const hlc = hlcAt(at, h.a.registers.r01);
    const registerOp = sampleOp('stock.adjusted', {
      id: sampleId(503),
      deviceId: h.a.registers.r01,
      storeId: h.a.storeId,
      staffId: h.a.staff.managerId,
      seq: 1,
      hlc,
      deviceTime: at,
      payload: { movementId: sampleId(603), productId: mug, qtyDelta: -4000, reason: 'theft' },
    });
    h.clock.set(T0 + 30_000);
    const pushed = await h.call({ bearer: h.deviceToken }, 'POST', '/api/v1/sync/push', { ops: [registerOp] });
    expect((pushed.body['results'] as { status: string }[]).map((r) => r.status)).toEqual(['applied']);
    const adjust = await h.call(h.manager, 'POST', '/api/v1/stock/adjustments', {
      id: sampleId(504),
      storeId: h.a.otherStoreId,
      type: 'stock.adjusted',
      payload: { movementId: sampleId(604), productId: mug, qtyDelta: 1000, reason: 'found' },
    });
    expect(adjust.body['fact']).toMatchObject({ seq: 1, createdBy: h.a.users.manager.id });

    const all = await h.call(h.cashier, 'GET', '/api/v1/stock');
    expect(all.status).toBe(200);
    const onHand = (all.body['levels'] as { storeId: string; productId: string; onHand: number }[]).map((l) => [l.storeId, l.productId, l.onHand]);
    expect(onHand.sort()).toEqual(
      [
        [h.a.storeId, mug, 20_000],
        [h.a.storeId, cup, 6000],
        [h.a.otherStoreId, mug, 1000],
      ].sort(),
    );
    expect(all.body).toMatchObject({ total: 3, limit: 50, offset: 0 });
    expect((await h.call(h.cashier, 'GET', `/api/v1/stock?storeId=${h.a.storeId}&productId=${mug}`)).body).toMatchObject({ levels: [{ onHand: 20_000 }], total: 1 });
    expect((await h.call(h.cashier, 'GET', `/api/v1/stock?productId=${mug}`)).body).toMatchObject({ total: 2 });
    expect(await h.db.selectFrom('backoffice_facts').select(['user_id', 'seq']).orderBy('created_at').execute()).toEqual([
      { user_id: h.a.users.owner.id, seq: 1 },
      { user_id: h.a.users.manager.id, seq: 1 },
    ]);
  });

  it('refuses bad input (400), unknown or foreign products and stores (404), and needs a manager with CSRF', async () => {
    const h = await backofficeHarness(dbs, apps);
    const mug = await product(h, 'MUG');
    const base = { id: sampleId(505), storeId: h.a.storeId, type: 'stock.adjusted' };
    const payload = { movementId: sampleId(605), productId: mug, qtyDelta: -1000, reason: 'damaged' };
    for (const body of [
      { ...base, payload: { ...payload, qtyDelta: 0 } },
      { ...base, payload: { ...payload, qtyDelta: 1.5 } },
      { ...base, payload: { ...payload, reason: 'other' } },
      { ...base, payload: { ...payload, note: 'a\u0000' } },
      { ...base, type: 'stock.counted', payload },
      { ...base, type: 'stock.received', payload: { movementId: sampleId(605), currency: 'EUR', lines: [] } },
      { ...base, id: 'one', payload },
      { ...base, payload, extra: 1 },
    ]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/stock/adjustments', body), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/stock/adjustments', { ...base, payload: { ...payload, productId: sampleId(999) } }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/stock/adjustments', { ...base, storeId: h.b.storeId, payload }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'POST', '/api/v1/stock/adjustments', { ...base, storeId: h.b.storeId, payload }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/stock?storeId=${h.a.storeId}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/stock?productId=${mug}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.cashier, 'POST', '/api/v1/stock/adjustments', { ...base, payload }), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', '/api/v1/stock/adjustments', { ...base, payload }), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call(null, 'GET', '/api/v1/stock'), 401, 'unauthenticated');
  });
});
