import { manualClock } from '@kassa/core';
import { SAMPLE_TIME, sampleId } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import type { App } from '../app.js';
import { loadConfig } from '../config.js';
import { migrateToLatest } from '../db/migrations.js';
import { describeDb } from '../testing/describe-db.js';
import { addRegister, bearer, createPushWorld } from './push/push-test-kit.js';

const config = loadConfig({}, '/tmp');
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describeDb('sync routes are rate-limited per register, not per address', (dbs) => {
  it('30 registers behind one address pulling are not 429’d; one register hammering is, without touching the others or its pushes', async () => {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    const tokens: string[] = [];
    for (let i = 0; i < 30; i += 1) {
      tokens.push(await addRegister(storage.db, world, { id: sampleId(3000 + i), code: `R${String(10 + i)}` }));
    }
    // Per address: 10 a minute — less than the 30 registers behind it. Per register: 5 a minute.
    const app = await buildApp({ storage, config, clock: manualClock(SAMPLE_TIME), rateLimit: { max: 10, windowMs: 60_000, deviceMax: 5 } });
    apps.push(app);
    const call = (token: string, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
      app.inject({ method, url, headers: bearer(token), remoteAddress: '203.0.113.7', ...(payload === undefined ? {} : { payload }) });

    const first = await Promise.all(tokens.map((t) => call(t, 'GET', '/api/v1/sync/snapshot?limit=1')));
    expect(first.map((r) => r.statusCode)).toEqual(tokens.map(() => 200));
    const cursor = first[0]?.json<{ cursor: string }>().cursor ?? '';
    const pulls = await Promise.all(tokens.map((t) => call(t, 'GET', `/api/v1/sync/pull?since=${cursor}`)));
    expect(pulls.map((r) => r.statusCode)).toEqual(tokens.map(() => 200));

    // One register in a loop: its sixth pull within the minute is refused, with Retry-After.
    const hammer = tokens[0] ?? '';
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await call(hammer, 'GET', `/api/v1/sync/pull?since=${cursor}`));
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 429]);
    const refused = answers[4];
    expect(refused?.json()).toMatchObject({ error: 'rate_limited' });
    expect(Number(refused?.headers['retry-after'])).toBeGreaterThan(0);

    // Its pushes and the other registers' pulls have budgets of their own.
    expect((await call(hammer, 'POST', '/api/v1/sync/push', { ops: [] })).statusCode).toBe(200);
    expect((await call(tokens[1] ?? '', 'GET', `/api/v1/sync/pull?since=${cursor}`)).statusCode).toBe(200);
    // A stranger's tokens are refused before they are counted: no budget to exhaust for anyone.
    for (let i = 0; i < 12; i += 1) expect((await call(`forged-token-${String(i).padStart(20, '0')}`, 'GET', '/api/v1/sync/snapshot')).statusCode).toBe(401);
    expect((await call(tokens[2] ?? '', 'GET', '/api/v1/sync/snapshot?limit=1')).statusCode).toBe(200);
  });
});
