import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import type { CompletedRefund, CompletedSale, SaleLine } from './order-schema.js';
import { qtyMilli, units } from './quantity.js';
import {
  applyMovements,
  emptyStockLedger,
  exchangeMovements,
  movementDelta,
  onHand,
  refundMovements,
  saleMovements,
  stockAlerts,
  stockLevels,
  type StockLedger,
  type StockMovement,
} from './stock-ledger.js';

const apply = (movements: StockMovement[], state: StockLedger = emptyStockLedger()): StockLedger => applyMovements(state, movements).state;

const receipt = (id: string, productId: string, qty: number, variantId?: string): StockMovement => ({
  kind: 'receipt',
  id,
  productId,
  ...(variantId === undefined ? {} : { variantId }),
  qty: qtyMilli(qty),
});
const sold = (orderId: string, lineId: string, productId: string, qty: number): StockMovement => ({
  kind: 'sale',
  id: `${orderId}:${lineId}`,
  productId,
  qty: qtyMilli(qty),
  orderId,
  lineId,
});
const refunded = (refundId: string, orderId: string, lineId: string, productId: string, qty: number, restock = true): StockMovement => ({
  kind: 'refund',
  id: `${refundId}:${lineId}`,
  productId,
  qty: qtyMilli(qty),
  restock,
  refundId,
  originalOrderId: orderId,
  saleLineId: lineId,
});

describe('movementDelta', () => {
  it('gives each kind its sign', () => {
    expect(movementDelta(receipt('r', 'p', 2000))).toBe(2000);
    expect(movementDelta(sold('o', 'l', 'p', 375))).toBe(-375);
    expect(movementDelta(refunded('f', 'o', 'l', 'p', 1000))).toBe(1000);
    expect(movementDelta(refunded('f', 'o', 'l', 'p', 1000, false))).toBe(0);
    expect(movementDelta({ kind: 'adjustment', id: 'a', productId: 'p', delta: qtyMilli(-3000), reason: 'broken' })).toBe(-3000);
    expect(movementDelta({ kind: 'transfer_out', id: 't', productId: 'p', qty: units(4), transferId: 't1' })).toBe(-4000);
    expect(movementDelta({ kind: 'transfer_in', id: 't', productId: 'p', qty: units(4), transferId: 't1' })).toBe(4000);
    // counted 7, expected 9: two missing
    expect(movementDelta({ kind: 'count', id: 'c', productId: 'p', counted: units(7), expected: units(9) })).toBe(-2000);
  });

  it('refuses a sale of zero or fewer pieces', () => {
    expect(() => movementDelta(sold('o', 'l', 'p', 0))).toThrow(InvalidArgumentError);
    expect(() => applyMovements(emptyStockLedger(), [sold('o', 'l', 'p', -1000)])).toThrow(InvalidArgumentError);
  });
});

describe('applyMovements', () => {
  it('sums the movements of a product', () => {
    const state = apply([
      receipt('r1', 'soap', 10_000),
      sold('o1', 'l1', 'soap', 3000),
      sold('o2', 'l1', 'soap', 2000),
      { kind: 'adjustment', id: 'a1', productId: 'soap', delta: qtyMilli(-1000), reason: 'dropped' },
      // counted 3 when 4 were expected (10 − 3 − 2 − 1)
      { kind: 'count', id: 'c1', productId: 'soap', counted: units(3), expected: units(4) },
      { kind: 'transfer_in', id: 't1', productId: 'soap', qty: units(5), transferId: 'tr-1' },
      { kind: 'transfer_out', id: 't2', productId: 'soap', qty: units(2), transferId: 'tr-2' },
    ]);
    // 10 − 3 − 2 − 1 − 1 + 5 − 2 = 6
    expect(onHand(state, 'soap')).toBe(6000);
    expect(onHand(state, 'unknown')).toBe(0);
  });

  it('keeps variants apart and adds them up for the product', () => {
    const state = apply([receipt('r1', 'shirt', 4000, 'M'), receipt('r2', 'shirt', 2000, 'L'), receipt('r3', 'shirt', 1000)]);
    expect(onHand(state, 'shirt', 'M')).toBe(4000);
    expect(onHand(state, 'shirt', 'L')).toBe(2000);
    expect(onHand(state, 'shirt')).toBe(7000); // 4 + 2 + 1 without a variant
    expect(stockLevels(state)).toEqual([
      { productId: 'shirt', onHand: 1000 },
      { productId: 'shirt', variantId: 'L', onHand: 2000 },
      { productId: 'shirt', variantId: 'M', onHand: 4000 },
    ]);
  });

  it('applies a movement id once', () => {
    const once = apply([receipt('r1', 'p', 5000)]);
    const again = apply([receipt('r1', 'p', 5000), receipt('r1', 'p', 5000)], once);
    expect(onHand(again, 'p')).toBe(5000);
  });

  it('applies an oversell and reports it', () => {
    const { state, alerts } = applyMovements(emptyStockLedger(), [receipt('r1', 'p', 2000), sold('o1', 'l1', 'p', 3000)]);
    expect(onHand(state, 'p')).toBe(-1000); // 2 − 3
    expect(alerts).toEqual([{ kind: 'oversell', key: 'oversell:p', productId: 'p', onHand: -1000 }]);
    // A receipt that arrives later clears it.
    const later = applyMovements(state, [receipt('r2', 'p', 5000)]);
    expect(later.alerts).toEqual([]);
    expect(stockAlerts(later.state)).toEqual([]);
  });

  it('reports a refund beyond its sale line, counting refunds that were not restocked', () => {
    const { state, alerts } = applyMovements(emptyStockLedger(), [
      receipt('r1', 'p', 5000),
      sold('o1', 'l1', 'p', 2000),
      refunded('f1', 'o1', 'l1', 'p', 1000, false),
      refunded('f2', 'o1', 'l1', 'p', 2000),
    ]);
    expect(onHand(state, 'p')).toBe(5000); // 5 − 2 + 0 + 2
    expect(alerts).toEqual([
      { kind: 'over_refund', key: 'over_refund:o1:l1', orderId: 'o1', lineId: 'l1', productId: 'p', sold: 2000, refunded: 3000 },
    ]);
  });

  it('does not call a refund of an unseen sale an over-refund', () => {
    const { alerts } = applyMovements(emptyStockLedger(), [refunded('f1', 'o9', 'l1', 'p', 1000)]);
    expect(alerts).toEqual([]);
  });

  it('keeps one of two different movements under one id whatever the order, and says so', () => {
    const a = receipt('r1', 'p', 1000);
    const b = receipt('r1', 'p', 3000);
    const ab = apply([a, b]);
    const ba = apply([b, a]);
    expect(onHand(ab, 'p')).toBe(onHand(ba, 'p'));
    expect(stockAlerts(ab)).toEqual([{ kind: 'conflicting_fact', key: 'conflicting_fact:stock_movement:r1', subject: 'stock_movement', id: 'r1' }]);
    expect(stockAlerts(ba)).toEqual(stockAlerts(ab));
  });
});

describe('movements of orders', () => {
  const line = (lineId: string, productId: string, qty: number, variantId?: string): SaleLine => ({
    lineId,
    productId,
    ...(variantId === undefined ? {} : { variantId }),
    sku: 'S',
    name: 'N',
    unitPrice: 100,
    qty,
    taxes: [],
    gross: 100,
    lineDiscount: 0,
    orderDiscount: 0,
    net: 100,
    tax: [],
    total: 100,
  });
  const sale: Pick<CompletedSale, 'orderId' | 'lines'> = { orderId: 'o1', lines: [line('l1', 'shirt', 2000, 'M'), line('l2', 'soap', 500)] };
  const refund: Pick<CompletedRefund, 'refundId' | 'originalOrderId' | 'lines'> = {
    refundId: 'f1',
    originalOrderId: 'o1',
    lines: [{ saleLineId: 'l1', productId: 'shirt', qty: 1000, net: 100, tax: [], total: 100, restock: true }],
  };

  it('makes one sale movement per line with deterministic ids', () => {
    expect(saleMovements(sale)).toEqual([
      { kind: 'sale', id: 'o1:l1', productId: 'shirt', variantId: 'M', qty: 2000, orderId: 'o1', lineId: 'l1' },
      { kind: 'sale', id: 'o1:l2', productId: 'soap', qty: 500, orderId: 'o1', lineId: 'l2' },
    ]);
  });

  it('restocks a refund to the variant sold when the sale is given', () => {
    expect(refundMovements(refund, sale)).toEqual([
      { kind: 'refund', id: 'f1:l1', productId: 'shirt', variantId: 'M', qty: 1000, restock: true, refundId: 'f1', originalOrderId: 'o1', saleLineId: 'l1' },
    ]);
    expect(refundMovements(refund)[0]).not.toHaveProperty('variantId');
  });

  it('gives distinct ids when one refund names a sale line twice', () => {
    const twice = { ...refund, lines: [...refund.lines, ...refund.lines] };
    expect(refundMovements(twice).map((m) => m.id)).toEqual(['f1:l1', 'f1:l1:2']);
  });

  it('maps an exchange to its returned and its given goods', () => {
    const moves = exchangeMovements({ refund, sale: { ...sale, orderId: 'o2' } }, sale);
    expect(moves.map((m) => [m.kind, m.id])).toEqual([
      ['refund', 'f1:l1'],
      ['sale', 'o2:l1'],
      ['sale', 'o2:l2'],
    ]);
    const state = apply([...saleMovements(sale), ...moves]);
    expect(onHand(state, 'shirt', 'M')).toBe(-3000); // −2 sold, +1 back, −2 given
  });
});

// ---- properties -------------------------------------------------------------------------------------

const products = fc.constantFrom('p1', 'p2', 'p3');
const variant = fc.option(fc.constantFrom('v1', 'v2'), { nil: undefined });
const qty = fc.integer({ min: 1, max: 10_000 });

const movementArb = (i: number): fc.Arbitrary<StockMovement> => {
  const id = `m${String(i).padStart(3, '0')}`;
  const base = fc.record({ productId: products, variantId: variant }).map(({ productId, variantId }) => ({
    id,
    productId,
    ...(variantId === undefined ? {} : { variantId }),
  }));
  return fc.oneof(
    fc.tuple(base, qty, fc.integer({ min: 0, max: 4 })).map(([b, q, o]): StockMovement => ({ ...b, kind: 'sale', qty: qtyMilli(q), orderId: `o${o}`, lineId: 'l1' })),
    fc
      .tuple(base, qty, fc.boolean(), fc.integer({ min: 0, max: 4 }))
      .map(([b, q, restock, o]): StockMovement => ({ ...b, kind: 'refund', qty: qtyMilli(q), restock, refundId: `f${i}`, originalOrderId: `o${o}`, saleLineId: 'l1' })),
    fc.tuple(base, fc.integer({ min: -5000, max: 5000 })).map(([b, d]): StockMovement => ({ ...b, kind: 'adjustment', delta: qtyMilli(d), reason: 'r' })),
    fc.tuple(base, qty).map(([b, q]): StockMovement => ({ ...b, kind: 'receipt', qty: qtyMilli(q) })),
    fc.tuple(base, qty, qty).map(([b, c, e]): StockMovement => ({ ...b, kind: 'count', counted: qtyMilli(c), expected: qtyMilli(e) })),
    fc.tuple(base, qty).map(([b, q]): StockMovement => ({ ...b, kind: 'transfer_out', qty: qtyMilli(q), transferId: 't' })),
    fc.tuple(base, qty).map(([b, q]): StockMovement => ({ ...b, kind: 'transfer_in', qty: qtyMilli(q), transferId: 't' })),
  );
};

/** Movements plus, for some, a different movement under the same id. */
const factsArb = fc
  .integer({ min: 0, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => movementArb(i))))
  .chain((ms) => fc.subarray(ms).chain((twins) => fc.tuple(...twins.map((t, k) => movementArb(1000 + k).map((m) => ({ ...m, id: t.id })))).map((ts) => [...ms, ...ts])));

const rearranged = (facts: StockMovement[]) =>
  fc
    .tuple(fc.subarray(facts), fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 8 }))
    .chain(([dups, cuts]) =>
      fc.shuffledSubarray([...facts, ...dups], { minLength: facts.length + dups.length, maxLength: facts.length + dups.length }).map((all) => ({ all, cuts })),
    );

function applyInBatches(movements: StockMovement[], cuts: number[]): StockLedger {
  let state = emptyStockLedger();
  let rest = movements;
  for (const c of [...cuts, rest.length]) {
    state = applyMovements(state, rest.slice(0, c)).state;
    rest = rest.slice(c);
  }
  return state;
}

describe('stock ledger properties', () => {
  it('any order, batching and repetition of the same movements gives the same stock and alerts', () => {
    fc.assert(
      fc.property(
        factsArb.chain((facts) => rearranged(facts).map((r) => ({ facts, ...r }))),
        ({ facts, all, cuts }) => {
          const reference = apply(facts);
          const other = applyInBatches(all, cuts);
          expect(stockLevels(other)).toEqual(stockLevels(reference));
          expect(stockAlerts(other)).toEqual(stockAlerts(reference));
          for (const p of ['p1', 'p2', 'p3']) expect(onHand(other, p)).toBe(onHand(reference, p));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('on-hand is the sum of the kept deltas and always an integer', () => {
    fc.assert(
      fc.property(factsArb, (facts) => {
        const state = apply(facts);
        const total = [...state.movements.values()].reduce((s, m) => s + movementDelta(m), 0);
        const levels = stockLevels(state);
        expect(levels.reduce((s, l) => s + l.onHand, 0)).toBe(total);
        for (const l of levels) expect(Number.isSafeInteger(l.onHand)).toBe(true);
        const negative = levels.filter((l) => l.onHand < 0).length;
        expect(stockAlerts(state).filter((a) => a.kind === 'oversell')).toHaveLength(negative);
      }),
      { numRuns: 500 },
    );
  });
});
