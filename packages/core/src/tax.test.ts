import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.js';
import type { TaxRateSnapshot } from './order-schema.js';
import { computeTax, exactLineTax, lineTax, type TaxLineInput } from './tax.js';

const rate = (rateId: string, ratePpm: number): TaxRateSnapshot => ({ rateId, name: rateId.toUpperCase(), ratePpm });
const DE19 = rate('de-19', 190_000);
const DE7 = rate('de-7', 70_000);
const NY = rate('ny', 88_750);

describe('lineTax', () => {
  it('takes the tax out of an inclusive price', () => {
    // 119 × 19/119 = 19 exactly
    expect(lineTax(119, [DE19], true)).toEqual([{ rateId: 'de-19', amount: 19 }]);
  });

  it('adds tax on top of an exclusive price, half up', () => {
    // 1000 × 0.08875 = 88.75 → 89
    expect(lineTax(1000, [NY], false)).toEqual([{ rateId: 'ny', amount: 89 }]);
    // 200 × 0.08875 = 17.75 → 18; 40 × 0.08875 = 3.55 → 4; 4 × 0.125 = 0.5 → 1 (a tie goes up)
    expect(lineTax(200, [NY], false)[0]?.amount).toBe(18);
    expect(lineTax(4, [rate('x', 125_000)], false)[0]?.amount).toBe(1);
  });

  it('splits an inclusive price over several rates by the sum of the rates', () => {
    // 1100 contains 10 % in all: 1100 × 5/110 = 50 for each 5 % rate
    expect(lineTax(1100, [rate('a', 50_000), rate('b', 50_000)], true)).toEqual([
      { rateId: 'a', amount: 50 },
      { rateId: 'b', amount: 50 },
    ]);
  });

  it('adds several exclusive rates each on the net (NY state 4 %, city 4.5 %, MCTD 0.375 %)', () => {
    // 1000 × 4 % = 40; × 4.5 % = 45; × 0.375 % = 3.75 → 4
    expect(lineTax(1000, [rate('ny-state', 40_000), rate('nyc', 45_000), rate('mctd', 3_750)], false).map((t) => t.amount)).toEqual([40, 45, 4]);
  });

  it('keeps the exact fraction with a common denominator', () => {
    expect(exactLineTax(100, [DE19, DE7], true)).toEqual([
      { rateId: 'de-19', numerator: 19_000_000n, denominator: 1_260_000n },
      { rateId: 'de-7', numerator: 7_000_000n, denominator: 1_260_000n },
    ]);
  });

  it('refuses a negative net and a rate named twice', () => {
    expect(() => lineTax(-1, [DE19], true)).toThrow(InvalidArgumentError);
    expect(() => lineTax(100, [DE19, DE19], true)).toThrow(InvalidArgumentError);
  });
});

describe('computeTax', () => {
  it('rounds per line or once per order', () => {
    const lines = [99, 99, 99].map((net) => ({ net, taxes: [NY] }));
    // by line: 99 × 0.08875 = 8.78625 → 9, three times
    expect(computeTax(lines, { pricesIncludeTax: false, taxRounding: 'line' }).taxTotal).toBe(27);
    // by order: 297 × 0.08875 = 26.35875 → 26, spread 9 + 9 + 8 (ties to the earliest)
    const order = computeTax(lines, { pricesIncludeTax: false, taxRounding: 'order' });
    expect(order.taxTotal).toBe(26);
    expect(order.lines.map((l) => l.taxTotal)).toEqual([9, 9, 8]);
    expect(order.lines.map((l) => l.total)).toEqual([108, 108, 107]);
  });

  it('sums order rounding over lines with different rate sets (different denominators)', () => {
    // rate a on 1000 alone: 1000 × 10/110 = 90.909…; on 1000 with b: 1000 × 10/120 = 83.333…
    // a over the order: 174.24 → 174; b: 83.33 → 83
    const r = computeTax(
      [
        { net: 1000, taxes: [rate('a', 100_000)] },
        { net: 1000, taxes: [rate('a', 100_000), rate('b', 100_000)] },
      ],
      { pricesIncludeTax: true, taxRounding: 'order' },
    );
    expect(r.summary.map((s) => [s.rateId, s.tax])).toEqual([
      ['a', 174],
      ['b', 83],
    ]);
    // floors 90 + 83 = 173, the one left goes to the larger remainder (.909 on the first line)
    expect(r.lines.map((l) => l.tax)).toEqual([[{ rateId: 'a', amount: 91 }], [{ rateId: 'a', amount: 83 }, { rateId: 'b', amount: 83 }]]);
  });

  it('builds the tax summary by rate, highest rate first', () => {
    const r = computeTax(
      [
        { net: 107, taxes: [DE7] }, // 107 × 7/107 = 7
        { net: 238, taxes: [DE19] }, // 238 × 19/119 = 38
        { net: 500, taxes: [] },
      ],
      { pricesIncludeTax: true, taxRounding: 'line' },
    );
    expect(r.summary).toEqual([
      { rateId: 'de-19', name: 'DE-19', ratePpm: 190_000, net: 200, tax: 38, gross: 238 },
      { rateId: 'de-7', name: 'DE-7', ratePpm: 70_000, net: 100, tax: 7, gross: 107 },
    ]);
    expect(r.taxTotal).toBe(45);
    expect(r.lines[2]).toEqual({ tax: [], taxTotal: 0, netExclTax: 500, total: 500 });
  });

  it('keeps a zero-rated line in the summary with no tax', () => {
    const r = computeTax([{ net: 250, taxes: [rate('zero', 0)] }], { pricesIncludeTax: false, taxRounding: 'order' });
    expect(r.summary).toEqual([{ rateId: 'zero', name: 'ZERO', ratePpm: 0, net: 250, tax: 0, gross: 250 }]);
  });

  it('gives an empty order no tax', () => {
    expect(computeTax([], { pricesIncludeTax: true, taxRounding: 'order' })).toEqual({ lines: [], summary: [], taxTotal: 0 });
  });
});

const RATES = [DE19, DE7, NY, rate('ca', 72_500), rate('mctd', 3_750), rate('zero', 0)];
const arbLine: fc.Arbitrary<TaxLineInput> = fc.record({
  net: fc.integer({ min: 0, max: 10_000_000 }),
  taxes: fc.subarray(RATES, { maxLength: 3 }),
});
const arbSettings = fc.record({ pricesIncludeTax: fc.boolean(), taxRounding: fc.constantFrom('line' as const, 'order' as const) });

/** |amount − n/d| ≤ bound (in minor units), exactly. */
const within = (amount: number, n: bigint, d: bigint, twiceBound: bigint): boolean => {
  const err = BigInt(amount) * d - n;
  return (err < 0n ? -err : err) * 2n <= twiceBound * d;
};

describe('computeTax properties', () => {
  it('gives integer amounts that add up: inclusive net = excl + tax, exclusive total = net + tax', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 12 }), arbSettings, (lines, settings) => {
        const r = computeTax(lines, settings);
        r.lines.forEach((l, i) => {
          const net = lines[i]?.net ?? 0;
          for (const t of l.tax) expect(Number.isSafeInteger(t.amount) && t.amount >= 0).toBe(true);
          expect(l.taxTotal).toBe(l.tax.reduce((s, t) => s + t.amount, 0));
          if (settings.pricesIncludeTax) {
            expect(l.total).toBe(net);
            expect(l.netExclTax + l.taxTotal).toBe(net);
          } else {
            expect(l.total).toBe(net + l.taxTotal);
          }
        });
        expect(r.taxTotal).toBe(r.summary.reduce((s, row) => s + row.tax, 0));
        for (const row of r.summary) expect(row.gross).toBe(row.net + row.tax);
      }),
      { numRuns: 500 },
    );
  });

  it('rounds each line within half a cent by line, and each rate over the order within half a cent by order', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 12 }), arbSettings, (lines, settings) => {
        const r = computeTax(lines, settings);
        const exact = lines.map((l) => exactLineTax(l.net, l.taxes, settings.pricesIncludeTax));
        if (settings.taxRounding === 'line') {
          exact.forEach((line, i) => line.forEach((e, k) => expect(within(r.lines[i]?.tax[k]?.amount ?? -1, e.numerator, e.denominator, 1n)).toBe(true)));
          return;
        }
        for (const row of r.summary) {
          // the exact sum of this rate over the order, over the product of the denominators
          let n = 0n;
          let d = 1n;
          let lineSum = 0;
          exact.forEach((line, i) =>
            line.forEach((e, k) => {
              if (e.rateId !== row.rateId) return;
              n = n * e.denominator + e.numerator * d;
              d *= e.denominator;
              const amount = r.lines[i]?.tax[k]?.amount ?? -1;
              lineSum += amount;
              // each line stays within one cent of its own exact tax
              expect(within(amount, e.numerator, e.denominator, 2n)).toBe(true);
            }),
          );
          expect(within(row.tax, n, d, 1n)).toBe(true);
          expect(lineSum).toBe(row.tax);
        }
      }),
      { numRuns: 500 },
    );
  });
});
