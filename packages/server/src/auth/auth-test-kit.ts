/**
 * Fixtures for the auth, register, staff and audit tests: an organisation with two stores, users
 * of every role, staff, free registers, and a signed-in client. Test-only (no production import).
 */
import { randomUUID } from 'node:crypto';
import type { ManualClock } from '@kassa/core';
import type { Kysely } from 'kysely';
import { buildApp } from '../app.js';
import type { App, AppDeps } from '../app.js';
import { loadConfig } from '../config.js';
import type { Storage } from '../db/database.js';
import type { Database, UserRole } from '../db/schema.js';
import { hashPassword } from '../security/password.js';
import { makePinVerifier } from '../security/pin-verifier.js';
import type { PinVerifier } from '../security/pin-verifier.js';
import { CSRF_HEADER, SESSION_COOKIE } from './session.js';

/** Every fixture user's password. */
export const TEST_PASSWORD = 'correct horse battery';

let passwordHash: Promise<string> | undefined;
let pinVerifier: Promise<PinVerifier> | undefined;

/** The PIN of every fixture staff member. */
export const TEST_PIN = '2580';

/** An organisation made by {@link createTestOrg}. */
export interface TestOrg {
  readonly orgId: string;
  readonly storeId: string;
  readonly storeCode: string;
  /** A second store of the same organisation. */
  readonly otherStoreId: string;
  readonly users: Readonly<Record<UserRole, { readonly id: string; readonly email: string }>>;
  readonly staff: { readonly cashierId: string; readonly managerId: string; readonly ownerId: string };
  /** Free register rows R01 and R02 of `storeId`. */
  readonly registers: { readonly r01: string; readonly r02: string };
}

/**
 * Inserts an organisation with two stores, an owner, a manager and a cashier login (password
 * {@link TEST_PASSWORD}), three staff (PIN {@link TEST_PIN}) with role history, and two free
 * registers. `label` keeps emails apart between organisations.
 */
export async function createTestOrg(db: Kysely<Database>, now: number, label: string): Promise<TestOrg> {
  passwordHash ??= hashPassword(TEST_PASSWORD);
  pinVerifier ??= makePinVerifier(TEST_PIN);
  const [hash, verifier] = await Promise.all([passwordHash, pinVerifier]);
  const orgId = randomUUID();
  const storeId = randomUUID();
  const otherStoreId = randomUUID();
  const ids = { owner: randomUUID(), manager: randomUUID(), cashier: randomUUID() };
  const staff = { cashierId: randomUUID(), managerId: randomUUID(), ownerId: randomUUID() };
  const registers = { r01: randomUUID(), r02: randomUUID() };
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('organisations').values({ id: orgId, name: `Org ${label}`, created_at: now }).execute();
    await trx
      .insertInto('stores')
      .values(
        [
          [storeId, 'S01'],
          [otherStoreId, 'S02'],
        ].map(([id, code]) => ({
          id: id ?? '',
          org_id: orgId,
          code: code ?? '',
          name: `${label} ${code ?? ''}`,
          currency: 'EUR',
          locale: 'de-DE',
          settings_json: '{}',
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await trx
      .insertInto('users')
      .values(
        (['owner', 'manager', 'cashier'] as const).map((role) => ({
          id: ids[role],
          org_id: orgId,
          email: `${role}@${label}.test`,
          display_name: `${label} ${role}`,
          password_hash: hash,
          role,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    const people = [
      [staff.cashierId, 'cashier'],
      [staff.managerId, 'manager'],
      [staff.ownerId, 'owner'],
    ] as const;
    await trx
      .insertInto('staff')
      .values(
        people.map(([id, role]) => ({
          id,
          org_id: orgId,
          store_id: storeId,
          name: `${label} ${role} staff`,
          role,
          pin_kdf: verifier.kdf,
          pin_iterations: verifier.iterations,
          pin_salt: verifier.salt,
          pin_hash: verifier.hash,
          active: 1 as const,
          field_hlc_json: '{}',
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
    await trx
      .insertInto('staff_role_history')
      .values(people.map(([id, role]) => ({ org_id: orgId, staff_id: id, role, effective_from: now })))
      .execute();
    await trx
      .insertInto('registers')
      .values(
        [
          [registers.r01, 'R01'],
          [registers.r02, 'R02'],
        ].map(([id, code]) => ({
          id: id ?? '',
          org_id: orgId,
          store_id: storeId,
          code: code ?? '',
          name: `Till ${code ?? ''}`,
          token_hash: null,
          created_at: now,
          updated_at: now,
        })),
      )
      .execute();
  });
  const users = {
    owner: { id: ids.owner, email: `owner@${label}.test` },
    manager: { id: ids.manager, email: `manager@${label}.test` },
    cashier: { id: ids.cashier, email: `cashier@${label}.test` },
  };
  return { orgId, storeId, storeCode: 'S01', otherStoreId, users, staff, registers };
}

/** Builds the app over `storage` with the manual clock; the caller closes it. */
export function testApp(storage: Storage, clock: ManualClock, extra: Partial<AppDeps> = {}): Promise<App> {
  return buildApp({ storage, config: loadConfig({}, '/tmp'), clock, ...extra });
}

/** A signed-in back-office client: its cookie and CSRF token as request headers. */
export interface SignedIn {
  readonly cookie: string;
  readonly csrfToken: string;
  /** `cookie` and `x-csrf-token`, ready for `app.inject`. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Signs in through `POST /api/v1/auth/login`; throws unless it answers 200. */
export async function signIn(app: App, email: string, password = TEST_PASSWORD): Promise<SignedIn> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
  if (res.statusCode !== 200) throw new Error(`login as ${email} answered ${res.statusCode}: ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
  if (!cookie) throw new Error('login set no session cookie');
  const { csrfToken } = res.json<{ csrfToken: string }>();
  const header = `${SESSION_COOKIE}=${cookie.value}`;
  return { cookie: header, csrfToken, headers: { cookie: header, [CSRF_HEADER]: csrfToken } };
}

/** Every row of the tables these features write, for "nothing changed" assertions. */
export async function dumpTables(db: Kysely<Database>): Promise<Record<string, unknown[]>> {
  const tables = ['users', 'sessions', 'staff', 'staff_role_history', 'registers', 'pairing_codes', 'audit_log', 'change_log'] as const;
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    const rows = await db.selectFrom(t).selectAll().execute();
    out[t] = rows.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}
