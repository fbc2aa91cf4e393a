/**
 * "Any order of the same ops gives the same state" (STYLE), on the server: the ops of three
 * registers pushed in random interleavings and batchings, with retries, end in the stock levels,
 * sale-line tallies, balances and alerts that core's `deriveState` computes from the same ops in
 * one go — the register's and the server's derived state agree.
 */
import { allBalances, deriveState, derivedAlerts, emptyDerivedState, manualClock, stockLevels } from '@kassa/core';
import type { Op } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import type { PushResponse } from './push-schemas.js';
import { addRegister, bearer, createPushWorld, OpSequence } from './push-test-kit.js';

const config = loadConfig({}, '/tmp');
const R03 = sampleId(8700);
const R04 = sampleId(8701);
const VARIANT = sampleId(8702);
const ORDER_A = sampleId(8710);
const LINE_A = sampleId(8711);

/** Three registers' ops, each list in its register's seq order. */
function registersOps(): Op[][] {
  const line = sampleOp('sale.completed').payload.lines[0];
  if (line === undefined) throw new Error('no line');
  const r2 = new OpSequence();
  const r3 = new OpSequence(R03, 'R03', 0, 2000);
  const r4 = new OpSequence(R04, 'R04', 0, 3000);
  const refundLine = { saleLineId: LINE_A, productId: SAMPLE_IDS.product, qty: 1000, net: 250, tax: [], total: 250, restock: true };
  const manager = { approvedBy: SAMPLE_IDS.manager };
  return [
    [
      r2.next('stock.received', { payload: { lines: [{ productId: SAMPLE_IDS.product, variantId: VARIANT, qty: 1000 }] } }),
      r2.next('sale.completed', { payload: { orderId: ORDER_A, lines: [{ ...line, lineId: LINE_A, variantId: VARIANT }] } }),
      r2.next('gift_card.issued', { payload: { amount: 1000 } }),
      r2.next('refund.completed', { payload: { refundId: sampleId(8712), originalOrderId: ORDER_A, lines: [refundLine] } }),
    ],
    [
      r3.next('sale.voided', { ...manager, payload: { orderId: ORDER_A } }),
      r3.next('stock.adjusted', { ...manager, payload: { movementId: sampleId(8713), productId: SAMPLE_IDS.otherProduct, qtyDelta: -1000 } }),
      r3.next('gift_card.redeemed', { payload: { amount: 1500 } }),
      r3.next('stock.counted', { payload: { countId: sampleId(8714), lines: [{ productId: SAMPLE_IDS.otherProduct, counted: 3000, expected: 1000 }] } }),
    ],
    [
      r4.next('exchange.completed', {
        payload: { exchangeId: sampleId(8715), refund: { ...sampleOp('exchange.completed').payload.refund, refundId: sampleId(8716), originalOrderId: ORDER_A, lines: [{ ...refundLine, restock: false }] } },
      }),
      r4.next('stock.transferred', { ...manager, payload: { transferId: sampleId(8717), lines: [{ productId: SAMPLE_IDS.otherProduct, qty: 500 }] } }),
      r4.next('loyalty.accrued', { payload: { points: 30 } }),
    ],
  ];
}

/** What core derives from all the ops at once, in the server's row shapes. */
function expected(ops: readonly Op[]) {
  const { state } = deriveState(emptyDerivedState('EUR'), ops);
  const levels = stockLevels(state.stock)
    .filter((l) => l.onHand !== 0)
    .map((l) => ({ product_id: l.productId, variant_id: l.variantId ?? '', on_hand: l.onHand as number }));
  const balances = allBalances(state.balances).map((b) => ({ account: b.account, account_id: b.id, unit: b.unit, balance: b.balance }));
  const alerts = derivedAlerts(state)
    .filter((a) => a.kind === 'oversell' || a.kind === 'over_refund' || a.kind === 'negative_balance')
    .map((a) => a.key);
  return { levels: sortRows(levels), balances: sortRows(balances), alerts: alerts.sort() };
}

const sortRows = <T>(rows: T[]): T[] => rows.map((r) => JSON.stringify(r)).sort().map((s) => JSON.parse(s) as T);

/** A schedule step: which register pushes, how many of its next ops, and whether it first re-sends its last batch. */
const stepArb = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.boolean());

describeDb('push convergence', (dbs) => {
  it('any interleaving, batching and retrying of three registers\u2019 ops ends in core\u2019s derived state', async () => {
    const lists = registersOps();
    const oracle = expected(lists.flat());
    // The scenario has something to show: an oversell, an over-refund and a negative gift card.
    expect(oracle.alerts.map((k) => k.split(':')[0])).toEqual(['negative_balance', 'over_refund', 'oversell']);

    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 3, maxLength: 12 }), async (steps) => {
        const { storage } = await dbs.create();
        await migrateToLatest(storage.db);
        const world = await createPushWorld(storage.db);
        const tokens = [world.token, await addRegister(storage.db, world, { id: R03, code: 'R03' }), await addRegister(storage.db, world, { id: R04, code: 'R04' })];
        const app = await buildApp({ storage, config, clock: manualClock(SAMPLE_TIME + 3_600_000), rateLimit: { max: 1_000_000, windowMs: 60_000 } });
        try {
          const sent = [0, 0, 0];
          const lastBatch: Op[][] = [[], [], []];
          const push = async (r: number, batch: Op[]) => {
            const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(tokens[r] ?? ''), payload: { ops: batch } });
            expect(res.statusCode).toBe(200);
            const body = res.json<PushResponse>();
            expect(body.results.every((x) => x.status === 'applied' || x.status === 'duplicate')).toBe(true);
          };
          const steps2: [number, number, boolean][] = [...steps, [0, 9, false], [1, 9, false], [2, 9, false]];
          for (const [r, k, retry] of steps2) {
            const list = lists[r] ?? [];
            if (retry && (lastBatch[r]?.length ?? 0) > 0) await push(r, lastBatch[r] ?? []);
            const batch = list.slice(sent[r], (sent[r] ?? 0) + k);
            if (batch.length === 0) continue;
            await push(r, batch);
            sent[r] = (sent[r] ?? 0) + batch.length;
            lastBatch[r] = batch;
          }
          const db = storage.db;
          const levels = await db.selectFrom('stock_levels').select(['product_id', 'variant_id', 'on_hand']).where('on_hand', '<>', 0).execute();
          const balances = await db.selectFrom('balances').select(['account', 'account_id', 'unit', 'balance']).execute();
          const alerts = await db.selectFrom('alerts').select('key').where('status', '=', 'open').where('kind', 'in', ['oversell', 'over_refund', 'negative_balance']).execute();
          expect({
            levels: sortRows(levels),
            balances: sortRows(balances),
            // The server's oversell keys name the store; core's (one store's view) do not.
            alerts: alerts.map((a) => a.key.replace(/@.*$/, '')).sort(),
          }).toEqual(oracle);
          expect(await db.selectFrom('facts').select('id').execute()).toHaveLength(lists.flat().length);
        } finally {
          await app.close();
        }
      }),
      { numRuns: 5, seed: 20260115 },
    );
  });
});
