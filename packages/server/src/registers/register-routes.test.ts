import { manualClock } from '@kassa/core';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../app.js';
import { TEST_PASSWORD, createTestOrg, dumpTables, signIn, testApp } from '../auth/auth-test-kit.js';
import { migrateToLatest } from '../db/migrations.js';
import { sha256Hex } from '../security/secrets.js';
import { describeDb } from '../testing/describe-db.js';
import { PAIRING_CODE_ALPHABET, PAIRING_CODE_TTL_MS, hashPairingCode } from './pairing-code.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

interface Paired {
  deviceId: string;
  storeId: string;
  storeCode: string;
  registerCode: string;
  token: string;
  resume: { lastSeq: number; lastReceiptNumber: number; chainHead: string | null };
  repaired: boolean;
  serverTime: number;
  serverKey: { keyId: string; publicKey: string };
}

describeDb('registers: pairing, revocation, list', (dbs) => {
  async function setup(rateLimit?: { max: number; windowMs: number; authMax?: number }) {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const clock = manualClock(T0);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const app = await testApp(storage, clock, rateLimit === undefined ? {} : { rateLimit });
    apps.push(app);
    const manager = await signIn(app, org.users.manager.email);
    const newCode = async (body: Record<string, unknown> = { storeId: org.storeId }) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/registers/pairing-codes', headers: manager.headers, payload: body });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ code: string; expiresAt: number; storeId: string; registerCode: string | null }>();
    };
    const pair = (payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/v1/registers/pair', payload });
    const me = (token: string) => app.inject({ method: 'GET', url: '/api/v1/registers/me', headers: { authorization: `Bearer ${token}` } });
    return { storage, db: storage.db, clock, org, app, manager, newCode, pair, me };
  }

  it('creates a one-time code (8 unambiguous characters, 10 minutes, only its hash stored, audited)', async () => {
    const { db, org, newCode, manager } = await setup();
    const code = await newCode({ storeId: org.storeId, registerCode: 'R02' });
    expect(code).toEqual({ code: expect.stringMatching(new RegExp(`^[${PAIRING_CODE_ALPHABET}]{8}$`)) as string, expiresAt: T0 + PAIRING_CODE_TTL_MS, storeId: org.storeId, registerCode: 'R02' });
    const rows = await db.selectFrom('pairing_codes').selectAll().execute();
    expect(rows).toEqual([
      {
        id: expect.any(String) as string,
        org_id: org.orgId,
        store_id: org.storeId,
        code_hash: hashPairingCode(code.code),
        created_by: org.users.manager.id,
        created_at: T0,
        expires_at: T0 + PAIRING_CODE_TTL_MS,
        used_at: null,
        register_id: null,
        register_code: 'R02',
      },
    ]);
    expect(JSON.stringify(rows)).not.toContain(code.code);
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'register.pairing_code_created').execute();
    expect(audit).toMatchObject([{ org_id: org.orgId, store_id: org.storeId, actor_id: org.users.manager.id, target_kind: 'pairing_code', target_id: rows[0]?.id }]);
    expect(manager.csrfToken).not.toBe('');
  });

  it('pairs with a code: first free register, token works on /registers/me, only its SHA-256 stored; the code is single use', async () => {
    const { db, org, newCode, pair, me, app } = await setup();
    const { code } = await newCode();
    const res = await pair({ code: `${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`, name: 'Front till' });
    expect(res.statusCode, res.body).toBe(200);
    const paired = res.json<Paired>();
    expect(paired).toEqual({
      deviceId: org.registers.r01,
      storeId: org.storeId,
      storeCode: 'S01',
      registerCode: 'R01',
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) as string,
      resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
      repaired: false,
      serverTime: T0,
      serverKey: { keyId: expect.stringMatching(/^[A-Za-z0-9_-]{11}$/) as string, publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{87}$/) as string },
    });
    const row = await db.selectFrom('registers').selectAll().where('id', '=', paired.deviceId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ token_hash: sha256Hex(paired.token), revoked: 0, paired_at: T0, name: 'Front till' });
    expect(await db.selectFrom('pairing_codes').select(['used_at', 'register_id']).execute()).toEqual([{ used_at: T0, register_id: paired.deviceId }]);

    const self = await me(paired.token);
    expect(self.statusCode).toBe(200);
    expect(self.json()).toEqual({
      deviceId: org.registers.r01,
      storeId: org.storeId,
      storeCode: 'S01',
      registerCode: 'R01',
      name: 'Front till',
      resume: { lastSeq: 0, lastReceiptNumber: 0, chainHead: null },
      serverTime: T0,
    });
    expect((await me('A'.repeat(43))).json()).toMatchObject({ error: 'invalid_token' });
    // The organisation's key for personal data, the same the key route serves (keys/).
    const key = await app.inject({ method: 'GET', url: '/api/v1/keys/server', headers: { authorization: `Bearer ${paired.token}` } });
    expect(key.json()).toEqual(paired.serverKey);

    const before = await dumpTables(db);
    const again = await pair({ code });
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ error: 'invalid_pairing_code' });
    expect(await dumpTables(db)).toEqual(before);

    // Pairing with no code of the register: the next free one, then new codes past the demo's.
    const second = (await pair({ code: (await newCode()).code })).json<Paired>();
    expect(second.registerCode).toBe('R02');
    const third = (await pair({ code: (await newCode()).code })).json<Paired>();
    expect(third.registerCode).toBe('R03');
    expect(third.resume).toEqual({ lastSeq: 0, lastReceiptNumber: 0, chainHead: null });
    const audit = await db.selectFrom('audit_log').select(['action', 'actor_kind', 'target_id']).where('action', '=', 'register.paired').orderBy('target_id').execute();
    expect(audit.map((a) => a.target_id).sort()).toEqual([paired.deviceId, second.deviceId, third.deviceId].sort());
    expect(audit.every((a) => a.actor_kind === 'register')).toBe(true);
  });

  it('refuses an expired code (manual clock) and changes nothing', async () => {
    const { db, clock, newCode, pair } = await setup();
    const { code } = await newCode();
    clock.advance(PAIRING_CODE_TTL_MS);
    const before = await dumpTables(db);
    const res = await pair({ code });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'invalid_pairing_code' });
    expect(await dumpTables(db)).toEqual(before);
    // One millisecond earlier it would have worked.
    const fresh = await newCode();
    clock.advance(PAIRING_CODE_TTL_MS - 1);
    expect((await pair({ code: fresh.code })).statusCode).toBe(200);
  });

  it('pairs with a manager signing in on the register, and refuses a cashier login (403) and wrong passwords (401)', async () => {
    const { db, org, pair, me } = await setup();
    const res = await pair({ email: org.users.manager.email, password: TEST_PASSWORD, storeId: org.storeId, registerCode: 'R02' });
    expect(res.statusCode, res.body).toBe(200);
    const paired = res.json<Paired>();
    expect(paired).toMatchObject({ deviceId: org.registers.r02, registerCode: 'R02', storeCode: 'S01', repaired: false });
    expect((await me(paired.token)).statusCode).toBe(200);
    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'register.paired').execute();
    expect(audit).toMatchObject([{ actor_kind: 'user', actor_id: org.users.manager.id, target_id: org.registers.r02 }]);

    const before = await dumpTables(db);
    const cashier = await pair({ email: org.users.cashier.email, password: TEST_PASSWORD, storeId: org.storeId });
    expect(cashier.statusCode).toBe(403);
    expect(cashier.json()).toMatchObject({ error: 'forbidden' });
    expect(await dumpTables(db)).toEqual(before);
    const wrong = await pair({ email: org.users.manager.email, password: 'nope', storeId: org.storeId });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'invalid_credentials' });
  });

  it('a cashier login cannot create pairing codes, revoke or list registers (403), and nothing changes', async () => {
    const { db, org, app } = await setup();
    const cashier = await signIn(app, org.users.cashier.email);
    const before = await dumpTables(db);
    const code = await app.inject({ method: 'POST', url: '/api/v1/registers/pairing-codes', headers: cashier.headers, payload: { storeId: org.storeId } });
    expect(code.statusCode).toBe(403);
    expect(code.json()).toMatchObject({ error: 'forbidden' });
    const revoke = await app.inject({ method: 'POST', url: `/api/v1/registers/${org.registers.r01}/revoke`, headers: cashier.headers });
    expect(revoke.statusCode).toBe(403);
    expect((await app.inject({ method: 'GET', url: '/api/v1/registers', headers: cashier.headers })).statusCode).toBe(403);
    expect(await dumpTables(db)).toEqual(before);
    // And without a session at all: 401.
    expect((await app.inject({ method: 'POST', url: '/api/v1/registers/pairing-codes', payload: { storeId: org.storeId } })).statusCode).toBe(401);
  });

  it('revoke: the register’s next request is 401 register_revoked; listed as revoked; audited', async () => {
    const { db, org, app, manager, newCode, pair, me } = await setup();
    const paired = (await pair({ code: (await newCode()).code })).json<Paired>();
    expect((await me(paired.token)).statusCode).toBe(200);
    const res = await app.inject({ method: 'POST', url: `/api/v1/registers/${paired.deviceId}/revoke`, headers: manager.headers });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: paired.deviceId, code: 'R01', revoked: true, paired: true });
    const after = await me(paired.token);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: 'register_revoked' });
    // Revoking again changes nothing.
    const before = await dumpTables(db);
    expect((await app.inject({ method: 'POST', url: `/api/v1/registers/${paired.deviceId}/revoke`, headers: manager.headers })).statusCode).toBe(200);
    expect(await dumpTables(db)).toEqual(before);

    const list = await app.inject({ method: 'GET', url: '/api/v1/registers', headers: { cookie: manager.cookie } });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ registers: unknown[] }>().registers).toEqual([
      { id: org.registers.r01, storeId: org.storeId, storeCode: 'S01', code: 'R01', name: 'Till R01', paired: true, revoked: true, pairedAt: T0, lastSeenAt: T0, lastSeq: 0, lastReceiptNumber: 0 },
      { id: org.registers.r02, storeId: org.storeId, storeCode: 'S01', code: 'R02', name: 'Till R02', paired: false, revoked: false, pairedAt: null, lastSeenAt: null, lastSeq: 0, lastReceiptNumber: 0 },
    ]);
    const audit = await db.selectFrom('audit_log').select(['action', 'target_id', 'details_json']).where('action', '=', 'register.revoked').execute();
    expect(audit).toEqual([{ action: 'register.revoked', target_id: paired.deviceId, details_json: JSON.stringify({ registerCode: 'R01' }) }]);
  });

  it('re-pairing a register code resumes from what the server knows; the old token stops working', async () => {
    const { db, clock, org, app, manager, newCode, pair, me } = await setup();
    const first = (await pair({ code: (await newCode()).code })).json<Paired>();
    // What the sync endpoints would have recorded for it.
    await db.updateTable('registers').set({ last_seq: 1234, last_receipt_number: 987, chain_head: 'ab'.repeat(32) }).where('id', '=', first.deviceId).execute();
    await app.inject({ method: 'POST', url: `/api/v1/registers/${first.deviceId}/revoke`, headers: manager.headers });

    clock.advance(60_000);
    const res = await pair({ code: (await newCode({ storeId: org.storeId, registerCode: 'R01' })).code });
    expect(res.statusCode, res.body).toBe(200);
    const second = res.json<Paired>();
    expect(second).toEqual({
      deviceId: first.deviceId,
      storeId: org.storeId,
      storeCode: 'S01',
      registerCode: 'R01',
      token: expect.any(String) as string,
      resume: { lastSeq: 1234, lastReceiptNumber: 987, chainHead: 'ab'.repeat(32) },
      repaired: true,
      serverTime: T0 + 60_000,
      serverKey: { keyId: expect.stringMatching(/^[A-Za-z0-9_-]{11}$/) as string, publicKey: expect.stringMatching(/^[A-Za-z0-9_-]{87}$/) as string },
    });
    expect(second.token).not.toBe(first.token);
    expect((await me(first.token)).json()).toMatchObject({ error: 'invalid_token' });
    const self = await me(second.token);
    expect(self.json()).toMatchObject({ deviceId: first.deviceId, resume: { lastSeq: 1234, lastReceiptNumber: 987, chainHead: 'ab'.repeat(32) } });
    expect(await db.selectFrom('registers').select(['revoked', 'token_hash', 'paired_at']).where('id', '=', first.deviceId).executeTakeFirst()).toEqual({
      revoked: 0,
      token_hash: sha256Hex(second.token),
      paired_at: T0 + 60_000,
    });
    // Through a manager login too, by register code: again a new token, the same resume.
    const third = (await pair({ email: org.users.owner.email, password: TEST_PASSWORD, storeId: org.storeId, registerCode: 'R01' })).json<Paired>();
    expect(third).toMatchObject({ deviceId: first.deviceId, repaired: true, resume: { lastSeq: 1234, lastReceiptNumber: 987 } });
    expect((await me(second.token)).statusCode).toBe(401);
    const audit = await db.selectFrom('audit_log').select(['action', 'details_json']).where('action', '=', 'register.repaired').orderBy('at').execute();
    expect(audit.map((a) => JSON.parse(a.details_json) as { via: string; wasRevoked: boolean })).toMatchObject([
      { via: 'pairing_code', wasRevoked: true, registerCode: 'R01' },
      { via: 'manager_login', wasRevoked: false, registerCode: 'R01' },
    ]);
  });

  it('a code made for one register code refuses another (409) and is not used up', async () => {
    const { db, org, newCode, pair } = await setup();
    const { code } = await newCode({ storeId: org.storeId, registerCode: 'R02' });
    const res = await pair({ code, registerCode: 'R01' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: 'register_code_mismatch' });
    expect(await db.selectFrom('pairing_codes').select('used_at').execute()).toEqual([{ used_at: null }]);
    expect((await pair({ code })).json()).toMatchObject({ registerCode: 'R02', deviceId: org.registers.r02 });
  });

  it('rate-limits pairing per address and per code/email: 429 with Retry-After', async () => {
    const { org, pair, app } = await setup({ max: 1000, windowMs: 60_000, authMax: 2 });
    const from = (ip: string, payload: Record<string, unknown>) => app.inject({ method: 'POST', url: '/api/v1/registers/pair', remoteAddress: ip, payload });
    expect((await from('10.1.0.1', { code: 'AAAAAAAA' })).statusCode).toBe(401);
    expect((await from('10.1.0.1', { code: 'BBBBBBBB' })).statusCode).toBe(401);
    const perAddress = await from('10.1.0.1', { code: 'CCCCCCCC' });
    expect(perAddress.statusCode).toBe(429);
    expect(Number(perAddress.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('10.1.0.2', { code: 'DDDDDDDD' })).statusCode).toBe(401);
    expect((await from('10.1.0.3', { code: 'DDDDDDDD' })).statusCode).toBe(401);
    const perCode = await from('10.1.0.4', { code: 'dddd-dddd' });
    expect(perCode.statusCode).toBe(429);
    expect(perCode.json()).toMatchObject({ error: 'rate_limited' });
    for (const ip of ['10.2.0.1', '10.2.0.2']) expect((await from(ip, { email: org.users.owner.email, password: 'x', storeId: org.storeId })).statusCode).toBe(401);
    expect((await from('10.2.0.3', { email: org.users.owner.email, password: TEST_PASSWORD, storeId: org.storeId })).statusCode).toBe(429);
    expect(await pair({ code: 'EEEEEEEE' }).then((r) => r.statusCode)).toBe(401);
  });

  it('pairings at the same moment take different registers (no two devices share one)', async () => {
    const { db, org, pair } = await setup({ max: 1000, windowMs: 60_000, authMax: 100 });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => pair({ email: org.users.manager.email, password: TEST_PASSWORD, storeId: org.storeId })),
    );
    for (const r of results) expect(r.statusCode, r.body).toBe(200);
    const codes = results.map((r) => r.json<Paired>().registerCode).sort();
    expect(codes).toEqual(['R01', 'R02', 'R03', 'R04', 'R05']);
    const rows = await db.selectFrom('registers').select(['code', 'token_hash']).where('store_id', '=', org.storeId).orderBy('code').execute();
    expect(rows.map((r) => [r.code, r.token_hash])).toEqual(results.map((r) => r.json<Paired>()).sort((x, y) => x.registerCode.localeCompare(y.registerCode)).map((p) => [p.registerCode, sha256Hex(p.token)]));
  });

  it('answers malformed pairing bodies with 400 and changes nothing', async () => {
    const { db, org, pair } = await setup();
    const before = await dumpTables(db);
    for (const body of [{}, { code: '' }, { code: 'ABCDEFGH', registerCode: 'r-1' }, { email: 'a@b.c', password: 'x', storeId: 'not-a-uuid' }, { code: 'ABCDEFGH', extra: 1 }, { code: 'ABCDEFGH', email: org.users.owner.email }, { code: 'ABCDEFGH', name: 'Till\u0000' }, { email: 'a\u0000@b.c', password: 'x', storeId: org.storeId }]) {
      const res = await pair(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_input' });
    }
    expect(await dumpTables(db)).toEqual(before);
  });
});
