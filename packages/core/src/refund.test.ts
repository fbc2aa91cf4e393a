import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addLine, completeSale, createCart, setLineDiscount, setOrderDiscount, type StoreSettings } from './cart.js';
import { CurrencyMismatchError, InvalidArgumentError } from './errors.js';
import { money } from './money.js';
import { CompletedRefundSchema, type CompletedSale, type SaleLine, type TaxRateSnapshot } from './order-schema.js';
import { qtyMilli, units, type Qty } from './quantity.js';
import {
  completeRefund,
  refundableQty,
  RefundExceedsSaleError,
  refundLineFor,
  RefundOrderMismatchError,
  refundRecord,
  refundState,
  UnknownSaleLineError,
  type PriorRefund,
} from './refund.js';
import { InsufficientTenderError } from './tender.js';

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
const id = (n: number): string => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const DE19: TaxRateSnapshot = { rateId: 'de-19', name: 'MwSt 19 %', ratePpm: 190_000 };
const NY: TaxRateSnapshot = { rateId: 'ny', name: 'NY 8.875 %', ratePpm: 88_750 };
const EUR: StoreSettings = { currency: 'EUR', pricesIncludeTax: true, taxRounding: 'line', cashRoundingIncrement: null, discountLimitPpm: null };
const caught = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
};

/** A sale of 3 mugs at €10.00 with €1.00 off the order, and 1 plate at €20.00. */
function mugSale(): CompletedSale {
  let cart = addLine(createCart(EUR), { productId: id(1), sku: 'MUG', name: 'Mug', unitPrice: money(1000, 'EUR'), taxes: [DE19] }, units(3));
  cart = addLine(cart, { productId: id(2), sku: 'PLATE', name: 'Plate', unitPrice: money(2000, 'EUR'), taxes: [DE19] }, units(1));
  cart = setOrderDiscount(cart, { kind: 'amount', amount: money(100, 'EUR') });
  return completeSale(cart, {
    orderId: id(100),
    receiptNo: 'S01-R01-000001',
    lineIds: [id(101), id(102)],
    tenders: [{ tenderId: id(103), kind: 'cash', given: 5000 }],
  });
}

const refundOf = (sale: CompletedSale, priorRefunds: readonly PriorRefund[], lines: { saleLineId: string; qty: Qty }[], n = 200, increment: number | null = null) =>
  completeRefund({
    refundId: id(n),
    receiptNo: `S01-R01-${String(n).padStart(6, '0')}`,
    reason: 'changed mind',
    cashRoundingIncrement: increment,
    goods: { kind: 'receipt', sale, priorRefunds, lines: lines.map((l) => ({ ...l, restock: true })) },
    tenders: [{ tenderId: id(n + 1), kind: 'cash' }],
  });

describe('refunds with receipt', () => {
  const sale = mugSale();

  it('starts from what was paid: the line net after its share of the order discount', () => {
    // order discount 100 over 3000 and 2000: mugs 60, plate 40 → nets 2940 and 1960
    // mug tax 2940 × 19/119 = 469.41 → 469
    expect(sale.lines.map((l) => [l.net, l.tax[0]?.amount])).toEqual([
      [2940, 469],
      [1960, 313], // 1960 × 19/119 = 312.94 → 313
    ]);
  });

  it('refunds one mug at a time by cumulative rounding, summing exactly to the line', () => {
    const first = refundOf(sale, [], [{ saleLineId: id(101), qty: units(1) }], 200);
    const second = refundOf(sale, [first], [{ saleLineId: id(101), qty: units(1) }], 210);
    const third = refundOf(sale, [first, second], [{ saleLineId: id(101), qty: units(1) }], 220);
    // net 2940 / 3 = 980 each; tax 469: round(156.33) = 156, round(312.67) − 156 = 157, 469 − 313 = 156
    expect([first, second, third].map((r) => [r.lines[0]?.net, r.lines[0]?.tax[0]?.amount, r.total, r.taxTotal])).toEqual([
      [980, 156, 980, 156],
      [980, 157, 980, 157],
      [980, 156, 980, 156],
    ]);
    for (const r of [first, second, third]) CompletedRefundSchema.parse(r);
    expect(first).toMatchObject({ originalOrderId: id(100), currency: 'EUR', cashRounding: 0, tenders: [{ kind: 'cash', amount: 980, given: 980 }] });
  });

  it('refuses more than is left, naming the line and the quantities', () => {
    const first = refundOf(sale, [], [{ saleLineId: id(101), qty: units(2) }]);
    expect(caught(() => refundOf(sale, [first], [{ saleLineId: id(101), qty: units(2) }]))).toMatchObject({
      code: 'refund_exceeds_sale',
      lineId: id(101),
      sold: 3000,
      refunded: 2000,
      requested: 2000,
    });
    // the same line twice in one refund counts both
    expect(() => refundOf(sale, [], [{ saleLineId: id(101), qty: units(2) }, { saleLineId: id(101), qty: units(2) }])).toThrow(RefundExceedsSaleError);
  });

  it('refuses an unknown line, a prior refund of another sale, no lines and a zero quantity', () => {
    expect(() => refundOf(sale, [], [{ saleLineId: id(999), qty: units(1) }])).toThrow(UnknownSaleLineError);
    expect(() => refundOf(sale, [{ originalOrderId: id(555), lines: [] }], [{ saleLineId: id(101), qty: units(1) }])).toThrow(RefundOrderMismatchError);
    expect(() => refundOf(sale, [], [])).toThrow(InvalidArgumentError);
    expect(() => refundOf(sale, [], [{ saleLineId: id(101), qty: qtyMilli(0) }])).toThrow(InvalidArgumentError);
  });

  it('tracks what is refundable and where the sale stands', () => {
    expect(refundState(sale, [])).toBe('completed');
    const first = refundOf(sale, [], [{ saleLineId: id(101), qty: units(1) }]);
    expect(refundableQty(sale, [first])).toEqual(
      new Map([
        [id(101), 2000],
        [id(102), 1000],
      ]),
    );
    expect(refundState(sale, [first])).toBe('partially_refunded');
    const rest = refundOf(sale, [first], [
      { saleLineId: id(101), qty: units(2) },
      { saleLineId: id(102), qty: units(1) },
    ]);
    expect(refundState(sale, [first, rest])).toBe('fully_refunded');
    // everything paid came back: 2940 + 1960
    expect(first.total + rest.total).toBe(sale.total);
  });

  it('pays back in cash rounded to the coin', () => {
    const chfSale = completeSale(
      addLine(createCart({ ...EUR, currency: 'CHF', cashRoundingIncrement: 5 }), { productId: id(1), sku: 'X', name: 'X', unitPrice: money(1232, 'CHF'), taxes: [] }, units(1)),
      { orderId: id(100), receiptNo: 'S01-R01-000001', lineIds: [id(101)], tenders: [{ tenderId: id(103), kind: 'cash', given: 1230 }] },
    );
    const r = refundOf(chfSale, [], [{ saleLineId: id(101), qty: units(1) }], 200, 5);
    // 1232 owed back, paid as 1230 in cash
    expect(r).toMatchObject({ total: 1232, cashRounding: -2, tenders: [{ kind: 'cash', amount: 1230 }] });
    expect(() =>
      completeRefund({
        refundId: id(1),
        receiptNo: 'S01-R01-000009',
        reason: 'x',
        cashRoundingIncrement: 5,
        goods: { kind: 'receipt', sale: chfSale, priorRefunds: [], lines: [{ saleLineId: id(101), qty: units(1), restock: true }] },
        tenders: [{ tenderId: id(2), kind: 'cash', amount: 1000 }],
      }),
    ).toThrow(InsufficientTenderError);
  });

  it('adds tax on top for a tax-exclusive sale: total = net + tax', () => {
    const us: StoreSettings = { ...EUR, currency: 'USD', pricesIncludeTax: false };
    let cart = addLine(createCart(us), { productId: id(1), sku: 'X', name: 'X', unitPrice: money(333, 'USD'), taxes: [NY] }, units(3));
    cart = setLineDiscount(cart, 1, { kind: 'amount', amount: money(1, 'USD') });
    // net 999 − 1 = 998; tax 998 × 0.08875 = 88.57 → 89; total 1087
    const sale = completeSale(cart, { orderId: id(100), receiptNo: 'S01-R01-000001', lineIds: [id(101)], tenders: [{ tenderId: id(3), kind: 'cash', given: 1087 }] });
    const r = refundOf(sale, [], [{ saleLineId: id(101), qty: units(1) }]);
    // net round(998/3 = 332.67) = 333; tax round(89/3 = 29.67) = 30; total 363
    expect(r.lines[0]).toMatchObject({ net: 333, tax: [{ rateId: 'ny', amount: 30 }], total: 363 });
  });
});

describe('refunds without receipt', () => {
  it('takes the price the caller gives and computes its tax', () => {
    const r = completeRefund({
      refundId: id(300),
      receiptNo: 'S01-R01-000300',
      reason: 'no receipt, store credit',
      cashRoundingIncrement: null,
      goods: {
        kind: 'no_receipt',
        currency: 'EUR',
        pricesIncludeTax: true,
        taxRounding: 'line',
        lines: [{ lineId: id(301), productId: id(1), qty: units(2), unitPrice: money(595, 'EUR'), taxes: [DE19], restock: true }],
      },
      tenders: [{ tenderId: id(302), kind: 'store_credit', amount: 1190, customerId: id(50) }],
      customerId: id(50),
    });
    // 2 × 5.95 = 11.90; tax 1190 × 19/119 = 190
    expect(CompletedRefundSchema.parse(r)).toEqual(r);
    expect(r).toMatchObject({ total: 1190, taxTotal: 190, customerId: id(50), lines: [{ saleLineId: id(301), net: 1190, total: 1190 }] });
    expect(r.originalOrderId).toBeUndefined();
  });

  it('refuses a price in another currency', () => {
    expect(() =>
      refundRecord({
        refundId: id(1),
        reason: 'x',
        goods: {
          kind: 'no_receipt',
          currency: 'EUR',
          pricesIncludeTax: true,
          taxRounding: 'line',
          lines: [{ lineId: id(2), productId: id(3), qty: units(1), unitPrice: money(100, 'USD'), taxes: [], restock: false }],
        },
      }),
    ).toThrow(CurrencyMismatchError);
  });
});

const arbLine = fc.record({
  qty: fc.integer({ min: 1, max: 20_000 }),
  net: fc.integer({ min: 0, max: 10_000_000 }),
  taxA: fc.integer({ min: 0, max: 2_000_000 }),
  taxB: fc.integer({ min: 0, max: 500_000 }),
  pricesIncludeTax: fc.boolean(),
});

const saleLine = (l: ValueOf<typeof arbLine>): SaleLine => {
  const total = l.pricesIncludeTax ? l.net : l.net + l.taxA + l.taxB;
  return {
    lineId: id(1),
    productId: id(2),
    sku: 'X',
    name: 'X',
    unitPrice: 0,
    qty: l.qty,
    taxes: [],
    gross: l.net,
    lineDiscount: 0,
    orderDiscount: 0,
    net: l.net,
    tax: [
      { rateId: 'a', amount: l.taxA },
      { rateId: 'b', amount: l.taxB },
    ],
    total,
  };
};

/** Random cut points split `qty` into 1…8 positive steps. */
const arbSplit = (qty: number) =>
  fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, qty - 1) }), { maxLength: Math.min(7, qty - 1) }).map((cuts) => {
    const points = [...cuts.filter((c) => c < qty).sort((a, b) => a - b), qty];
    return points.map((p, i) => p - (i === 0 ? 0 : (points[i - 1] ?? 0)));
  });

describe('refund properties', () => {
  it('a full refund in any split sums exactly to the line, every step integer and non-negative', () => {
    fc.assert(
      fc.property(arbLine.chain((l) => fc.tuple(fc.constant(l), arbSplit(l.qty))), ([l, steps]) => {
        const line = saleLine(l);
        let done = 0;
        const sums = { net: 0, a: 0, b: 0, total: 0 };
        for (const q of steps) {
          const r = refundLineFor(line, q as Qty, done, l.pricesIncludeTax, true);
          for (const n of [r.net, r.total, ...r.tax.map((t) => t.amount)]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true);
          sums.net += r.net;
          sums.a += r.tax[0]?.amount ?? 0;
          sums.b += r.tax[1]?.amount ?? 0;
          sums.total += r.total;
          done += q;
        }
        expect(sums).toEqual({ net: line.net, a: l.taxA, b: l.taxB, total: line.total });
      }),
      { numRuns: 500 },
    );
  });

  it('random partial steps never refund more than the sale', () => {
    fc.assert(
      fc.property(arbLine, fc.array(fc.integer({ min: 1, max: 20_000 }), { minLength: 1, maxLength: 10 }), (l, steps) => {
        const line = saleLine(l);
        let done = 0;
        let paid = 0;
        for (const q of steps) {
          if (done + q > l.qty) {
            expect(() => refundLineFor(line, q as Qty, done, l.pricesIncludeTax, true)).toThrow(RefundExceedsSaleError);
            continue;
          }
          paid += refundLineFor(line, q as Qty, done, l.pricesIncludeTax, true).total;
          done += q;
          expect(paid).toBeLessThanOrEqual(line.total);
        }
      }),
      { numRuns: 500 },
    );
  });
});
