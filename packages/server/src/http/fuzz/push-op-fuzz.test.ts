/**
 * A deeper fuzz of `POST /api/v1/sync/push` than the route-level one can reach: well-formed batches
 * of real ops of every type (core's samples, a manager's, receipts chained) with one field turned
 * hostile — a nasty string, an edge number, a wrong type, a missing field, an envelope out of shape.
 * These pass the batch schema and reach the per-op validation and the appliers. Asserts: every
 * batch is answered 200 with one result per op in the statuses of DESIGN §3 (never a 5xx), and the
 * same batch again — a lost response retried — changes no row.
 */
import fc from 'fast-check';
import { manualClock, OP_TYPES } from '@kassa/core';
import { SAMPLE_TIME } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import type { App } from '../../app.js';
import { testApp } from '../../auth/auth-test-kit.js';
import { migrateToLatest } from '../../db/migrations.js';
import { OpSequence, bearer, createPushWorld } from '../../sync/push/push-test-kit.js';
import { describeDb } from '../../testing/describe-db.js';
import { diffSnapshots, snapshotDb } from './db-snapshot.js';
import { nastyJson } from './fuzz-arbitraries.js';

const BATCHES = Number(process.env['FUZZ_PUSH_BATCHES'] ?? 60);
const SEED = Number(process.env['FUZZ_SEED'] ?? Date.now() % 2 ** 31);
const STATUSES = new Set(['applied', 'duplicate', 'quarantined', 'seq_conflict', 'pending_gap', 'deferred']);

const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

/** How one op of a batch is spoiled (or not). */
const spoilArb = fc.record({
  type: fc.constantFrom(...OP_TYPES),
  where: fc.constantFrom('none', 'none', 'payload', 'payload', 'payload', 'envelope', 'drop'),
  pick: fc.nat(),
  value: nastyJson,
});

describeDb('fuzz: push with hostile ops of every type', (dbs) => {
  it('answers every batch 200 with a status per op, and a retried batch changes nothing', { timeout: 180_000 }, async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const app = await testApp(storage, manualClock(SAMPLE_TIME + 3_600_000), { rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    apps.push(app);
    const ops = new OpSequence(world.registerId);
    const batches = fc.sample(fc.array(spoilArb, { minLength: 1, maxLength: 4 }), { numRuns: BATCHES, seed: SEED });
    const failures: string[] = [];
    const seen = new Map<string, number>();
    for (const spoils of batches) {
      const batch = spoils.map((s) => {
        const op = ops.next(s.type, { staffId: world.managerId }) as unknown as Record<string, unknown>;
        const payload = op['payload'] as Record<string, unknown>;
        const target = s.where === 'envelope' ? op : payload;
        // An op without a readable {v, id, deviceId, seq} takes no seq, so every later op would wait
        // behind the gap: those four stay intact (the route-level fuzz spoils them).
        const keys = Object.keys(target).filter((k) => s.where !== 'envelope' || !['payload', 'v', 'id', 'deviceId', 'seq'].includes(k));
        const key = keys[s.pick % Math.max(keys.length, 1)];
        if (key !== undefined && s.where === 'drop') delete payload[key];
        else if (key !== undefined && s.where !== 'none') target[key] = s.value;
        return op;
      });
      const text = JSON.stringify({ ops: batch });
      const what = `${text.slice(0, 1_500)} (FUZZ_SEED=${SEED})`;
      const first = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: { ...bearer(world.token), 'content-type': 'application/json' }, payload: text });
      // Fastify refuses a body with a `__proto__` or `constructor.prototype` key as a whole
      // (prototype-poisoning protection): a 400 `invalid_json`, by design.
      const poisoned = first.statusCode === 400 && /"(__proto__|constructor)"/.test(text) && first.json<{ error: string }>().error === 'invalid_json';
      if (poisoned) continue;
      if (first.statusCode !== 200) {
        failures.push(`${first.statusCode} ${first.body.slice(0, 300)} ← ${what}`);
        continue;
      }
      const results = first.json<{ results: { status: string }[] }>().results;
      if (results.length !== batch.length || results.some((r) => !STATUSES.has(r.status))) failures.push(`results ${JSON.stringify(results)} ← ${what}`);
      for (const r of results) seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
      // A lost response, retried: the same batch again changes nothing.
      const before = await snapshotDb(storage.db);
      const again = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: { ...bearer(world.token), 'content-type': 'application/json' }, payload: text });
      const diff = diffSnapshots(before, await snapshotDb(storage.db));
      if (again.statusCode !== 200) failures.push(`retry ${again.statusCode} ${again.body.slice(0, 300)} ← ${what}`);
      if (Object.keys(diff).length > 0) failures.push(`retry changed ${JSON.stringify(diff).slice(0, 1_000)} ← ${what}`);
    }
    const summary = `statuses ${JSON.stringify(Object.fromEntries(seen))} (FUZZ_SEED=${SEED})`;
    expect(failures, summary).toEqual([]);
    // The fuzz reaches the appliers: some ops apply, some are quarantined.
    expect(seen.get('applied') ?? 0, summary).toBeGreaterThan(0);
    expect(seen.get('quarantined') ?? 0, summary).toBeGreaterThan(0);
  });
});
