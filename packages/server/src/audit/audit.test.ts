import { manualClock } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { createTestOrg, signIn, testApp } from '../auth/auth-test-kit.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeDb } from '../testing/describe-db.js';
import { AuditSecretError, audit } from './audit.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

interface Entry {
  id: string;
  at: number;
  action: string;
  actorType: string;
  actorId: string | null;
  target: { kind: string; id: string } | null;
  details: Record<string, unknown>;
  storeId: string | null;
}

describeDb('audit log', (dbs) => {
  it('writes rows with the action’s facts and refuses secret-looking details', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const id = await audit(storage.db, {
      orgId: org.orgId,
      storeId: org.storeId,
      actorType: 'user',
      actorId: org.users.owner.id,
      action: 'register.revoked',
      target: { kind: 'register', id: org.registers.r01 },
      details: { registerCode: 'R01' },
      at: T0,
    });
    expect(await storage.db.selectFrom('audit_log').selectAll().execute()).toEqual([
      {
        id,
        org_id: org.orgId,
        store_id: org.storeId,
        actor_kind: 'user',
        actor_id: org.users.owner.id,
        action: 'register.revoked',
        target_kind: 'register',
        target_id: org.registers.r01,
        details_json: '{"registerCode":"R01"}',
        at: T0,
      },
    ]);
    for (const key of ['pin', 'newPin', 'password', 'token', 'pairingCode', 'pinHash']) {
      await expect(audit(storage.db, { orgId: org.orgId, actorType: 'system', actorId: null, action: 'staff.pin_changed', details: { [key]: 'x' }, at: T0 })).rejects.toThrow(AuditSecretError);
    }
    expect(await storage.db.selectFrom('audit_log').select('id').execute()).toHaveLength(1);
  });

  it('GET /api/v1/audit lists the organisation’s entries newest first, paged and filtered; managers only', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const clock = manualClock(T0);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const app = await testApp(storage, clock);
    apps.push(app);
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      await signIn(app, org.users.owner.email);
    }
    clock.advance(1000);
    const manager = await signIn(app, org.users.manager.email);

    const all: Entry[] = [];
    let url = '/api/v1/audit?limit=2';
    for (;;) {
      const res = await app.inject({ method: 'GET', url, headers: { cookie: manager.cookie } });
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json<{ entries: Entry[]; next: string | null }>();
      expect(page.entries.length).toBeLessThanOrEqual(2);
      all.push(...page.entries);
      if (page.next === null) break;
      url = `/api/v1/audit?limit=2&before=${encodeURIComponent(page.next)}`;
    }
    expect(all).toHaveLength(6);
    expect(all.map((e) => e.at)).toEqual([6, 5, 4, 3, 2, 1].map((s) => T0 + s * 1000));
    expect(all[0]).toMatchObject({ action: 'auth.login_succeeded', actorType: 'user', actorId: org.users.manager.id, target: { kind: 'session' }, details: { ip: '127.0.0.1' } });

    const filtered = await app.inject({ method: 'GET', url: '/api/v1/audit?action=auth.login_failed', headers: { cookie: manager.cookie } });
    expect(filtered.json()).toEqual({ entries: [], next: null });
    for (const query of ['before=yesterday', 'action=%00', 'limit=0', 'limit=501', 'other=1']) {
      const bad = await app.inject({ method: 'GET', url: `/api/v1/audit?${query}`, headers: { cookie: manager.cookie } });
      expect(bad.statusCode, query).toBe(400);
    }
    const cashier = await signIn(app, org.users.cashier.email);
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit', headers: { cookie: cashier.cookie } })).statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/audit' })).statusCode).toBe(401);
  });
});
