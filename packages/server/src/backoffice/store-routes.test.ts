import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { describeDb } from '../testing/describe-db.js';
import { backofficeHarness, changesAfter, dumpBackoffice, expectRefused, logHead, T0, TEST_STORE_SETTINGS, withoutCsrf } from './backoffice-test-kit.js';

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

const PRICE_LAYOUT = { kind: 'price', currency: 'EUR', prefixes: ['22'], itemDigits: 5, valueDigits: 5, valueDecimals: 2, hasPriceCheckDigit: false };

describeDb('back office: stores', (dbs) => {
  it('lists and shows stores with the settings registers work by (defaults filled in)', async () => {
    const h = await backofficeHarness(dbs, apps);
    const res = await h.call(h.cashier, 'GET', '/api/v1/stores');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const settings = { ...TEST_STORE_SETTINGS, taxRounding: 'line', limits: { cashierDiscountLimitPpm: 100_000 } };
    expect(res.body).toEqual({
      stores: [
        { id: h.a.storeId, code: 'S01', name: 'acme S01', currency: 'EUR', locale: 'de-DE', settings, createdAt: T0, updatedAt: T0 },
        { id: h.a.otherStoreId, code: 'S02', name: 'acme S02', currency: 'EUR', locale: 'de-DE', settings, createdAt: T0, updatedAt: T0 },
      ],
    });
    expect((await h.call(h.manager, 'GET', `/api/v1/stores/${h.a.otherStoreId}`)).body).toMatchObject({ id: h.a.otherStoreId, code: 'S02' });
  });

  it('changes settings validated with core’s schemas: exact row, one store document in its store’s log, audit', async () => {
    const h = await backofficeHarness(dbs, apps);
    const head = await logHead(h.db, h.a.orgId);
    h.clock.advance(1000);
    const patch = {
      name: 'Main street',
      currency: 'CHF',
      locale: 'de-CH',
      taxMode: 'exclusive',
      taxRounding: 'order',
      cashRoundingMinor: 5,
      receiptHeader: ['Kassa AG', 'Main street 1'],
      variableMeasureLayouts: [TEST_STORE_SETTINGS.variableMeasureLayouts[0], { ...PRICE_LAYOUT, currency: 'CHF' }],
      limits: { cashierDiscountLimitPpm: 50_000, managerDiscountLimitPpm: 300_000, refundWithoutReceiptLimit: 5000 },
    };
    const res = await h.call(h.manager, 'PATCH', `/api/v1/stores/${h.a.storeId}`, patch);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { name, ...settings } = patch;
    expect(res.body).toEqual({ id: h.a.storeId, code: 'S01', name, currency: 'CHF', locale: 'de-CH', settings, createdAt: T0, updatedAt: T0 + 1000 });
    const row = await h.db.selectFrom('stores').selectAll().where('id', '=', h.a.storeId).executeTakeFirstOrThrow();
    expect({ ...row, settings_json: JSON.parse(row.settings_json) as unknown }).toEqual({
      id: h.a.storeId,
      org_id: h.a.orgId,
      code: 'S01',
      name: 'Main street',
      currency: 'CHF',
      locale: 'de-CH',
      settings_json: settings,
      created_at: T0,
      updated_at: T0 + 1000,
    });
    const changes = await changesAfter(h.db, h.a.orgId, head);
    expect(changes).toEqual([{ seq: head + 1, entity: 'store', entityId: h.a.storeId, storeId: h.a.storeId, op: 'upsert', data: { id: h.a.storeId, code: 'S01', name, currency: 'CHF', locale: 'de-CH', settings } }]);
    const audit = await h.db.selectFrom('audit_log').select(['store_id', 'actor_id', 'details_json']).where('action', '=', 'store.updated').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ store_id: h.a.storeId, actor_id: h.a.users.manager.id });
    expect(JSON.parse(audit[0]?.details_json ?? '{}')).toMatchObject({ name: { from: 'acme S01', to: 'Main street' }, settings: { currency: { from: 'EUR', to: 'CHF' }, taxRounding: { from: null, to: 'order' } } });

    // The same settings again change nothing.
    const before = await dumpBackoffice(h.db);
    expect((await h.call(h.manager, 'PATCH', `/api/v1/stores/${h.a.storeId}`, patch)).status).toBe(200);
    expect(await dumpBackoffice(h.db)).toEqual(before);
  });

  it('answers 400 with the issues for settings core would refuse, changing nothing', async () => {
    const h = await backofficeHarness(dbs, apps);
    const url = `/api/v1/stores/${h.a.storeId}`;
    for (const body of [
      {},
      { currency: 'EURO' },
      { currency: 'XXX' },
      { locale: 'not a locale' },
      { taxRounding: 'cent' },
      { cashRoundingMinor: 0 },
      { limits: { cashierDiscountLimitPpm: 200_000, managerDiscountLimitPpm: 100_000 } },
      { limits: { cashierDiscountLimitPpm: 2_000_000 } },
      { variableMeasureLayouts: [{ ...PRICE_LAYOUT, itemDigits: 4 }] },
      { variableMeasureLayouts: [PRICE_LAYOUT, { ...PRICE_LAYOUT, prefixes: ['221'], itemDigits: 4 }] },
      { receiptHeader: ['a\u0000'] },
      { code: 'S09' },
    ]) {
      const res = await expectRefused(h.db, () => h.call(h.manager, 'PATCH', url, body), 400, 'invalid_input');
      expect(res.body['details'], JSON.stringify(body)).toMatchObject({ issues: expect.any(Array) as unknown });
    }
  });

  it('keeps organisations apart, needs CSRF and a manager to change a store', async () => {
    const h = await backofficeHarness(dbs, apps);
    await expectRefused(h.db, () => h.call(h.otherManager, 'GET', `/api/v1/stores/${h.a.storeId}`), 404, 'not_found');
    await expectRefused(h.db, () => h.call(h.otherManager, 'PATCH', `/api/v1/stores/${h.a.storeId}`, { name: 'Mine now' }), 404, 'not_found');
    expect(((await h.call(h.otherManager, 'GET', '/api/v1/stores')).body['stores'] as { id: string }[]).map((s) => s.id).sort()).toEqual([h.b.storeId, h.b.otherStoreId].sort());
    await expectRefused(h.db, () => h.call(withoutCsrf(h.manager), 'PATCH', `/api/v1/stores/${h.a.storeId}`, { name: 'X' }), 403, 'csrf_required');
    await expectRefused(h.db, () => h.call(h.cashier, 'PATCH', `/api/v1/stores/${h.a.storeId}`, { name: 'X' }), 403, 'forbidden');
    await expectRefused(h.db, () => h.call(null, 'GET', '/api/v1/stores'), 401, 'unauthenticated');
  });
});
