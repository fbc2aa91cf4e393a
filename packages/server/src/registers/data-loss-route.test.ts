import { manualClock } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { createTestOrg, dumpTables, signIn, testApp } from '../auth/auth-test-kit.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeDb } from '../testing/describe-db.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describeDb('registers: a register reports a lost database', (dbs) => {
  async function setup() {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const clock = manualClock(T0);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const app = await testApp(storage, clock, {});
    apps.push(app);
    const manager = await signIn(app, org.users.manager.email);
    const codeRes = await app.inject({ method: 'POST', url: '/api/v1/registers/pairing-codes', headers: manager.headers, payload: { storeId: org.storeId } });
    const paired = (await app.inject({ method: 'POST', url: '/api/v1/registers/pair', payload: { code: codeRes.json<{ code: string }>().code } })).json<{ deviceId: string; registerCode: string; storeCode: string; token: string }>();
    await storage.db.updateTable('registers').set({ last_seq: 40, last_receipt_number: 17 }).where('id', '=', paired.deviceId).execute();
    const report = (payload: unknown, token = paired.token) =>
      app.inject({ method: 'POST', url: '/api/v1/registers/me/data-loss', headers: { authorization: `Bearer ${token}` }, payload: payload as Record<string, unknown> });
    return { storage, app, manager, paired, report };
  }

  it('raises one register_data_loss alert naming the seqs and receipts the server never got; a repeat is the same alert', async () => {
    const { app, manager, paired, report } = await setup();
    const receipt = `${paired.storeCode}-${paired.registerCode}-000021`;
    const body = { reason: 'missing', localLastSeq: 46, localLastReceiptNo: receipt, detectedAt: T0 - 5 };
    const res = await report(body);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ alertKey: `register_data_loss:${paired.deviceId}:${String(T0 - 5)}`, serverLastSeq: 40, serverLastReceiptNumber: 17, serverTime: T0 });
    expect((await report(body)).statusCode).toBe(200);
    const alerts = (await app.inject({ method: 'GET', url: '/api/v1/alerts?kind=register_data_loss', headers: manager.headers })).json<{ alerts: { kind: string; registerId: string; occurrences: number; data: unknown }[] }>().alerts;
    expect(alerts).toMatchObject([
      {
        kind: 'register_data_loss',
        registerId: paired.deviceId,
        occurrences: 2,
        data: { reason: 'missing', localLastSeq: 46, serverLastSeq: 40, missingSeqs: { from: 41, to: 46, count: 6 }, localLastReceiptNo: receipt, serverLastReceiptNumber: 17, missingReceipts: 4 },
      },
    ]);
    // The register sees it too (its store's alerts).
    const own = (await app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${paired.token}` } })).json<{ alerts: { kind: string }[] }>();
    expect(own.alerts.map((a) => a.kind)).toContain('register_data_loss');
  });

  it('refuses bad input with 400 and a stranger with 401, changing nothing', async () => {
    const { storage, paired, report } = await setup();
    const alertRows = () => storage.db.selectFrom('alerts').selectAll().execute();
    const before = { tables: await dumpTables(storage.db), alerts: await alertRows() };
    for (const bad of [
      {},
      { reason: 'gone', localLastSeq: 1, localLastReceiptNo: null, detectedAt: 1 },
      { reason: 'missing', localLastSeq: -1, localLastReceiptNo: null, detectedAt: 1 },
      { reason: 'missing', localLastSeq: 1, localLastReceiptNo: 'not a receipt', detectedAt: 1 },
      { reason: 'missing', localLastSeq: 1, localLastReceiptNo: `${paired.storeCode}-R99-000001`, detectedAt: 1 },
      { reason: 'missing', localLastSeq: 1, localLastReceiptNo: null, detectedAt: 1, extra: true },
    ]) {
      const res = await report(bad);
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json()).toMatchObject({ error: expect.any(String) as string, message: expect.any(String) as string });
    }
    expect((await report({ reason: 'missing', localLastSeq: 1, localLastReceiptNo: null, detectedAt: 1 }, 'x'.repeat(43))).statusCode).toBe(401);
    expect({ tables: await dumpTables(storage.db), alerts: await alertRows() }).toEqual(before);
  });
});
