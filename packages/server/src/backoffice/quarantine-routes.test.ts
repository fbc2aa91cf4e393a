import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import type { OpType } from '@kassa/core';
import type { SampleOpOverrides } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { recordStaffRole } from '../staff/staff-roles.js';
import { hlcAt } from '../sync/push/push-test-kit.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, dumpBackoffice, expectRefused, logHead, T0, withoutCsrf } from './backoffice-test-kit.js';
import type { BackofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** An op of register R01 of organisation `a`, made at T0 + seq seconds. */
function op<T extends OpType>(h: BackofficeHarness, type: T, seq: number, staffId: string, payload: SampleOpOverrides<T>['payload']) {
  const at = T0 + seq * 1000;
  return sampleOp(type, {
    id: sampleId(8000 + seq),
    deviceId: h.a.registers.r01,
    storeId: h.a.storeId,
    staffId,
    seq,
    hlc: hlcAt(at, h.a.registers.r01),
    deviceTime: at,
    payload,
  } as unknown as SampleOpOverrides<T>);
}

/**
 * A product, then four ops of R01 that the push quarantines: a cashier's stock adjustment and
 * product rename (cashiers may do neither), an adjustment by nothing (invalid), and one by a staff
 * member the server does not know.
 */
async function quarantineSome(h: BackofficeHarness) {
  const product = await h.call(h.manager, 'POST', '/api/v1/products', { name: 'Mug', sku: 'MUG', price: 250, currency: 'EUR' });
  const productId = product.body['id'] as string;
  const cashier = h.a.staff.cashierId;
  const ops = [
    op(h, 'stock.adjusted', 1, cashier, { movementId: sampleId(9001), productId, qtyDelta: -2000, reason: 'damaged' }),
    op(h, 'product.edited', 2, cashier, { productId, writes: [{ field: 'name', value: 'Big mug', hlc: hlcAt(T0 + 2000, h.a.registers.r01), base: null }] }),
    op(h, 'stock.adjusted', 3, cashier, { movementId: sampleId(9003), productId, qtyDelta: 0, reason: 'damaged' }),
    op(h, 'stock.adjusted', 4, sampleId(4242), { movementId: sampleId(9004), productId, qtyDelta: 1000, reason: 'found' }),
  ];
  h.clock.set(T0 + 60_000);
  const res = await h.call({ bearer: h.deviceToken }, 'POST', '/api/v1/sync/push', { ops });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect((res.body['results'] as { status: string; reason?: string }[]).map((r) => [r.status, r.reason])).toEqual([
    ['quarantined', 'forbidden'],
    ['quarantined', 'forbidden'],
    ['quarantined', 'invalid'],
    ['quarantined', 'forbidden'],
  ]);
  const rows = await h.db.selectFrom('quarantine').select(['id', 'seq']).orderBy('seq').execute();
  const ids = rows.map((r) => r.id);
  return { productId, ops, adjust: ids[0] ?? '', rename: ids[1] ?? '', invalid: ids[2] ?? '', unknownStaff: ids[3] ?? '' };
}

const openQuarantineAlerts = async (h: BackofficeHarness) =>
  (await h.db.selectFrom('alerts').select('key').where('kind', '=', 'quarantine').where('status', '=', 'open').orderBy('key').execute()).map((a) => a.key);

describeDb('back office: quarantine', (dbs) => {
  it('lists quarantined ops for managers (with the op and why) and a register’s own for it', async () => {
    const h = await backofficeHarness(dbs, apps);
    const q = await quarantineSome(h);
    const list = await h.call(h.manager, 'GET', '/api/v1/quarantine');
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body).toMatchObject({ total: 4, limit: 50, offset: 0 });
    const items = list.body['quarantine'] as Record<string, unknown>[];
    expect(items.map((i) => i['id']).sort()).toEqual([q.adjust, q.rename, q.invalid, q.unknownStaff].sort());
    const adjust = items.find((i) => i['id'] === q.adjust);
    expect(adjust).toEqual({
      id: q.adjust,
      storeId: h.a.storeId,
      registerId: h.a.registers.r01,
      seq: 1,
      opId: sampleId(8001),
      opType: 'stock.adjusted',
      reason: 'forbidden',
      details: expect.objectContaining({ denial: expect.objectContaining({ action: 'stock_adjust', role: 'cashier', reason: 'not_permitted' }) }) as unknown,
      op: JSON.parse(JSON.stringify(q.ops[0])) as unknown,
      receivedAt: T0 + 60_000,
      status: 'open',
      resolvedAt: null,
      resolvedBy: null,
      actions: [],
    });
    expect((await h.call(h.manager, 'GET', `/api/v1/quarantine/${q.adjust}`)).body).toEqual(adjust);
    expect((await h.call({ bearer: h.deviceToken }, 'GET', '/api/v1/quarantine')).body).toMatchObject({ total: 4 });
    expect((await h.call({ bearer: h.otherDeviceToken }, 'GET', '/api/v1/quarantine')).body).toMatchObject({ quarantine: [], total: 0 });
    expect((await h.call(h.manager, 'GET', `/api/v1/quarantine?registerId=${h.a.registers.r02}`)).body).toMatchObject({ total: 0 });
    expect((await h.call(h.manager, 'GET', `/api/v1/quarantine?storeId=${h.a.storeId}&status=all`)).body).toMatchObject({ total: 4 });
  });

  it('dismisses with a note: closed, alert cleared, recorded and audited; the op stays unapplied', async () => {
    const h = await backofficeHarness(dbs, apps);
    const q = await quarantineSome(h);
    h.clock.set(T0 + 70_000);
    const res = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.invalid}/dismiss`, { note: 'register bug, adjusted by hand' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      id: q.invalid,
      status: 'dismissed',
      resolvedAt: T0 + 70_000,
      resolvedBy: h.a.users.manager.id,
      actions: [{ action: 'dismissed', note: 'register bug, adjusted by hand', outcome: { status: 'dismissed' }, by: h.a.users.manager.id, at: T0 + 70_000 }],
    });
    expect(await openQuarantineAlerts(h)).toEqual([`quarantine:${q.adjust}`, `quarantine:${q.rename}`, `quarantine:${q.unknownStaff}`].sort());
    expect(await h.db.selectFrom('sync_ops').select(['seq', 'status']).where('seq', '=', 3).execute()).toEqual([{ seq: 3, status: 'quarantined' }]);
    expect(await h.db.selectFrom('audit_log').select(['action', 'target_id', 'details_json']).where('action', '=', 'quarantine.dismissed').execute()).toEqual([
      { action: 'quarantine.dismissed', target_id: q.invalid, details_json: JSON.stringify({ opId: sampleId(8003), reason: 'invalid', note: 'register bug, adjusted by hand' }) },
    ]);
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/quarantine/${q.invalid}/dismiss`, { note: 'again' }), 409, 'quarantine_closed');
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/quarantine/${q.invalid}/retry`, {}), 409, 'quarantine_closed');
    expect((await h.call(h.manager, 'GET', '/api/v1/quarantine?status=dismissed')).body).toMatchObject({ total: 1, quarantine: [{ id: q.invalid }] });
  });

  it('retries after a fix of the role history: applied like a push (fact, stock, change log), journal row applied, alert cleared', async () => {
    const h = await backofficeHarness(dbs, apps);
    const q = await quarantineSome(h);
    h.clock.set(T0 + 70_000);

    // Nothing fixed yet: still forbidden; the attempt is recorded and nothing else changes.
    const factsBefore = await dumpBackoffice(h.db);
    const first = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, { note: 'try again' });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body['outcome']).toMatchObject({ status: 'still_quarantined', reason: 'forbidden', denial: { action: 'stock_adjust', role: 'cashier' } });
    expect(first.body['quarantine']).toMatchObject({ status: 'open', actions: [{ action: 'retry_failed', note: 'try again', outcome: { status: 'still_quarantined', reason: 'forbidden' } }] });
    const after = await dumpBackoffice(h.db);
    for (const table of ['facts', 'stock_levels', 'stock_movements', 'change_log', 'sync_ops', 'quarantine', 'alerts'] as const) expect(after[table], table).toEqual(factsBefore[table]);

    // The fix: the person was a manager all along (their role history is corrected).
    await recordStaffRole(h.db, { orgId: h.a.orgId, staffId: h.a.staff.cashierId, role: 'manager', effectiveFrom: T0 });
    const head = await logHead(h.db, h.a.orgId);
    h.clock.set(T0 + 80_000);
    const res = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body['outcome']).toEqual({ status: 'applied', opType: 'stock.adjusted', clamped: false, approvedBy: null, message: 'applied' });
    expect(res.body['quarantine']).toMatchObject({ status: 'retried', resolvedAt: T0 + 80_000, resolvedBy: h.a.users.manager.id });
    expect(await h.db.selectFrom('facts').select(['id', 'register_id', 'seq', 'type', 'store_id']).execute()).toEqual([
      { id: sampleId(8001), register_id: h.a.registers.r01, seq: 1, type: 'stock.adjusted', store_id: h.a.storeId },
    ]);
    expect(await h.db.selectFrom('stock_levels').select(['store_id', 'product_id', 'variant_id', 'on_hand']).execute()).toEqual([
      { store_id: h.a.storeId, product_id: q.productId, variant_id: '', on_hand: -2000 },
    ]);
    expect(await h.db.selectFrom('sync_ops').select(['seq', 'status']).orderBy('seq').execute()).toEqual([
      { seq: 1, status: 'applied' },
      { seq: 2, status: 'quarantined' },
      { seq: 3, status: 'quarantined' },
      { seq: 4, status: 'quarantined' },
    ]);
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes.map((c) => [c.entity, c.entityId, c.storeId, c.op])).toEqual([['fact', sampleId(8001), h.a.storeId, 'upsert']]);
    expect(await openQuarantineAlerts(h)).toEqual([`quarantine:${q.rename}`, `quarantine:${q.invalid}`, `quarantine:${q.unknownStaff}`].sort());
    // What happened at the till applies with its consequences: stock below zero is an oversell alert.
    expect(await h.db.selectFrom('alerts').select(['kind', 'status']).where('kind', '=', 'oversell').execute()).toEqual([{ kind: 'oversell', status: 'open' }]);
    expect(await h.db.selectFrom('audit_log').select(['details_json']).where('action', '=', 'quarantine.retried').orderBy('at').execute()).toEqual([
      { details_json: JSON.stringify({ opId: sampleId(8001), outcome: 'still_quarantined', why: 'forbidden', note: 'try again' }) },
      { details_json: JSON.stringify({ opId: sampleId(8001), outcome: 'applied', approved: false }) },
    ]);
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, {}), 409, 'quarantine_closed');
  });

  it('retries with a manager’s approval given now; an invalid op and an unknown staff member stay quarantined', async () => {
    const h = await backofficeHarness(dbs, apps);
    const q = await quarantineSome(h);
    h.clock.set(T0 + 70_000);
    const invalid = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.invalid}/retry`, { approve: true });
    expect(invalid.body['outcome']).toMatchObject({ status: 'still_quarantined', reason: 'invalid' });
    const unknown = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.unknownStaff}/retry`, { approve: true });
    expect(unknown.body['outcome']).toMatchObject({ status: 'still_quarantined', reason: 'forbidden', denial: { reason: 'unknown_staff' } });

    const head = await logHead(h.db, h.a.orgId);
    const res = await h.call(h.manager, 'POST', `/api/v1/quarantine/${q.rename}/retry`, { approve: true, note: 'approved the rename' });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body['outcome']).toEqual({ status: 'applied', opType: 'product.edited', clamped: false, approvedBy: h.a.users.manager.id, message: 'applied with the approval given in the back office' });
    expect(await h.db.selectFrom('products').select('name').where('id', '=', q.productId).execute()).toEqual([{ name: 'Big mug' }]);
    expect((await changesAfter(h.db, h.a.orgId, head)).map((c) => [c.entity, c.entityId, c.data['name']])).toEqual([['product', q.productId, 'Big mug']]);
    expect(await h.db.selectFrom('sync_ops').select('status').where('seq', '=', 2).execute()).toEqual([{ status: 'applied' }]);
  });

  it('keeps organisations apart, refuses bad input, and lets only managers (with CSRF) act', async () => {
    const h = await backofficeHarness(dbs, apps);
    const q = await quarantineSome(h);
    const other = h.otherManager;
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/quarantine/${q.adjust}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'POST', `/api/v1/quarantine/${q.adjust}/dismiss`, { note: 'x' }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, { approve: true }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/quarantine?storeId=${h.a.storeId}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(other, 'GET', `/api/v1/quarantine?registerId=${h.a.registers.r01}`), 404, 'not_found');
    expect((await h.call(other, 'GET', '/api/v1/quarantine')).body).toMatchObject({ total: 0 });
    for (const body of [{}, { note: '' }, { note: 'x', extra: 1 }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/quarantine/${q.adjust}/dismiss`, body), 400, 'invalid_input');
    }
    for (const body of [{ approve: 'yes' }, { note: 'a\u0000' }, { force: true }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, body), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/quarantine/nope/dismiss', { note: 'x' }), 400, 'invalid_input');
    await expectRefused(h.db, () => h.call(h.cashier, 'GET', '/api/v1/quarantine'), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(h.cashier, 'POST', `/api/v1/quarantine/${q.adjust}/retry`, {}), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', `/api/v1/quarantine/${q.adjust}/retry`, {}), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', `/api/v1/quarantine/${q.adjust}/dismiss`, { note: 'x' }), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call({ bearer: h.deviceToken }, 'POST', `/api/v1/quarantine/${q.adjust}/dismiss`, { note: 'x' }), 401, 'unauthenticated');
  });
});
