import { manualClock } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeDb } from '../testing/describe-db.js';
import { TEST_PASSWORD, createTestOrg, dumpTables, signIn, testApp } from './auth-test-kit.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describeDb('tenancy of auth, registers, staff and audit', (dbs) => {
  it('every route given another organisation’s ids answers 404 and changes nothing; lists show only the own org', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const db = storage.db;
    const clock = manualClock(T0);
    const a = await createTestOrg(db, T0, 'alpha');
    const b = await createTestOrg(db, T0, 'beta');
    const app = await testApp(storage, clock);
    apps.push(app);
    const owner = await signIn(app, b.users.owner.email);
    // A register of org B, to call the device route with.
    const code = await app.inject({ method: 'POST', url: '/api/v1/registers/pairing-codes', headers: owner.headers, payload: { storeId: b.storeId } });
    const paired = await app.inject({ method: 'POST', url: '/api/v1/registers/pair', payload: { code: code.json<{ code: string }>().code } });
    const bToken = paired.json<{ token: string }>().token;

    const before = await dumpTables(db);
    const attempts: { name: string; method: 'GET' | 'POST' | 'PATCH' | 'PUT'; url: string; payload?: Record<string, unknown>; auth?: boolean }[] = [
      { name: 'pairing code for A’s store', method: 'POST', url: '/api/v1/registers/pairing-codes', payload: { storeId: a.storeId } },
      { name: 'pair A’s store with B’s manager login', method: 'POST', url: '/api/v1/registers/pair', payload: { email: b.users.owner.email, password: TEST_PASSWORD, storeId: a.storeId, registerCode: 'R01' }, auth: false },
      { name: 'revoke A’s register', method: 'POST', url: `/api/v1/registers/${a.registers.r01}/revoke` },
      { name: 'list A’s store’s registers', method: 'GET', url: `/api/v1/registers?storeId=${a.storeId}` },
      { name: 'list A’s store’s staff', method: 'GET', url: `/api/v1/staff?storeId=${a.storeId}` },
      { name: 'add staff to A’s store', method: 'POST', url: '/api/v1/staff', payload: { name: 'Spy', role: 'cashier', storeId: a.storeId, pin: '1234' } },
      { name: 'edit A’s staff', method: 'PATCH', url: `/api/v1/staff/${a.staff.cashierId}`, payload: { role: 'manager' } },
      { name: 'set A’s staff PIN', method: 'PUT', url: `/api/v1/staff/${a.staff.cashierId}/pin`, payload: { pin: '1234' } },
    ];
    for (const attempt of attempts) {
      const res = await app.inject({
        method: attempt.method,
        url: attempt.url,
        ...(attempt.auth === false ? {} : { headers: owner.headers }),
        ...(attempt.payload === undefined ? {} : { payload: attempt.payload }),
      });
      expect(res.statusCode, `${attempt.name}: ${res.body}`).toBe(404);
      expect(res.json(), attempt.name).toMatchObject({ error: 'not_found' });
    }
    expect(await dumpTables(db)).toEqual(before);

    const registers = await app.inject({ method: 'GET', url: '/api/v1/registers', headers: { cookie: owner.cookie } });
    expect(registers.json<{ registers: { id: string }[] }>().registers.map((r) => r.id).sort()).toEqual([b.registers.r01, b.registers.r02].sort());
    const staff = await app.inject({ method: 'GET', url: '/api/v1/staff', headers: { cookie: owner.cookie } });
    expect(staff.json<{ staff: { id: string }[] }>().staff.map((s) => s.id).sort()).toEqual(Object.values(b.staff).sort());
    const auditLog = await app.inject({ method: 'GET', url: '/api/v1/audit?limit=500', headers: { cookie: owner.cookie } });
    const entries = auditLog.json<{ entries: { id: string }[] }>().entries;
    const bRows = await db.selectFrom('audit_log').select('id').where('org_id', '=', b.orgId).execute();
    expect(entries.map((e) => e.id).sort()).toEqual(bRows.map((r) => r.id).sort());
    expect(await db.selectFrom('audit_log').select('id').where('org_id', '=', a.orgId).execute()).toEqual([]);

    // The register's own route answers from its token alone.
    const me = await app.inject({ method: 'GET', url: '/api/v1/registers/me', headers: { authorization: `Bearer ${bToken}` } });
    expect(me.json()).toMatchObject({ deviceId: b.registers.r01, storeId: b.storeId });
  });
});
