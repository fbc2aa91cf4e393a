/**
 * Test-only: two organisations (each with two stores, users of every role, staff and two registers),
 * the app on a manual clock, signed-in clients, a paired register of the first organisation, and a
 * dump of every table the back office writes for "nothing changed" assertions.
 */
import { manualClock } from '@kassa/core';
import type { ManualClock } from '@kassa/core';
import type { Kysely } from 'kysely';
import { expect } from 'vitest';
import type { App } from '../app.js';
import { createTestOrg, signIn, testApp } from '../auth/auth-test-kit.js';
import type { SignedIn, TestOrg } from '../auth/auth-test-kit.js';
import { migrateToLatest } from '../db/migrations.js';
import type { Database } from '../db/schema.js';
import { randomToken, sha256Hex } from '../security/secrets.js';
import { readChanges } from '../sync/change-log.js';
import type { TestDatabaseFactory } from '../testing/describe-db.js';

/** When the tests' clock starts. */
export const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

/** Valid settings for the fixture stores (the auth kit leaves them `{}`). */
export const TEST_STORE_SETTINGS = {
  currency: 'EUR',
  locale: 'de-DE',
  taxMode: 'inclusive',
  cashRoundingMinor: null,
  receiptHeader: ['Test'],
  variableMeasureLayouts: [{ kind: 'weight', prefixes: ['21'], itemDigits: 5, valueDigits: 5, valueDecimals: 3, hasPriceCheckDigit: false }],
};

/** A JSON answer. */
export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** What {@link backofficeHarness} makes. */
export interface BackofficeHarness {
  readonly db: Kysely<Database>;
  readonly app: App;
  readonly clock: ManualClock;
  /** The organisation under test, and another one for tenancy checks. */
  readonly a: TestOrg;
  readonly b: TestOrg;
  readonly owner: SignedIn;
  readonly manager: SignedIn;
  readonly cashier: SignedIn;
  /** The manager of organisation `b`. */
  readonly otherManager: SignedIn;
  /** Device token of register R01 of `a`'s first store (paired). */
  readonly deviceToken: string;
  /** Device token of register R01 of `b`'s first store (paired). */
  readonly otherDeviceToken: string;
  /** An `app.inject` as `who` (a signed-in client, `{ bearer }`, or nobody). */
  call(who: SignedIn | { bearer: string } | null, method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE', url: string, payload?: unknown): Promise<Answer>;
}

async function pair(db: Kysely<Database>, registerId: string): Promise<string> {
  const token = randomToken();
  await db.updateTable('registers').set({ token_hash: sha256Hex(token), paired_at: T0 }).where('id', '=', registerId).execute();
  return token;
}

/**
 * A fresh database with both organisations and the app on it; `cleanups` gets the app's close.
 *
 * @example
 * ```ts
 * const h = await backofficeHarness(dbs, apps);
 * const res = await h.call(h.manager, 'POST', '/api/v1/categories', { name: 'Drinks' });
 * ```
 */
export async function backofficeHarness(dbs: TestDatabaseFactory, apps: App[]): Promise<BackofficeHarness> {
  const { storage } = await dbs.create();
  await migrateToLatest(storage.db);
  const db = storage.db;
  const clock = manualClock(T0);
  const a = await createTestOrg(db, T0, 'acme');
  const b = await createTestOrg(db, T0, 'globex');
  await db.updateTable('stores').set({ settings_json: JSON.stringify(TEST_STORE_SETTINGS) }).execute();
  const app = await testApp(storage, clock, { rateLimit: { max: 1_000_000, windowMs: 60_000, authMax: 1_000 } });
  apps.push(app);
  const [owner, manager, cashier, otherManager] = await Promise.all([
    signIn(app, a.users.owner.email),
    signIn(app, a.users.manager.email),
    signIn(app, a.users.cashier.email),
    signIn(app, b.users.manager.email),
  ]);
  const deviceToken = await pair(db, a.registers.r01);
  const otherDeviceToken = await pair(db, b.registers.r01);
  const call: BackofficeHarness['call'] = async (who, method, url, payload) => {
    const headers: Record<string, string> = who === null ? {} : 'bearer' in who ? { authorization: `Bearer ${who.bearer}` } : { ...who.headers };
    const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
    return { status: res.statusCode, body: res.body === '' ? {} : res.json<Record<string, unknown>>() };
  };
  return { db, app, clock, a, b, owner, manager, cashier, otherManager, deviceToken, otherDeviceToken, call };
}

/** `who` without its CSRF token: a cross-site request carrying only the cookie. */
export function withoutCsrf(who: SignedIn): SignedIn {
  return { ...who, headers: { cookie: who.cookie } };
}

const TABLES = [
  'products',
  'barcodes',
  'categories',
  'tax_rates',
  'stores',
  'reference_docs',
  'conflicts',
  'change_log',
  'change_log_heads',
  'audit_log',
  'alerts',
  'alert_resolutions',
  'quarantine',
  'quarantine_actions',
  'sync_ops',
  'facts',
  'backoffice_facts',
  'stock_movements',
  'stock_levels',
  'server_hlc',
] as const;

/** Every row of every table the back office reads or writes (sessions aside), as sorted text. */
export async function dumpBackoffice(db: Kysely<Database>): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of TABLES) out[t] = (await db.selectFrom(t).selectAll().execute()).map((r) => JSON.stringify(r)).sort();
  return out;
}

/** Asserts that `run` answers `status` with error `code` and changes no row. */
export async function expectRefused(db: Kysely<Database>, run: () => Promise<Answer>, status: number, code: string): Promise<Answer> {
  const before = await dumpBackoffice(db);
  const res = await run();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body['error']).toBe(code);
  expect(await dumpBackoffice(db)).toEqual(before);
  return res;
}

/** Change-log rows of an organisation after `afterSeq`, with their data as a pull reads it (facts by reference). */
export async function changesAfter(db: Kysely<Database>, orgId: string, afterSeq = 0) {
  const rows = await readChanges(db, orgId, { after: afterSeq, upTo: Number.MAX_SAFE_INTEGER, storeId: null, limit: 1_000_000 });
  return rows.map((r) => ({ seq: r.seq, entity: r.entity, entityId: r.entityId, storeId: r.storeId, op: r.op, data: r.data as Record<string, unknown> }));
}

/** The organisation's change-log head (0 before its first change). */
export async function logHead(db: Kysely<Database>, orgId: string): Promise<number> {
  const row = await db.selectFrom('change_log_heads').select('head').where('org_id', '=', orgId).executeTakeFirst();
  return row?.head ?? 0;
}
