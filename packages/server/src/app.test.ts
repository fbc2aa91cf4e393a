import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildApp } from './app.js';
import type { AppDeps } from './app.js';
import { loadConfig } from './config.js';
import { openSqlite, sqliteKysely } from './db/database.js';
import type { Storage } from './db/database.js';
import { migrateToLatest } from './db/migrations.js';
import { createLogger } from './http/logger.js';
import { describeDb } from './testing/describe-db.js';
import { manualClock } from '@kassa/core';
import { SERVER_VERSION } from './version.js';
import { ensureLog } from './sync/change-log.js';
import { encodeCursor } from './sync/pull/cursor.js';
import { bearer, createTenant } from './sync/pull/test-fixtures.js';

const config = loadConfig({}, '/tmp');
const clock = manualClock(Date.UTC(2026, 0, 1));

function memoryStorage(): Storage {
  const db = sqliteKysely(openSqlite(':memory:'));
  return { db, kind: 'sqlite', location: ':memory:', close: () => db.destroy() };
}

const open: { app: FastifyInstance; storage: Storage }[] = [];
afterEach(async () => {
  for (const { app, storage } of open.splice(0)) {
    await app.close();
    await storage.close().catch(() => undefined);
  }
});

/** An app on an in-memory database, with a test route that has a zod body schema and one that fails. */
async function testApp(extra: Partial<AppDeps> = {}) {
  const storage = memoryStorage();
  const app = await buildApp({ storage, config, clock, ...extra });
  app.post('/test/echo', { schema: { body: z.strictObject({ name: z.string().min(1), qty: z.int().positive() }) } }, async (request) => ({
    echoed: request.body.name,
  }));
  app.get('/test/boom', async () => {
    throw new Error('boom: secret internals');
  });
  open.push({ app, storage });
  return app;
}

describeDb('GET /healthz', (dbs) => {
  it('answers ok with the database kind and version, and 503 JSON when the database is gone', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const app = await buildApp({ storage, config, clock });
    const ok = await app.inject({ method: 'GET', url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', db: dbs.kind, version: SERVER_VERSION });

    await storage.close();
    const down = await app.inject({ method: 'GET', url: '/healthz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ error: 'db_unavailable' });
    await app.close();
  });
});

describe('HTTP edge', () => {
  it('serves an OpenAPI 3 document generated from the zod schemas, and its UI', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ openapi: string; paths: Record<string, unknown>; info: { version: string } }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.info.version).toBe(SERVER_VERSION);
    expect(doc.paths).toHaveProperty('/healthz');
    // The response schema comes from zod: the enum of database kinds is in the document.
    expect(JSON.stringify(doc)).toContain('"enum":["sqlite","postgres"]');
    const ui = await app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('serves Prometheus text with the request-duration histogram by route and default metrics', async () => {
    const app = await testApp();
    await app.inject({ method: 'GET', url: '/healthz' });
    await app.inject({ method: 'GET', url: '/no/such/thing' });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toContain('# TYPE kassa_http_request_duration_seconds histogram');
    expect(res.body).toMatch(/kassa_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(res.body).toMatch(/route="unmatched",status="404"/);
    expect(res.body).toContain('process_cpu_user_seconds_total');
  });

  it('serves a plain page at / saying what is running', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('Kassa server is running');
    expect(res.body).toContain('href="/docs"');
    expect(res.body).toContain('href="/healthz"');
  });

  it('answers an unknown route with a JSON 404', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'POST', url: '/api/v1/nothing?x=1', payload: { a: 1 } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: 'not_found', message: 'no route POST /api/v1/nothing' });
  });

  it('answers input that fails the schema with 400 and the zod issues', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: '', qty: 1.5, extra: true } });
    expect(res.statusCode).toBe(400);
    const body = res.json<{ error: string; details: { issues: { path: string; code: string }[] } }>();
    expect(body.error).toBe('invalid_input');
    expect(body.details.issues.map((i) => i.path).sort()).toEqual(['/', '/name', '/qty']);
    const ok = await app.inject({ method: 'POST', url: '/test/echo', payload: { name: 'a', qty: 2 } });
    expect(ok.json()).toEqual({ echoed: 'a' });
  });

  it('answers malformed JSON with 400 and a foreign content type with 415, never a 5xx', async () => {
    const app = await testApp();
    const bad = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'invalid_json' });
    const empty = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/json' }, payload: '' });
    expect(empty.statusCode).toBe(400);
    const xml = await app.inject({ method: 'POST', url: '/test/echo', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json()).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('answers a body over 1 MiB with a JSON 413', async () => {
    const app = await testApp();
    const res = await app.inject({
      method: 'POST',
      url: '/test/echo',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(1024 * 1024), qty: 1 }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large' });
  });

  it('answers past the rate limit with 429, Retry-After and JSON', async () => {
    const app = await testApp({ rateLimit: { max: 2, windowMs: 60_000 } });
    for (let i = 0; i < 2; i++) expect((await app.inject({ method: 'GET', url: '/docs/json' })).statusCode).toBe(200);
    const limited = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json()).toMatchObject({ error: 'rate_limited' });
    // Probes are never rate limited.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('hides internals of an unexpected error behind a JSON 500', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'GET', url: '/test/boom' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal_error', message: 'an unexpected error occurred; it has been logged' });
  });

  it('sends security headers and a request id; the CSP does not force HTTPS on the shop LAN', async () => {
    const app = await testApp();
    const res = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'till-7.42' } });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(res.headers['x-request-id']).toBe('till-7.42');
    const generated = await app.inject({ method: 'GET', url: '/', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers the register sync routes without helmet\'s browser headers, keeping nosniff', async () => {
    const app = await testApp();
    const storage = open.at(-1)?.storage;
    if (!storage) throw new Error('no storage');
    await migrateToLatest(storage.db);
    const tenant = await createTenant(storage.db, 'Org');
    const store = tenant.stores[0];
    if (!store) throw new Error('fixture has a store');
    const log = await ensureLog(storage.db, tenant.orgId);
    const since = encodeCursor({ epoch: log.epoch, seq: 0, changeId: null });
    const answers = [
      await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${since}`, headers: bearer(store) }),
      await app.inject({ method: 'GET', url: '/api/v1/sync/snapshot', headers: bearer(store) }),
      await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(store), payload: { ops: [] } }),
      await app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${since}` }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 401]);
    for (const a of answers) {
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      for (const browserOnly of ['content-security-policy', 'strict-transport-security', 'cross-origin-opener-policy', 'x-frame-options', 'referrer-policy']) {
        expect(a.headers[browserOnly], browserOnly).toBeUndefined();
      }
    }
    // Pages, the docs and the back-office API keep every header.
    for (const url of ['/', '/docs/json', '/api/v1/products']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.headers['content-security-policy'], url).toContain("default-src 'self'");
      expect(res.headers['strict-transport-security'], url).toBeDefined();
    }
  });

  it('on close stops accepting but finishes a request in flight', async () => {
    const app = await testApp();
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const inHandler = new Promise<void>((r) => (entered = r));
    app.get('/test/slow', async () => {
      entered();
      await new Promise<void>((r) => (release = r));
      return { done: true };
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const inFlight = fetch(`${address}/test/slow`);
    await inHandler;
    const closing = app.close();
    await expect(fetch(`${address}/healthz`)).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await closing;
  });

  it('never logs a token, password, PIN or Authorization/Cookie header', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const app = await testApp({ logger: createLogger('info', sink) });
    app.post('/test/log', async (request) => {
      request.log.info({ headers: request.headers, body: request.body }, 'handler saw');
      return { ok: true };
    });
    const res = await app.inject({
      method: 'POST',
      url: '/test/log',
      headers: { authorization: 'Bearer tok-SECRET-1', cookie: 'kassa_session=SECRET-2' },
      payload: { password: 'SECRET-3', pin: '918273', token: 'SECRET-4', nested: { deviceToken: 'SECRET-5' } },
    });
    expect(res.statusCode).toBe(200);
    const log = lines.join('');
    expect(log).toContain('handler saw');
    expect(log).toContain('[redacted]');
    for (const secret of ['SECRET-1', 'SECRET-2', 'SECRET-3', '918273', 'SECRET-4', 'SECRET-5']) expect(log).not.toContain(secret);
  });
});
