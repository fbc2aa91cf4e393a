import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { clearAlerts, raiseAlert } from '../sync/apply/alerts.js';
import { describeDb } from '../testing/describe-db.js';
import { alertId } from './alert-routes.js';
import { backofficeHarness, dumpBackoffice, expectRefused, T0, withoutCsrf } from './backoffice-test-kit.js';
import type { BackofficeHarness } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** Alerts as the sync layer raises them: two of store S01, one of S02, one without a store, one of the other organisation. */
async function raiseSome(h: BackofficeHarness) {
  const oversell = `oversell:${h.a.registers.r01}@${h.a.storeId}`;
  const skew = `clock_skew:${h.a.registers.r01}`;
  const other = `oversell:p2@${h.a.otherStoreId}`;
  // Free text in a key (a gift-card code) is why ids are base64url.
  const balance = 'negative_balance:gift_card:GC%3A7/ü?#:EUR';
  await raiseAlert(h.db, h.a.orgId, { key: oversell, kind: 'oversell', storeId: h.a.storeId, data: { onHand: -2000 } }, T0);
  await raiseAlert(h.db, h.a.orgId, { key: skew, kind: 'clock_skew', storeId: h.a.storeId, registerId: h.a.registers.r01, data: { skewMs: 600_000 } }, T0 + 1000);
  await raiseAlert(h.db, h.a.orgId, { key: other, kind: 'oversell', storeId: h.a.otherStoreId, data: { onHand: -1000 } }, T0 + 2000);
  await raiseAlert(h.db, h.a.orgId, { key: balance, kind: 'negative_balance', data: { balance: -500 } }, T0 + 3000);
  await raiseAlert(h.db, h.b.orgId, { key: `oversell:x@${h.b.storeId}`, kind: 'oversell', storeId: h.b.storeId, data: {} }, T0);
  return { oversell, skew, other, balance };
}

const keys = (body: Record<string, unknown>) => (body['alerts'] as { key: string }[]).map((a) => a.key);

describeDb('back office: alerts', (dbs) => {
  it('lists the organisation’s alerts for managers (filters, paging) and its own store’s for a register', async () => {
    const h = await backofficeHarness(dbs, apps);
    const k = await raiseSome(h);
    const all = await h.call(h.manager, 'GET', '/api/v1/alerts');
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(keys(all.body)).toEqual([k.balance, k.other, k.skew, k.oversell]);
    expect((all.body['alerts'] as unknown[])[2]).toEqual({
      id: alertId(k.skew),
      key: k.skew,
      kind: 'clock_skew',
      status: 'open',
      storeId: h.a.storeId,
      registerId: h.a.registers.r01,
      data: { skewMs: 600_000 },
      occurrences: 1,
      firstSeenAt: T0 + 1000,
      lastSeenAt: T0 + 1000,
      acknowledgedAt: null,
      acknowledgedBy: null,
      resolvedAt: null,
      resolution: null,
    });
    expect(keys((await h.call(h.manager, 'GET', '/api/v1/alerts?kind=oversell')).body)).toEqual([k.other, k.oversell]);
    expect(keys((await h.call(h.manager, 'GET', `/api/v1/alerts?storeId=${h.a.storeId}`)).body)).toEqual([k.skew, k.oversell]);
    expect((await h.call(h.manager, 'GET', '/api/v1/alerts?limit=1&offset=1')).body).toMatchObject({ alerts: [{ key: k.other }], total: 4, limit: 1, offset: 1 });
    // A register sees its own store's alerts only.
    const device = await h.call({ bearer: h.deviceToken }, 'GET', '/api/v1/alerts');
    expect(device.status).toBe(200);
    expect(keys(device.body)).toEqual([k.skew, k.oversell]);
    expect(keys((await h.call({ bearer: h.deviceToken }, 'GET', `/api/v1/alerts?storeId=${h.a.otherStoreId}`)).body)).toEqual([k.skew, k.oversell]);
    expect(keys((await h.call({ bearer: h.otherDeviceToken }, 'GET', '/api/v1/alerts')).body)).toEqual([`oversell:x@${h.b.storeId}`]);
  });

  it('acknowledges (once) and resolves with a note, audited; an alert that comes back shows no stale note', async () => {
    const h = await backofficeHarness(dbs, apps);
    const k = await raiseSome(h);
    const id = alertId(k.balance);
    h.clock.set(T0 + 10_000);
    const ack = await h.call(h.manager, 'POST', `/api/v1/alerts/${id}/acknowledge`);
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect(ack.body).toMatchObject({ key: k.balance, status: 'open', acknowledgedAt: T0 + 10_000, acknowledgedBy: h.a.users.manager.id });
    h.clock.set(T0 + 11_000);
    const before = await dumpBackoffice(h.db);
    expect((await h.call(h.owner, 'POST', `/api/v1/alerts/${id}/acknowledge`)).body).toEqual(ack.body);
    expect(await dumpBackoffice(h.db)).toEqual(before);

    h.clock.set(T0 + 20_000);
    const resolved = await h.call(h.manager, 'POST', `/api/v1/alerts/${id}/resolve`, { note: 'card reissued' });
    expect(resolved.status, JSON.stringify(resolved.body)).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', resolvedAt: T0 + 20_000, resolution: { by: h.a.users.manager.id, note: 'card reissued' } });
    expect(await h.db.selectFrom('alert_resolutions').selectAll().execute()).toEqual([
      { org_id: h.a.orgId, alert_key: k.balance, resolved_at: T0 + 20_000, resolved_by: h.a.users.manager.id, note: 'card reissued' },
    ]);
    expect(await h.db.selectFrom('alerts').select(['status', 'resolved_at']).where('key', '=', k.balance).execute()).toEqual([{ status: 'resolved', resolved_at: T0 + 20_000 }]);
    const audit = await h.db.selectFrom('audit_log').select(['action', 'target_kind', 'target_id', 'details_json']).where('target_kind', '=', 'alert').orderBy('at').execute();
    expect(audit).toEqual([
      { action: 'alert.acknowledged', target_kind: 'alert', target_id: k.balance, details_json: JSON.stringify({ kind: 'negative_balance' }) },
      { action: 'alert.resolved', target_kind: 'alert', target_id: k.balance, details_json: JSON.stringify({ kind: 'negative_balance', note: 'card reissued' }) },
    ]);
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/alerts/${id}/resolve`, { note: 'again' }), 409, 'alert_resolved');
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/alerts/${id}/acknowledge`), 409, 'alert_resolved');
    expect(keys((await h.call(h.manager, 'GET', '/api/v1/alerts?status=resolved')).body)).toEqual([k.balance]);

    // The condition comes back: open again, acknowledgement and note gone; then it clears by itself.
    await raiseAlert(h.db, h.a.orgId, { key: k.balance, kind: 'negative_balance', data: { balance: -900 } }, T0 + 30_000);
    const reopened = (await h.call(h.manager, 'GET', '/api/v1/alerts?kind=negative_balance')).body['alerts'] as unknown[];
    expect(reopened).toMatchObject([{ status: 'open', occurrences: 2, acknowledgedAt: null, resolvedAt: null, resolution: null, data: { balance: -900 } }]);
    await clearAlerts(h.db, h.a.orgId, [k.balance], T0 + 40_000);
    const cleared = (await h.call(h.manager, 'GET', '/api/v1/alerts?status=all&kind=negative_balance')).body['alerts'] as unknown[];
    expect(cleared).toMatchObject([{ status: 'resolved', resolvedAt: T0 + 40_000, resolution: null }]);
  });

  it('keeps organisations apart, refuses bad input, and lets only managers (with CSRF) act', async () => {
    const h = await backofficeHarness(dbs, apps);
    const k = await raiseSome(h);
    const id = alertId(k.oversell);
    await expectRefused(h.db, () => h.call(h.otherManager, 'POST', `/api/v1/alerts/${id}/acknowledge`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'POST', `/api/v1/alerts/${id}/resolve`, { note: 'mine' }), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/alerts?storeId=${h.a.storeId}`), 404, 'not_found');
    expect(keys((await h.call(h.otherManager, 'GET', '/api/v1/alerts')).body)).toEqual([`oversell:x@${h.b.storeId}`]);
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/alerts/${alertId('no such key')}/acknowledge`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.manager, 'POST', '/api/v1/alerts/not+base64/acknowledge'), 400, 'invalid_input');
    // base64url of a NUL character: refused before it reaches PostgreSQL.
    await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/alerts/${alertId('\u0000')}/acknowledge`), 400, 'invalid_input');
    for (const body of [{}, { note: '' }, { note: 'x\u0000' }, { note: 'ok', extra: true }]) {
      await expectRefused(h.db, () => h.call(h.manager, 'POST', `/api/v1/alerts/${id}/resolve`, body), 400, 'invalid_input');
    }
    for (const query of ['?status=closed', '?kind=Oversell!', '?storeId=S01', '?limit=1000']) {
      await expectRefused(h.db, () => h.call(h.manager, 'GET', `/api/v1/alerts${query}`), 400, 'invalid_input');
    }
    await expectRefused(h.db, () => h.call(h.cashier, 'GET', '/api/v1/alerts'), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(h.cashier, 'POST', `/api/v1/alerts/${id}/acknowledge`), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', `/api/v1/alerts/${id}/acknowledge`), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'POST', `/api/v1/alerts/${id}/resolve`, { note: 'x' }), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call({ bearer: h.deviceToken }, 'POST', `/api/v1/alerts/${id}/resolve`, { note: 'x' }), 401, 'unauthenticated');
    await expectRefused(h.db, () => h.call(null, 'GET', '/api/v1/alerts'), 401, 'unauthenticated');
  });
});
