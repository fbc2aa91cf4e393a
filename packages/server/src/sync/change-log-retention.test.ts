import { manualClock } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import type { App } from '../app.js';
import { loadConfig } from '../config.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeDb } from '../testing/describe-db.js';
import { pollUntil } from '../testing/poll.js';
import { readLogHead } from './change-log.js';
import { pruneChangeLogs, startChangeLogPruner } from './change-log-retention.js';
import { bearer, createPushWorld, hlcAt, OpSequence } from './push/push-test-kit.js';

const DAY = 24 * 60 * 60 * 1000;
const NOW = SAMPLE_TIME + 3_600_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describeDb('change log retention', (dbs) => {
  it('the server prunes on its timer past KASSA_CHANGE_LOG_RETENTION_DAYS: an older cursor gets 410, the snapshot still serves the catalog, stock and staff', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const clock = manualClock(NOW);
    const config = loadConfig({ KASSA_CHANGE_LOG_RETENTION_DAYS: '30' }, '/tmp');
    const app: App = await buildApp({ storage, config, clock, rateLimit: { max: 1_000_000, windowMs: 60_000 }, changeLogPruning: { firstRunMs: 0, intervalMs: 20 } });
    cleanups.push(() => app.close());
    const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
      const res = await app.inject({ method, url, headers: bearer(world.token), ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }) });
      return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
    };

    // A register bootstraps, then a delivery is logged after its cursor.
    const bootstrap = await call('GET', '/api/v1/sync/snapshot');
    expect(bootstrap.status).toBe(200);
    const oldCursor = bootstrap.body['cursor'] as string;
    const ops = new OpSequence();
    const first = ops.next('stock.received', { staffId: world.managerId, hlc: hlcAt(NOW), deviceTime: NOW });
    expect((await call('POST', '/api/v1/sync/push', { ops: [first] })).status).toBe(200);

    // 31 days on: a young change comes in; the timer prunes everything older than 30 days.
    clock.set(NOW + 31 * DAY);
    const young = ops.next('stock.received', { staffId: world.managerId, hlc: hlcAt(NOW + 31 * DAY), deviceTime: NOW + 31 * DAY, payload: { movementId: '0192f5a0-0000-7000-8000-00000000a001' } });
    expect((await call('POST', '/api/v1/sync/push', { ops: [young] })).status).toBe(200);
    const head = await pollUntil(async () => {
      const h = await readLogHead(storage.db, world.orgId);
      return h !== undefined && h.horizon > 0 ? h : undefined;
    }, { what: 'the pruning timer to advance the horizon' });
    expect(head.horizon).toBe(head.head - 1);

    const stale = await call('GET', `/api/v1/sync/pull?since=${oldCursor}`);
    expect(stale.status).toBe(410);
    expect(stale.body).toMatchObject({ error: 'resync_required', details: { reason: 'pruned' } });

    // A fresh bootstrap loses nothing but the pruned facts: levels count both deliveries, the
    // catalog and staff are there, and the log follows on from its cursor.
    const again = await call('GET', '/api/v1/sync/snapshot?limit=1000');
    expect(again.status).toBe(200);
    const items = again.body['items'] as { entity: string; entityId: string; data: Record<string, unknown> }[];
    const level = items.find((i) => i.entity === 'stock_level' && i.entityId === SAMPLE_IDS.product);
    expect(level?.data['onHand']).toBe(2 * 24_000);
    expect(new Set(items.map((i) => i.entity))).toEqual(new Set(['stock_level', 'store', 'product', 'staff']));
    const follow = await call('GET', `/api/v1/sync/pull?since=${again.body['cursor'] as string}`);
    expect(follow.status).toBe(200);
    expect(follow.body['changes']).toEqual([]);
  });

  it('pruneChangeLogs prunes every organisation by the injected clock; a stopped pruner runs no more', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const clock = manualClock(NOW);
    const config = loadConfig({}, '/tmp');
    const app = await buildApp({ storage, config, clock, rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    cleanups.push(() => app.close());
    const ops = new OpSequence();
    const op = ops.next('stock.received', { staffId: world.managerId, hlc: hlcAt(NOW), deviceTime: NOW });
    const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(world.token), payload: { ops: [op] } });
    expect(res.statusCode).toBe(200);

    expect(await pruneChangeLogs(storage.db, clock, 90)).toEqual({ organisations: 1, removed: 0, beforeMs: NOW - 90 * DAY });
    clock.set(NOW + 90 * DAY + 1);
    const pruner = startChangeLogPruner({ db: storage.db, clock, retentionDays: 90, firstRunMs: 3_600_000 });
    await pruner.stop();
    expect((await readLogHead(storage.db, world.orgId))?.horizon).toBe(0);
    expect(await pruneChangeLogs(storage.db, clock, 90)).toMatchObject({ organisations: 1, removed: 1 });
    expect((await readLogHead(storage.db, world.orgId))?.horizon).toBe(1);
  });
});
