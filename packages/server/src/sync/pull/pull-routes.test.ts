import { randomUUID } from 'node:crypto';
import { manualClock } from '@kassa/core';
import type { LightMyRequestResponse as LightResponse } from 'fastify';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import type { App } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import type { TestDatabase } from '../../testing/describe-db.js';
import { pollUntil } from '../../testing/poll.js';
import { createChangeFeed } from '../change-feed.js';
import type { ChangeFeed } from '../change-feed.js';
import { appendChanges, pruneChangeLog, readLogHead } from '../change-log.js';
import type { ChangeInput } from '../change-log.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { bearer, createTenant } from './test-fixtures.js';
import type { TestStore, TestTenant } from './test-fixtures.js';

const config = loadConfig({}, '/tmp');

interface PullBody {
  changes: { seq: number; id: string; entity: string; entityId: string; storeId: string | null; op: string; data: unknown; at: number }[];
  cursor: string;
  hasMore: boolean;
  serverTime: number;
}

/** The harness's injected server clock. */
const NOW = Date.UTC(2026, 0, 1);

interface Harness {
  readonly db: TestDatabase;
  readonly app: App;
  readonly feed: ChangeFeed;
  readonly tenant: TestTenant;
  readonly s1: TestStore;
  readonly s2: TestStore;
  /** Appends in a transaction, then publishes, as a writer does. */
  write(changes: ChangeInput[], orgId?: string): Promise<number>;
  pull(store: TestStore, since: string, query?: Record<string, string | number>): Promise<LightResponse>;
  /** The cursor a register holds after bootstrapping now. */
  startCursor(store: TestStore): Promise<string>;
  waiters(): Promise<number>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const product = (id: string, storeId: string | null = null, name = `Product ${id}`): ChangeInput => ({
  entity: 'product',
  entityId: id,
  storeId,
  op: 'upsert',
  data: { id, name },
});

async function harness(dbs: { create(): Promise<TestDatabase> }): Promise<Harness> {
  const db = await dbs.create();
  await migrateToLatest(db.storage.db);
  const feed = createChangeFeed({ config: db.config, db: db.storage.db });
  await feed.ready;
  const app = await buildApp({ storage: db.storage, config, clock: manualClock(NOW), changeFeed: feed, rateLimit: { max: 100_000, windowMs: 60_000 } });
  cleanups.push(async () => {
    await app.close();
    await feed.close();
  });
  const tenant = await createTenant(db.storage.db, 'Org A');
  const [s1, s2] = tenant.stores;
  if (!s1 || !s2) throw new Error('fixture has two stores');
  const h: Harness = {
    db,
    app,
    feed,
    tenant,
    s1,
    s2,
    async write(changes, orgId = tenant.orgId) {
      const head = await db.storage.db.transaction().execute((trx) => appendChanges(trx, orgId, changes));
      await feed.publish(orgId);
      return head;
    },
    pull(store, since, query = {}) {
      const qs = new URLSearchParams({ since, ...Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])) });
      return app.inject({ method: 'GET', url: `/api/v1/sync/pull?${qs.toString()}`, headers: bearer(store) });
    },
    async startCursor(store) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/sync/snapshot?limit=1', headers: bearer(store) });
      expect(res.statusCode).toBe(200);
      return res.json<{ cursor: string }>().cursor;
    },
    async waiters() {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      const m = /^kassa_pull_waiters (\d+)$/m.exec(res.body);
      return Number(m?.[1] ?? NaN);
    },
  };
  return h;
}

describeDb('GET /api/v1/sync/pull', (dbs) => {
  it('pages through the changes a store may see, in seq order, then answers an empty page with the same cursor', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    await h.write([product('a'), product('b', h.s1.id), product('c', h.s2.id), product('d')]);
    await h.write([product('e', h.s1.id), product('f', h.s2.id), product('g')]);

    const p1 = await h.pull(h.s1, start, { limit: 2 });
    expect(p1.statusCode).toBe(200);
    const b1 = p1.json<PullBody>();
    expect(b1.changes.map((c) => [c.seq, c.entityId])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(b1.hasMore).toBe(true);
    expect(b1.serverTime).toBe(NOW);
    expect(b1.changes[1]).toMatchObject({ entity: 'product', storeId: h.s1.id, op: 'upsert', data: { id: 'b', name: 'Product b' } });
    expect(b1.changes[1]?.id).toMatch(/^[0-9a-f-]{36}$/);

    const b2 = (await h.pull(h.s1, b1.cursor, { limit: 2 })).json<PullBody>();
    expect(b2.changes.map((c) => c.entityId)).toEqual(['d', 'e']);
    expect(b2.hasMore).toBe(true);
    // The last change (g) is org-wide; f (store 2) is skipped, never shown.
    const b3 = (await h.pull(h.s1, b2.cursor, { limit: 2 })).json<PullBody>();
    expect(b3.changes.map((c) => c.entityId)).toEqual(['g']);
    expect(b3.hasMore).toBe(false);
    expect(decodeCursor(b3.cursor).seq).toBe(7);

    const b4 = (await h.pull(h.s1, b3.cursor)).json<PullBody>();
    expect(b4).toEqual({ changes: [], cursor: b3.cursor, hasMore: false, serverTime: NOW });

    // Store 2 sees its own rows and the org-wide ones; a cursor past another store's last row covers it.
    const all2 = (await h.pull(h.s2, start)).json<PullBody>();
    expect(all2.changes.map((c) => c.entityId)).toEqual(['a', 'c', 'd', 'f', 'g']);
    await h.write([product('h', h.s1.id)]);
    const after2 = (await h.pull(h.s2, all2.cursor)).json<PullBody>();
    expect(after2.changes).toEqual([]);
    expect(decodeCursor(after2.cursor).seq).toBe(8);
  });

  it('long-polls: a publish for its organisation wakes it with the change', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    const started = Date.now();
    const polling = h.pull(h.s1, start, { wait: 20 });
    await pollUntil(async () => ((await h.waiters()) === 1 ? true : undefined), { what: 'one pull waiting', intervalMs: 10 });

    // Another organisation's change does not answer it.
    const other = await createTenant(h.db.storage.db, 'Org B', 1);
    await h.write([product('x')], other.orgId);
    // Another store's change wakes it, finds nothing visible, and it waits on.
    await h.write([product('y', h.s2.id)]);
    await pollUntil(async () => ((await h.waiters()) === 1 ? true : undefined), { what: 'the pull to wait again', intervalMs: 10 });
    await h.write([product('z', h.s1.id)]);

    const res = await polling;
    expect(res.statusCode).toBe(200);
    const body = res.json<PullBody>();
    expect(body.changes.map((c) => [c.seq, c.entityId])).toEqual([[2, 'z']]);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(await h.waiters()).toBe(0);
  });

  it('long-polls until the wait ends, then answers the empty page with the same cursor', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    const started = Date.now();
    const res = await h.pull(h.s1, start, { wait: 0.3 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ changes: [], cursor: start, hasMore: false, serverTime: NOW });
    expect(await h.waiters()).toBe(0);
  });

  it('releases waiting pulls when the server closes', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    const polling = h.pull(h.s1, start, { wait: 30 });
    await pollUntil(async () => ((await h.waiters()) === 1 ? true : undefined), { what: 'one pull waiting', intervalMs: 10 });
    const started = Date.now();
    await h.app.close();
    const res = await polling;
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ changes: [], cursor: start, hasMore: false, serverTime: NOW });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops waiting for a register that hung up', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    const address = await h.app.listen({ port: 0, host: '127.0.0.1' });
    const hangUp = new AbortController();
    const polling = fetch(`${address}/api/v1/sync/pull?since=${start}&wait=30`, { headers: bearer(h.s1), signal: hangUp.signal });
    await pollUntil(async () => ((await h.waiters()) === 1 ? true : undefined), { what: 'one pull waiting', intervalMs: 10 });
    hangUp.abort();
    await expect(polling).rejects.toThrow();
    await pollUntil(async () => ((await h.waiters()) === 0 ? true : undefined), { what: 'the waiter to go', intervalMs: 10, timeoutMs: 5_000 });
  });

  it('answers a missing, garbled or forged cursor and bad limits with 400, and no token with 401', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    const get = (qs: string) => h.app.inject({ method: 'GET', url: `/api/v1/sync/pull${qs}`, headers: bearer(h.s1) });

    expect((await get('')).json()).toMatchObject({ error: 'invalid_input' });
    for (const since of ['garbage!', 'abc', Buffer.from('{"v":1}').toString('base64url'), Buffer.from('[1,2]').toString('base64url'), 'x'.repeat(600)]) {
      const res = await get(`?since=${encodeURIComponent(since)}`);
      expect(res.statusCode, since).toBe(400);
      expect(['invalid_cursor', 'invalid_input']).toContain(res.json<{ error: string }>().error);
    }
    const seqWithoutId = encodeCursor({ epoch: decodeCursor(start).epoch, seq: 3, changeId: null });
    expect((await get(`?since=${seqWithoutId}`)).json()).toMatchObject({ error: 'invalid_cursor' });
    for (const q of ['limit=0', 'limit=1001', 'limit=two', 'wait=31', 'wait=-1', 'extra=1']) {
      const res = await get(`?since=${start}&${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_input' });
    }
    const anonymous = await h.app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${start}` });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: 'invalid_token' });
    const forged = await h.app.inject({ method: 'GET', url: `/api/v1/sync/pull?since=${start}`, headers: { authorization: 'Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAA' } });
    expect(forged.statusCode).toBe(401);
    // Without a token, a bad query is not validated either: 401 first, never a 400 telling the schema.
    const anonymousBadQuery = await h.app.inject({ method: 'GET', url: '/api/v1/sync/pull?limit=two' });
    expect(anonymousBadQuery.statusCode).toBe(401);
    const anonymousSnapshot = await h.app.inject({ method: 'GET', url: '/api/v1/sync/snapshot?page=%%%' });
    expect(anonymousSnapshot.statusCode).toBe(401);
  });

  it('answers 410 resync_required for a cursor of another log epoch, or one ahead of the log', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    await h.write([product('a')]);
    const other = encodeCursor({ ...decodeCursor(start), epoch: randomUUID() });
    const res = await h.pull(h.s1, other);
    expect(res.statusCode).toBe(410);
    expect(res.json()).toMatchObject({ error: 'resync_required', details: { reason: 'other_log' } });

    const ahead = encodeCursor({ epoch: decodeCursor(start).epoch, seq: 5, changeId: randomUUID() });
    expect((await h.pull(h.s1, ahead)).json()).toMatchObject({ error: 'resync_required', details: { reason: 'ahead_of_log' } });
    const wrongId = encodeCursor({ epoch: decodeCursor(start).epoch, seq: 1, changeId: randomUUID() });
    expect((await h.pull(h.s1, wrongId)).json()).toMatchObject({ error: 'resync_required', details: { reason: 'unknown_change' } });
    // A cursor of another organisation's log is another epoch to this device.
    const otherOrg = await createTenant(h.db.storage.db, 'Org B', 1);
    const foreign = await h.startCursor(otherOrg.stores[0] as TestStore);
    expect((await h.pull(h.s1, foreign)).json()).toMatchObject({ error: 'resync_required', details: { reason: 'other_log' } });
  });

  it('answers 410 for a cursor older than the pruned horizon; a cursor at or past it goes on', async () => {
    const h = await harness(dbs);
    const start = await h.startCursor(h.s1);
    await h.write([product('a'), product('b')]);
    const mid = (await h.pull(h.s1, start, { limit: 1 })).json<PullBody>().cursor;
    const atTwo = (await h.pull(h.s1, mid)).json<PullBody>().cursor;
    await h.write([product('c')]);
    const before = await readLogHead(h.db.storage.db, h.tenant.orgId);

    // Prune everything logged so far: the horizon reaches 3.
    expect(await pruneChangeLog(h.db.storage.db, h.tenant.orgId, Date.now() + 1)).toEqual({ removed: 3, horizon: 3 });
    for (const cursor of [start, mid, atTwo]) {
      const res = await h.pull(h.s1, cursor);
      expect(res.statusCode).toBe(410);
      expect(res.json()).toMatchObject({ error: 'resync_required', details: { reason: 'pruned' } });
    }
    // A register that re-bootstraps gets a cursor at the horizon and follows on from there.
    const fresh = await h.startCursor(h.s1);
    expect(decodeCursor(fresh)).toMatchObject({ epoch: before?.epoch, seq: 3 });
    await h.write([product('d')]);
    const next = (await h.pull(h.s1, fresh)).json<PullBody>();
    expect(next.changes.map((c) => [c.seq, c.entityId])).toEqual([[4, 'd']]);
  });

  it('shows a device only its own organisation and store', async () => {
    const h = await harness(dbs);
    const other = await createTenant(h.db.storage.db, 'Org B', 1);
    const b1 = other.stores[0] as TestStore;
    const startA = await h.startCursor(h.s1);
    const startB = await h.startCursor(b1);
    await h.write([product('a-org'), product('a-s1', h.s1.id), product('a-s2', h.s2.id)]);
    await h.write([product('b-org'), product('b-s1', b1.id)], other.orgId);

    expect((await h.pull(h.s1, startA)).json<PullBody>().changes.map((c) => c.entityId)).toEqual(['a-org', 'a-s1']);
    expect((await h.pull(h.s2, startA)).json<PullBody>().changes.map((c) => c.entityId)).toEqual(['a-org', 'a-s2']);
    expect((await h.pull(b1, startB)).json<PullBody>().changes.map((c) => c.entityId)).toEqual(['b-org', 'b-s1']);
    // A revoked register gets 401 register_revoked.
    await h.db.storage.db.updateTable('registers').set({ revoked: 1 }).where('id', '=', h.s1.registerId).execute();
    expect((await h.pull(h.s1, startA)).json()).toMatchObject({ error: 'register_revoked' });
  });

  it('reports the change-log head and is documented in OpenAPI', async () => {
    const h = await harness(dbs);
    await h.write([product('a'), product('b')]);
    const other = await createTenant(h.db.storage.db, 'Org B', 1);
    await h.write([product('c')], other.orgId);
    const metrics = (await h.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^kassa_change_log_head 3$/m);
    expect(metrics).toMatch(/^kassa_pull_waiters 0$/m);
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>();
    expect(doc.paths['/api/v1/sync/pull']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['limit', 'since', 'wait']);
    expect(doc.paths['/api/v1/sync/snapshot']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['limit', 'page']);
    const schemas = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ components: { schemas: Record<string, { properties: Record<string, { type?: string; description?: string }>; required?: string[] }> } }>().components.schemas;
    for (const name of ['PullResponse', 'SnapshotPage']) {
      expect(schemas[name]?.properties['serverTime']).toMatchObject({ type: 'integer', description: expect.stringContaining('ms since the Unix epoch') });
      expect(schemas[name]?.required).toContain('serverTime');
    }
  });
});
