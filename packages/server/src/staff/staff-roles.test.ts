import { randomUUID } from 'node:crypto';
import { manualClock } from '@kassa/core';
import { Migrator, sql } from 'kysely';
import { expect, it } from 'vitest';
import { createTestOrg } from '../auth/auth-test-kit.js';
import { migrateToLatest, migrationProvider } from '../db/migrations.js';
import { seedDemoIfEmpty } from '../seed/seed-demo.js';
import { describeDb } from '../testing/describe-db.js';
import { recordStaffRole, staffRoleAt } from './staff-roles.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const HOUR = 3600_000;

describeDb('staff role history', (dbs) => {
  it('staffRoleAt answers the role in force at each instant across changes', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const db = storage.db;
    const org = await createTestOrg(db, T0, 'acme');
    const other = await createTestOrg(db, T0, 'other');
    const id = org.staff.cashierId;
    await recordStaffRole(db, { orgId: org.orgId, staffId: id, role: 'manager', effectiveFrom: T0 + 2 * HOUR });
    await recordStaffRole(db, { orgId: org.orgId, staffId: id, role: 'cashier', effectiveFrom: T0 + 5 * HOUR });
    // Two changes in the same millisecond: the later write wins.
    await recordStaffRole(db, { orgId: org.orgId, staffId: id, role: 'owner', effectiveFrom: T0 + 9 * HOUR });
    await recordStaffRole(db, { orgId: org.orgId, staffId: id, role: 'manager', effectiveFrom: T0 + 9 * HOUR });

    const at = (ms: number) => staffRoleAt(db, org.orgId, id, ms);
    expect(await at(T0 - 1)).toBeUndefined(); // before the person existed
    expect(await at(T0)).toBe('cashier');
    expect(await at(T0 + 2 * HOUR - 1)).toBe('cashier');
    expect(await at(T0 + 2 * HOUR)).toBe('manager');
    expect(await at(T0 + 5 * HOUR - 1)).toBe('manager');
    expect(await at(T0 + 5 * HOUR)).toBe('cashier');
    expect(await at(T0 + 9 * HOUR)).toBe('manager');
    expect(await at(T0 + 1000 * HOUR)).toBe('manager');
    // Unknown staff, or another organisation's: nothing.
    expect(await staffRoleAt(db, org.orgId, randomUUID(), T0 + HOUR)).toBeUndefined();
    expect(await staffRoleAt(db, other.orgId, id, T0 + HOUR)).toBeUndefined();
    expect(await staffRoleAt(db, org.orgId, other.staff.cashierId, T0 + HOUR)).toBeUndefined();
  });

  it('the demo seed gives every demo staff member a role history row', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const result = await seedDemoIfEmpty(storage.db, { clock: manualClock(T0), dbKind: storage.kind, adminEmail: 'owner@demo.kassa', adminPassword: 'demo-password' });
    if (!result.seeded) throw new Error('expected a seed');
    const staff = await storage.db.selectFrom('staff').select(['id', 'org_id', 'role']).orderBy('id').execute();
    const history = await storage.db.selectFrom('staff_role_history').selectAll().orderBy('staff_id').execute();
    expect(history).toEqual(staff.map((s) => ({ org_id: s.org_id, staff_id: s.id, role: s.role, effective_from: T0 })));
    for (const s of staff) expect(await staffRoleAt(storage.db, s.org_id, s.id, T0)).toBe(s.role);
  });

  it('migrating a 0001 database keeps users, sessions and their links, backfills role history, and admits cashier logins', async () => {
    const { storage } = await dbs.create();
    const db = storage.db;
    const migrator = new Migrator({ db, provider: migrationProvider });
    const first = await migrator.migrateTo('0001_foundation');
    expect(first.error).toBeUndefined();
    const orgId = randomUUID();
    const storeId = randomUUID();
    const userId = randomUUID();
    const staffId = randomUUID();
    await db.insertInto('organisations').values({ id: orgId, name: 'Old', created_at: T0 }).execute();
    await db.insertInto('stores').values({ id: storeId, org_id: orgId, code: 'S01', name: 'Old', currency: 'EUR', locale: 'de-DE', settings_json: '{}', created_at: T0, updated_at: T0 }).execute();
    await db.insertInto('users').values({ id: userId, org_id: orgId, email: 'o@old.test', display_name: 'O', password_hash: 'x', role: 'owner', created_at: T0, updated_at: T0 }).execute();
    // Written without last_used_at, as a 0001 server would.
    await sql`insert into sessions (id, org_id, user_id, token_hash, csrf_token, created_at, expires_at)
      values ('s1', ${orgId}, ${userId}, 'h', 'c', ${T0}, ${T0 + HOUR})`.execute(db);
    await db
      .insertInto('staff')
      .values({ id: staffId, org_id: orgId, store_id: storeId, name: 'S', role: 'manager', pin_kdf: 'pbkdf2-sha256', pin_iterations: 600_000, pin_salt: 's', pin_hash: 'h', created_at: T0 - HOUR, updated_at: T0 })
      .execute();

    await migrateToLatest(db);
    expect(await db.selectFrom('users').select(['id', 'email', 'role']).execute()).toEqual([{ id: userId, email: 'o@old.test', role: 'owner' }]);
    expect(await db.selectFrom('sessions').select(['id', 'user_id', 'last_used_at']).execute()).toEqual([{ id: 's1', user_id: userId, last_used_at: 0 }]);
    expect(await staffRoleAt(db, orgId, staffId, T0 - HOUR)).toBe('manager');

    const cashier = { id: randomUUID(), org_id: orgId, email: 'c@old.test', display_name: 'C', password_hash: 'x', role: 'cashier' as const, created_at: T0, updated_at: T0 };
    await db.insertInto('users').values(cashier).execute();
    // Still enforced after the rebuild: the role check, unique emails per org, and foreign keys.
    await expect(db.insertInto('users').values({ ...cashier, id: randomUUID(), email: 'x@old.test', role: 'boss' as never }).execute()).rejects.toThrow();
    await expect(db.insertInto('users').values({ ...cashier, id: randomUUID() }).execute()).rejects.toThrow();
    await expect(db.insertInto('sessions').values({ id: 's2', org_id: orgId, user_id: randomUUID(), token_hash: 'h2', csrf_token: 'c', created_at: T0, expires_at: T0 }).execute()).rejects.toThrow();
    await expect(db.deleteFrom('users').where('id', '=', userId).execute()).rejects.toThrow();
  });
});
