import type { OpType } from '@kassa/core';
import { sampleId, sampleOp } from '@kassa/core/test-fixtures/ops';
import { expect, it } from 'vitest';
import { pollUntil } from '../../testing/poll.js';
import { prepareOp } from './prepare-op.js';
import { MIN_OPS_FOR_WORKER, preparePushedOps, prepareWorkerState } from './prepare-pool.js';

const TYPES: OpType[] = ['sale.completed', 'sale.voided', 'refund.completed', 'exchange.completed', 'shift.closed', 'cash.moved', 'stock.received', 'stock.counted', 'customer.upserted', 'product.edited', 'reference.edited', 'gift_card.issued'];

/** A batch with every kind of op the preparer tells apart. */
function mixedBatch(): unknown[] {
  const ops: unknown[] = [];
  for (let i = 0; ops.length < MIN_OPS_FOR_WORKER + 8; i++) {
    const type = TYPES[i % TYPES.length] as OpType;
    const op = sampleOp(type, { seq: i + 1, id: sampleId(5000 + i) } as never) as unknown as Record<string, unknown>;
    switch (i % 6) {
      case 1:
        ops.push({ ...op, payload: { ...(op['payload'] as object), unexpected: true } }); // invalid
        break;
      case 2:
        ops.push({ ...op, v: 99 }); // a version from the future
        break;
      case 3:
        ops.push({ ...op, staffId: 'lone \ud800 surrogate' }); // invalid, and no canonical form
        break;
      case 4:
        ops.push(i % 12 === 4 ? 'not an op' : { seq: 'x' }); // unreadable
        break;
      default:
        ops.push(op);
    }
  }
  return ops;
}

it('prepares a large batch on the worker thread exactly as on the main thread', async () => {
  const ops = mixedBatch();
  const here = ops.map(prepareOp);
  // The first large batch starts the worker and is prepared here meanwhile.
  expect(await preparePushedOps(ops)).toEqual(here);
  await pollUntil(() => (prepareWorkerState() === 'ready' ? true : prepareWorkerState() === 'failed' ? false : undefined), { what: 'the prepare worker', timeoutMs: 30_000 });
  expect(prepareWorkerState()).toBe('ready');
  const there = await preparePushedOps(ops);
  expect(there).toEqual(here);
  // The ops as sent are what the results carry (not copies), as when prepared here.
  expect(there[0]?.raw).toBe(ops[0]);
});

it('prepares an op nested too deep on the main thread, never cloning it to the worker', async () => {
  let deep: unknown = 'bottom';
  for (let i = 0; i < 5000; i++) deep = { deep };
  const ops = [...mixedBatch(), { ...(sampleOp('sale.completed') as object), seq: 99, payload: deep }];
  const prepared = await preparePushedOps(ops);
  expect(prepared).toEqual(ops.map(prepareOp));
  expect(prepared.at(-1)?.parsed.ok).toBe(false);
});
