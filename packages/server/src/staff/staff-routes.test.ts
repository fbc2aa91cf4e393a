import { Writable } from 'node:stream';
import { manualClock } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { TEST_PIN, createTestOrg, dumpTables, signIn, testApp } from '../auth/auth-test-kit.js';
import { migrateToLatest } from '../db/migrations.js';
import { createLogger } from '../http/logger.js';
import { PIN_ITERATIONS, PIN_KDF, verifyPin } from '../security/pin-verifier.js';
import { createLocalChangeFeed } from '../sync/change-feed.js';
import { readChanges } from '../sync/change-log.js';
import { describeDb } from '../testing/describe-db.js';
import { staffDocument } from './staff-doc.js';
import { staffRoleAt } from './staff-roles.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
/** A PIN no fixture uses, so finding it anywhere means it leaked. */
const NEW_PIN = '493817';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

interface StaffView {
  id: string;
  storeId: string;
  name: string;
  role: string;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

describeDb('staff and PINs', (dbs) => {
  async function setup() {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const clock = manualClock(T0);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const changeFeed = createLocalChangeFeed();
    const published: string[] = [];
    changeFeed.subscribe(org.orgId, () => published.push(org.orgId));
    const app: App = await testApp(storage, clock, { changeFeed, logger: createLogger('trace', sink) });
    closers.push(async () => {
      await app.close();
      await changeFeed.close();
    });
    const owner = await signIn(app, org.users.owner.email);
    const manager = await signIn(app, org.users.manager.email);
    return { db: storage.db, clock, org, app, owner, manager, lines, published };
  }

  it('adds a staff member: PBKDF2 verifier stored, PIN nowhere (no column, no log), role history, audit, change log + wake-up', async () => {
    const { db, org, app, manager, lines, published } = await setup();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/staff',
      headers: manager.headers,
      payload: { name: 'Mia Schulz', role: 'cashier', storeId: org.storeId, pin: NEW_PIN },
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json<StaffView>();
    expect(created).toEqual({ id: expect.any(String) as string, storeId: org.storeId, name: 'Mia Schulz', role: 'cashier', active: true, createdAt: T0, updatedAt: T0 });
    expect(res.body).not.toContain(NEW_PIN);
    expect(res.body).not.toMatch(/pin|salt|hash/i);

    const row = await db.selectFrom('staff').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ org_id: org.orgId, pin_kdf: PIN_KDF, pin_iterations: PIN_ITERATIONS });
    expect(Buffer.from(row.pin_salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(row.pin_hash, 'base64')).toHaveLength(32);
    expect(await verifyPin(NEW_PIN, { kdf: PIN_KDF, iterations: row.pin_iterations, salt: row.pin_salt, hash: row.pin_hash })).toBe(true);

    expect(JSON.stringify(await dumpTables(db))).not.toContain(NEW_PIN);
    const log = lines.join('');
    expect(log).toContain('/api/v1/staff');
    expect(log).not.toContain(NEW_PIN);

    expect(await db.selectFrom('staff_role_history').selectAll().where('staff_id', '=', created.id).execute()).toEqual([
      { org_id: org.orgId, staff_id: created.id, role: 'cashier', effective_from: T0 },
    ]);
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'staff.created').execute();
    expect(audit).toMatchObject([{ org_id: org.orgId, store_id: org.storeId, actor_id: org.users.manager.id, target_kind: 'staff', target_id: created.id }]);
    expect(JSON.parse(audit[0]?.details_json ?? '')).toEqual({ name: 'Mia Schulz', role: 'cashier' });

    const changes = await readChanges(db, org.orgId, { after: 0, upTo: 1e9, storeId: null, limit: 100 });
    expect(changes).toMatchObject([{ seq: 1, entity: 'staff', entityId: created.id, storeId: org.storeId, op: 'upsert', data: staffDocument(row), at: T0 }]);
    expect(published).toEqual([org.orgId]);
  });

  it('sets a PIN: new verifier (old PIN fails), audited, logged for the store, PIN never stored or logged', async () => {
    const { db, org, app, manager, lines, published } = await setup();
    const res = await app.inject({ method: 'PUT', url: `/api/v1/staff/${org.staff.cashierId}/pin`, headers: manager.headers, payload: { pin: NEW_PIN } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: org.staff.cashierId, role: 'cashier', active: true });
    const row = await db.selectFrom('staff').selectAll().where('id', '=', org.staff.cashierId).executeTakeFirstOrThrow();
    const verifier = { kdf: PIN_KDF as typeof PIN_KDF, iterations: row.pin_iterations, salt: row.pin_salt, hash: row.pin_hash };
    expect(await verifyPin(NEW_PIN, verifier)).toBe(true);
    expect(await verifyPin(TEST_PIN, verifier)).toBe(false);
    expect(JSON.stringify(await dumpTables(db))).not.toContain(NEW_PIN);
    expect(lines.join('')).not.toContain(NEW_PIN);
    const audit = await db.selectFrom('audit_log').select(['action', 'target_id', 'details_json']).where('action', '=', 'staff.pin_changed').execute();
    expect(audit).toEqual([{ action: 'staff.pin_changed', target_id: org.staff.cashierId, details_json: '{}' }]);
    const changes = await readChanges(db, org.orgId, { after: 0, upTo: 1e9, storeId: org.storeId, limit: 100 });
    expect(changes.map((c) => [c.entity, c.entityId, c.data])).toEqual([['staff', org.staff.cashierId, staffDocument(row)]]);
    // Another store's registers do not receive it.
    expect(await readChanges(db, org.orgId, { after: 0, upTo: 1e9, storeId: org.otherStoreId, limit: 100 })).toEqual([]);
    expect(published).toEqual([org.orgId]);
  });

  it('refuses a malformed PIN or body with 400 and changes nothing', async () => {
    const { db, org, app, manager } = await setup();
    const before = await dumpTables(db);
    for (const pin of ['123', '12a4', '1234567', '', ' 1234', 1234]) {
      const res = await app.inject({ method: 'PUT', url: `/api/v1/staff/${org.staff.cashierId}/pin`, headers: manager.headers, payload: { pin } });
      expect(res.statusCode, String(pin)).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_input' });
    }
    for (const payload of [
      { name: 'X', role: 'boss', storeId: org.storeId, pin: '1234' },
      { name: '', role: 'cashier', storeId: org.storeId, pin: '1234' },
      { name: 'X', role: 'cashier', storeId: org.storeId, pin: '1234', extra: true },
      { name: 'Nul\u0000', role: 'cashier', storeId: org.storeId, pin: '1234' },
    ]) {
      expect((await app.inject({ method: 'POST', url: '/api/v1/staff', headers: manager.headers, payload })).statusCode).toBe(400);
    }
    expect((await app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.cashierId}`, headers: manager.headers, payload: {} })).statusCode).toBe(400);
    expect((await app.inject({ method: 'PATCH', url: '/api/v1/staff/not-a-uuid', headers: manager.headers, payload: { name: 'A' } })).statusCode).toBe(400);
    expect(await dumpTables(db)).toEqual(before);
  });

  it('changes a role: history row, staffRoleAt before and after, audit from→to, change log', async () => {
    const { db, clock, org, app, manager, published } = await setup();
    clock.advance(3600_000);
    const res = await app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.cashierId}`, headers: manager.headers, payload: { role: 'manager', name: 'Promoted' } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ role: 'manager', name: 'Promoted', updatedAt: T0 + 3600_000 });
    expect(await staffRoleAt(db, org.orgId, org.staff.cashierId, T0 + 3600_000 - 1)).toBe('cashier');
    expect(await staffRoleAt(db, org.orgId, org.staff.cashierId, T0 + 3600_000)).toBe('manager');
    const audit = await db.selectFrom('audit_log').select(['action', 'details_json']).where('target_id', '=', org.staff.cashierId).orderBy('action').execute();
    expect(audit).toEqual([
      { action: 'staff.role_changed', details_json: JSON.stringify({ from: 'cashier', to: 'manager' }) },
      { action: 'staff.updated', details_json: JSON.stringify({ name: { from: 'acme cashier staff', to: 'Promoted' } }) },
    ]);
    const changes = await readChanges(db, org.orgId, { after: 0, upTo: 1e9, storeId: null, limit: 100 });
    expect(changes).toMatchObject([{ entity: 'staff', entityId: org.staff.cashierId, data: { role: 'manager', name: 'Promoted', active: true } }]);

    // Deactivating reaches the registers as an upsert with active: false (they lock the person out).
    await app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.cashierId}`, headers: manager.headers, payload: { active: false } });
    const latest = await readChanges(db, org.orgId, { after: 1, upTo: 1e9, storeId: null, limit: 100 });
    expect(latest).toMatchObject([{ op: 'upsert', data: { active: false } }]);
    // A patch that changes nothing writes nothing.
    const before = await dumpTables(db);
    const same = await app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.cashierId}`, headers: manager.headers, payload: { active: false, role: 'manager' } });
    expect(same.statusCode).toBe(200);
    expect(await dumpTables(db)).toEqual(before);
    expect(published).toEqual([org.orgId, org.orgId]);
  });

  it('only an owner gives, takes or edits the owner role (403 for a manager, nothing changed)', async () => {
    const { db, org, app, owner, manager } = await setup();
    const before = await dumpTables(db);
    const attempts = [
      app.inject({ method: 'POST', url: '/api/v1/staff', headers: manager.headers, payload: { name: 'Boss', role: 'owner', storeId: org.storeId, pin: '1111' } }),
      app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.managerId}`, headers: manager.headers, payload: { role: 'owner' } }),
      app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.ownerId}`, headers: manager.headers, payload: { role: 'cashier' } }),
      app.inject({ method: 'PUT', url: `/api/v1/staff/${org.staff.ownerId}/pin`, headers: manager.headers, payload: { pin: '1111' } }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'forbidden' });
    }
    expect(await dumpTables(db)).toEqual(before);
    const promoted = await app.inject({ method: 'PATCH', url: `/api/v1/staff/${org.staff.managerId}`, headers: owner.headers, payload: { role: 'owner' } });
    expect(promoted.statusCode).toBe(200);
    expect(promoted.json()).toMatchObject({ role: 'owner' });
  });

  it('lists staff of the organisation, optionally by store, without any PIN data', async () => {
    const { org, app, manager } = await setup();
    const res = await app.inject({ method: 'GET', url: `/api/v1/staff?storeId=${org.storeId}`, headers: { cookie: manager.cookie } });
    expect(res.statusCode).toBe(200);
    const { staff } = res.json<{ staff: StaffView[] }>();
    expect(staff.map((s) => s.role).sort()).toEqual(['cashier', 'manager', 'owner']);
    expect(res.body).not.toMatch(/pin|salt|hash/i);
    const other = await app.inject({ method: 'GET', url: `/api/v1/staff?storeId=${org.otherStoreId}`, headers: { cookie: manager.cookie } });
    expect(other.json()).toEqual({ staff: [] });
  });
});
