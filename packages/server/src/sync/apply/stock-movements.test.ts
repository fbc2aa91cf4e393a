import { canonicalJson, manualClock, opStockMovements, resolveSameId } from '@kassa/core';
import type { FactOp } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId } from '@kassa/core/test-fixtures/ops';
import { afterEach, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import type { TestDatabaseFactory } from '../../testing/describe-db.js';
import { addRegister, bearer, createPushWorld, OpSequence } from '../push/push-test-kit.js';
import { DERIVED_MOVEMENT } from './stock-movements.js';

const config = loadConfig({}, '/tmp');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two registers' deliveries that claim one movement id (a register reusing a movement id) with other quantities. */
function rivals() {
  const a = new OpSequence();
  const b = new OpSequence(sampleId(7700), 'R03', 0, 3000);
  const movementId = sampleId(8100);
  const line = (qty: number) => ({ payload: { movementId, lines: [{ productId: SAMPLE_IDS.product, qty }] } });
  return { fromA: a.next('stock.received', line(1000)), fromB: b.next('stock.received', line(4000)), sale: a.next('sale.completed') };
}

async function run(dbs: TestDatabaseFactory, first: 'A' | 'B') {
  const { storage } = await dbs.create();
  await migrateToLatest(storage.db);
  const world = await createPushWorld(storage.db);
  const tokenB = await addRegister(storage.db, world, { id: sampleId(7700), code: 'R03', lastReceiptNumber: 0 });
  const app = await buildApp({ storage, config, clock: manualClock(SAMPLE_TIME + 3_600_000), rateLimit: { max: 1_000_000, windowMs: 60_000 } });
  cleanups.push(() => app.close());
  const push = async (ops: unknown[], token: string) => {
    const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(token), payload: { ops } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ results: { status: string }[] }>().results.map((r) => r.status);
  };
  const { fromA, fromB, sale } = rivals();
  const pushA = () => push([fromA], world.token);
  const pushB = () => push([fromB], tokenB);
  expect(first === 'A' ? [await pushA(), await pushB()] : [await pushB(), await pushA()]).toEqual([['applied'], ['applied']]);
  // A sale after them counts on top of the kept delivery.
  expect(await push([sale], world.token)).toEqual(['applied']);
  const db = storage.db;
  const movements = await db.selectFrom('stock_movements').select(['id', 'op_id', 'kind', 'delta', 'movement_json']).where('kind', '=', 'receipt').execute();
  const levels = await db.selectFrom('stock_levels').select(['product_id', 'on_hand']).orderBy('product_id').execute();
  const alerts = await db.selectFrom('alerts').select(['kind', 'status']).where('kind', '=', 'conflicting_fact').execute();
  return { movements, levels, alerts, fromA, fromB, sale };
}

describeDb('stock movements stored without their JSON', (dbs) => {
  it('a movement id claimed twice keeps core’s pick, whatever the arrival order, from movements derived again from their ops', async () => {
    const ab = await run(dbs, 'A');
    const ba = await run(dbs, 'B');
    const [mA] = opStockMovements(ab.fromA as FactOp);
    const [mB] = opStockMovements(ab.fromB as FactOp);
    if (!mA || !mB) throw new Error('each delivery moves stock');
    const kept = resolveSameId(mA, mB).fact;
    expect(kept).toBe(canonicalJson(mA) < canonicalJson(mB) ? mA : mB);
    const keptOp = kept === mA ? ab.fromA.id : ab.fromB.id;
    for (const r of [ab, ba]) {
      // One row, the kept delivery's, stored as derivable (no JSON), and stock counts it once.
      expect(r.movements).toEqual([{ id: kept.id, op_id: keptOp, kind: 'receipt', delta: kept === mA ? 1000 : 4000, movement_json: DERIVED_MOVEMENT }]);
      expect(r.alerts).toEqual([{ kind: 'conflicting_fact', status: 'open' }]);
    }
    // The sale (2 pieces) is counted on top of the kept delivery, the same in both orders.
    expect(ab.levels).toEqual(ba.levels);
    expect(ab.levels).toEqual([{ product_id: SAMPLE_IDS.product, on_hand: (kept === mA ? 1000 : 4000) - 2000 }]);
  });
});
