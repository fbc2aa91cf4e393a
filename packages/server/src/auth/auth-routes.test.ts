import { manualClock } from '@kassa/core';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../app.js';
import { openSqlite, sqliteKysely } from '../db/database.js';
import { migrateToLatest } from '../db/migrations.js';
import { sha256Hex } from '../security/secrets.js';
import { describeDb } from '../testing/describe-db.js';
import { TEST_PASSWORD, createTestOrg, dumpTables, signIn, testApp } from './auth-test-kit.js';
import { SESSION_ABSOLUTE_MS, SESSION_COOKIE, SESSION_IDLE_MS } from './session.js';

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describeDb('back-office auth', (dbs) => {
  async function setup(rateLimit?: { max: number; windowMs: number; authMax?: number }) {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const clock = manualClock(T0);
    const org = await createTestOrg(storage.db, T0, 'acme');
    const app = await testApp(storage, clock, rateLimit === undefined ? {} : { rateLimit });
    apps.push(app);
    return { storage, clock, org, app, db: storage.db };
  }

  it('logs in: HttpOnly SameSite=Strict cookie, only the token hash stored, CSRF token and user in the body, audited', async () => {
    const { app, org, db } = await setup();
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: '  Manager@ACME.test ', password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    const body = res.json<{ csrfToken: string; user: unknown }>();
    expect(body.user).toEqual({ id: org.users.manager.id, orgId: org.orgId, email: 'manager@acme.test', name: 'acme manager', role: 'manager' });
    expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const cookies = res.cookies.filter((c) => c.name === SESSION_COOKIE);
    expect(cookies).toHaveLength(1);
    const cookie = cookies[0];
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_ABSOLUTE_MS / 1000 });
    expect(cookie?.secure).toBeUndefined();
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const raw = String(res.headers['set-cookie']);
    expect(raw).toContain('HttpOnly');
    expect(raw).toContain('SameSite=Strict');
    expect(raw).not.toContain('Secure');

    const sessions = await db.selectFrom('sessions').selectAll().execute();
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      org_id: org.orgId,
      user_id: org.users.manager.id,
      token_hash: sha256Hex(cookie?.value ?? ''),
      csrf_token: body.csrfToken,
      created_at: T0,
      last_used_at: T0,
      expires_at: T0 + SESSION_ABSOLUTE_MS,
    });
    expect(JSON.stringify(sessions)).not.toContain(cookie?.value);

    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: `${SESSION_COOKIE}=${cookie?.value ?? ''}` } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(body);

    const audit = await db.selectFrom('audit_log').selectAll().where('action', '=', 'auth.login_succeeded').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ org_id: org.orgId, actor_kind: 'user', actor_id: org.users.manager.id, target_kind: 'session', target_id: sessions[0]?.id, at: T0 });
  });

  it('sets Secure on the cookie when the request came over HTTPS', async () => {
    const { app } = await setup();
    // light-my-request's socket is never encrypted; mark it as a TLS socket would be.
    app.addHook('onRequest', async (request) => {
      (request.raw.socket as unknown as { encrypted: boolean }).encrypted = true;
    });
    const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@acme.test', password: TEST_PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.cookies.find((c) => c.name === SESSION_COOKIE)?.secure).toBe(true);
  });

  it('answers a wrong password and an unknown email alike (401 invalid_credentials), creating no session', async () => {
    const { app, org, db } = await setup();
    const wrong = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'owner@acme.test', password: 'not it' } });
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email: 'nobody@acme.test', password: 'not it' } });
    for (const res of [wrong, unknown]) {
      expect(res.statusCode).toBe(401);
      expect(res.json()).toEqual({ error: 'invalid_credentials', message: 'wrong email or password' });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(await db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    // The failure against a real account is audited in its organisation; an unknown email has none.
    const audit = await db.selectFrom('audit_log').select(['org_id', 'actor_id', 'action', 'details_json']).execute();
    expect(audit).toEqual([
      { org_id: org.orgId, actor_id: org.users.owner.id, action: 'auth.login_failed', details_json: JSON.stringify({ ip: '127.0.0.1', reason: 'wrong_password' }) },
    ]);
    // Bad shapes are 400 with the schema's issues, not 401.
    for (const payload of [{ email: 'owner@acme.test' }, { email: 'owner\u0000@acme.test', password: 'x' }, { email: 'owner@acme.test', password: TEST_PASSWORD, extra: 1 }]) {
      const bad = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      expect(bad.statusCode, JSON.stringify(payload)).toBe(400);
      expect(bad.json()).toMatchObject({ error: 'invalid_input' });
    }
  });

  it('spends about as long on an unknown email as on a wrong password (both run argon2id)', async () => {
    const { app } = await setup({ max: 1000, windowMs: 60_000, authMax: 1000 });
    const time = async (email: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password: 'guess' } });
      expect(res.statusCode).toBe(401);
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    await time('nobody@acme.test'); // warm-up: the dummy hash is made once per process
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      known.push(await time('owner@acme.test'));
      unknown.push(await time(`nobody${i}@acme.test`));
    }
    // Not a timing benchmark: only that the unknown email is not answered without hashing
    // (which would be ~100× faster), so the bound is loose enough for a busy CI machine.
    expect(median(unknown)).toBeGreaterThan(median(known) / 4);
  });

  it('requires the CSRF token on mutating requests: 403 csrf_required, nothing changed', async () => {
    const { app, db } = await setup();
    const owner = await signIn(app, 'owner@acme.test');
    const before = await dumpTables(db);
    for (const headers of [{ cookie: owner.cookie }, { cookie: owner.cookie, 'x-csrf-token': 'x'.repeat(43) }]) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: 'csrf_required' });
    }
    expect(await dumpTables(db)).toEqual(before);
    // A GET needs no CSRF token.
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: owner.cookie } })).statusCode).toBe(200);
  });

  it('logout ends the session: the cookie no longer works, the row is gone', async () => {
    const { app, db } = await setup();
    const owner = await signIn(app, 'owner@acme.test');
    const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: owner.headers });
    expect(out.statusCode).toBe(200);
    expect(out.json()).toEqual({ signedOut: true });
    expect(String(out.headers['set-cookie'])).toMatch(new RegExp(`^${SESSION_COOKIE}=;.*Expires=Thu, 01 Jan 1970`));
    expect(await db.selectFrom('sessions').selectAll().execute()).toEqual([]);
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: owner.cookie } });
    expect(me.statusCode).toBe(401);
    expect(me.json()).toMatchObject({ error: 'unauthenticated' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me' })).json()).toMatchObject({ error: 'unauthenticated' });
  });

  it('expires a session after 12 h idle and after 7 days however active (manual clock)', async () => {
    const { app, clock, db } = await setup();
    const idle = await signIn(app, 'owner@acme.test');
    const active = await signIn(app, 'manager@acme.test');
    const me = (s: { cookie: string }) => app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: s.cookie } });

    clock.advance(SESSION_IDLE_MS - 1);
    expect((await me(active)).statusCode).toBe(200); // touches last_used_at
    clock.advance(1);
    const expired = await me(idle);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ error: 'session_expired' });
    expect(await db.selectFrom('sessions').select('user_id').execute()).toHaveLength(1);

    // Used every 11 hours, the manager's session still ends 7 days after login.
    while (clock.now() + 11 * 3600_000 < T0 + SESSION_ABSOLUTE_MS) {
      clock.advance(11 * 3600_000);
      expect((await me(active)).statusCode).toBe(200);
    }
    clock.set(T0 + SESSION_ABSOLUTE_MS);
    expect((await me(active)).json()).toMatchObject({ error: 'session_expired' });
    expect(await db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });

  it('rate-limits login per client address and per email: 429 JSON with Retry-After', async () => {
    const { app, db } = await setup({ max: 1000, windowMs: 60_000, authMax: 3 });
    const attempt = (email: string, ip = '10.0.0.1') =>
      app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: ip, payload: { email, password: 'wrong' } });
    // Per address: three tries from one address, whatever the email; the fourth is refused.
    for (const email of ['a@acme.test', 'b@acme.test', 'c@acme.test']) expect((await attempt(email)).statusCode).toBe(401);
    const limited = await attempt('d@acme.test');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: 'rate_limited' });

    // Per email: one account attacked from many addresses.
    for (let i = 0; i < 3; i++) expect((await attempt('owner@acme.test', `10.0.1.${i}`)).statusCode).toBe(401);
    const perEmail = await attempt('owner@acme.test', '10.0.1.99');
    expect(perEmail.statusCode).toBe(429);
    expect(Number(perEmail.headers['retry-after'])).toBeGreaterThan(0);
    // Even the right password is refused while the email is limited.
    const right = await app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress: '10.0.2.1', payload: { email: 'owner@acme.test', password: TEST_PASSWORD } });
    expect(right.statusCode).toBe(429);
    expect(await db.selectFrom('sessions').selectAll().execute()).toEqual([]);
  });
});

describe('OpenAPI', () => {
  it('documents the auth, register, staff and audit routes with their schemas', async () => {
    const db = sqliteKysely(openSqlite(':memory:'));
    const app = await testApp({ db, kind: 'sqlite', location: ':memory:', close: () => db.destroy() }, manualClock(T0));
    apps.push(app);
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>> }>();
    const expected: [string, string][] = [
      ['/api/v1/auth/login', 'post'],
      ['/api/v1/auth/logout', 'post'],
      ['/api/v1/auth/me', 'get'],
      ['/api/v1/registers/pairing-codes', 'post'],
      ['/api/v1/registers/pair', 'post'],
      ['/api/v1/registers', 'get'],
      ['/api/v1/registers/{id}/revoke', 'post'],
      ['/api/v1/registers/me', 'get'],
      ['/api/v1/staff', 'get'],
      ['/api/v1/staff', 'post'],
      ['/api/v1/staff/{id}', 'patch'],
      ['/api/v1/staff/{id}/pin', 'put'],
      ['/api/v1/audit', 'get'],
    ];
    for (const [path, method] of expected) expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths['/api/v1/registers/pair']?.['post']?.requestBody).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/auth/login']?.['post']?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '429']));
    await db.destroy();
  });
});
