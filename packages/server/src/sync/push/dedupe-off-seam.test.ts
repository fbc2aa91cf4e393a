import { manualClock } from '@kassa/core';
import { SAMPLE_IDS, SAMPLE_TIME, sampleId } from '@kassa/core/test-fixtures/ops';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../config.js';
import { migrateToLatest } from '../../db/migrations.js';
import { describeDb } from '../../testing/describe-db.js';
import { dedupeOffFromEnv } from './dedupe-off-seam.js';
import type { PushResponse } from './push-schemas.js';
import { bearer, createPushWorld, OpSequence } from './push-test-kit.js';

const config = loadConfig({}, '/tmp');
const NOW = SAMPLE_TIME + 3_600_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function saleOf(ops: OpSequence, n: number) {
  const total = 500;
  const tax = Math.round((total * 19) / 119);
  return ops.next('sale.completed', {
    payload: {
      orderId: sampleId(5000 + n),
      lines: [
        {
          lineId: sampleId(6000 + n),
          productId: SAMPLE_IDS.product,
          sku: 'MUG-01',
          name: 'Coffee mug',
          unitPrice: 250,
          qty: 2000,
          taxes: [{ rateId: 'vat-std', name: 'VAT 19%', ratePpm: 190_000 }],
          gross: total,
          lineDiscount: 0,
          orderDiscount: 0,
          net: total,
          tax: [{ rateId: 'vat-std', amount: tax }],
          total,
        },
      ],
      subtotal: total,
      taxTotal: tax,
      total,
      taxSummary: [],
      tenders: [{ tenderId: sampleId(7000 + n), kind: 'cash', amount: total, given: total }],
      change: 0,
    },
  });
}

describe('KASSA_TEST_DEDUPE_OFF (test-only seam)', () => {
  it('is off unless set, on only with NODE_ENV=test, and refused anywhere else', () => {
    expect(dedupeOffFromEnv({})).toBe(false);
    expect(dedupeOffFromEnv({ KASSA_TEST_DEDUPE_OFF: '0', NODE_ENV: 'production' })).toBe(false);
    expect(dedupeOffFromEnv({ KASSA_TEST_DEDUPE_OFF: '1', NODE_ENV: 'test' })).toBe(true);
    expect(() => dedupeOffFromEnv({ KASSA_TEST_DEDUPE_OFF: '1', NODE_ENV: 'production' })).toThrow(/honoured only with NODE_ENV=test/);
    expect(() => dedupeOffFromEnv({ KASSA_TEST_DEDUPE_OFF: '1' })).toThrow(/honoured only with NODE_ENV=test/);
    expect(() => dedupeOffFromEnv({ KASSA_TEST_DEDUPE_OFF: 'yes', NODE_ENV: 'test' })).toThrow(/must be 1 or unset/);
  });
});

describeDb('the dedupe-off seam', (dbs) => {
  async function pushTwice(testDedupeOff: boolean): Promise<{ again: PushResponse; sales: { receipt_no: string; total: number }[]; onHand: number[] }> {
    const { storage } = await dbs.create();
    await migrateToLatest(storage.db);
    const world = await createPushWorld(storage.db);
    // The route reads the seam when it is registered; vitest runs with NODE_ENV=test.
    if (testDedupeOff) process.env['KASSA_TEST_DEDUPE_OFF'] = '1';
    const app = await buildApp({ storage, config, clock: manualClock(NOW), rateLimit: { max: 1_000_000, windowMs: 60_000 } }).finally(() => delete process.env['KASSA_TEST_DEDUPE_OFF']);
    cleanups.push(() => app.close());
    const ops = new OpSequence();
    const batch = [saleOf(ops, 1)];
    const push = async () => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/sync/push', headers: bearer(world.token), payload: { ops: batch } });
      expect(res.statusCode, res.body).toBe(200);
      return res.json<PushResponse>();
    };
    await push();
    const again = await push(); // the same batch re-sent, as after a lost ack
    const sales = (await storage.db.selectFrom('sales').select(['receipt_no', 'total']).execute()).map((s) => ({ receipt_no: s.receipt_no, total: Number(s.total) }));
    const onHand = (await storage.db.selectFrom('stock_levels').select('on_hand').where('product_id', '=', SAMPLE_IDS.product).execute()).map((l) => Number(l.on_hand));
    return { again, sales, onHand };
  }

  it('off (as always outside this test): a re-sent sale is answered duplicate and held once', async () => {
    const { again, sales, onHand } = await pushTwice(false);
    expect(again.results.map((r) => r.status)).toEqual(['duplicate']);
    expect(sales).toEqual([{ receipt_no: 'S01-R02-000123', total: 500 }]);
    expect(onHand).toEqual([-2000]);
  });

  it('on: a re-sent sale is counted again — the same receipt number twice, stock moved twice', async () => {
    const { again, sales, onHand } = await pushTwice(true);
    expect(again.results.map((r) => r.status)).toEqual(['applied']);
    expect(sales).toEqual([
      { receipt_no: 'S01-R02-000123', total: 500 },
      { receipt_no: 'S01-R02-000123', total: 500 },
    ]);
    expect(onHand).toEqual([-4000]);
  });
});
