import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CurrencyMismatchError, InvalidArgumentError, InvalidDecimalError, NonIntegerError, UnknownCurrencyError } from './errors.js';
import {
  add,
  allocate,
  compare,
  money,
  multiplyByQty,
  multiplyInt,
  negate,
  parseMoney,
  roundCash,
  subtract,
  sum,
  toDecimalString,
} from './money.js';
import { qtyMilli } from './quantity.js';

const RUNS = { numRuns: 500 };
const eur = (amount: number) => money(amount, 'EUR');

describe('money', () => {
  it('refuses fractions, NaN, infinities and unsafe integers', () => {
    expect(() => money(1.5, 'EUR')).toThrow(NonIntegerError);
    expect(() => money(Number.NaN, 'EUR')).toThrow(NonIntegerError);
    expect(() => money(Number.POSITIVE_INFINITY, 'EUR')).toThrow(NonIntegerError);
    expect(() => money(2 ** 53, 'EUR')).toThrow(NonIntegerError);
  });

  it('refuses unknown currencies and mixing currencies', () => {
    expect(() => money(1, 'XYZ')).toThrow(UnknownCurrencyError);
    expect(() => add(eur(1), money(1, 'USD'))).toThrow(CurrencyMismatchError);
    expect(() => sum([eur(1), money(1, 'USD')], 'EUR')).toThrow(CurrencyMismatchError);
  });

  it('adds, subtracts, negates and compares', () => {
    expect(add(eur(1999), eur(1))).toEqual(eur(2000));
    expect(subtract(eur(500), eur(1250))).toEqual(eur(-750));
    expect(negate(eur(0))).toEqual(eur(0)); // never −0
    expect(compare(eur(1), eur(2))).toBe(-1);
    expect(sum([], 'EUR')).toEqual(eur(0));
    expect(multiplyInt(eur(250), 4)).toEqual(eur(1000));
  });

  it('multiplies by a quantity in thousandths, rounding once half up', () => {
    // 0.375 kg × €12.99/kg = 4.87125 → €4.87
    expect(multiplyByQty(eur(1299), qtyMilli(375))).toEqual(eur(487));
    // 0.5 × €0.05 = 0.025 → half up → €0.03
    expect(multiplyByQty(eur(5), qtyMilli(500))).toEqual(eur(3));
    // 3 × €1.99 = €5.97
    expect(multiplyByQty(eur(199), qtyMilli(3000))).toEqual(eur(597));
  });

  it('parses and formats in each currency precision', () => {
    expect(parseMoney('19.99', 'EUR')).toEqual(eur(1999));
    expect(parseMoney('-0.05', 'EUR')).toEqual(eur(-5));
    expect(parseMoney('500', 'JPY')).toEqual(money(500, 'JPY'));
    expect(parseMoney('1.250', 'BHD')).toEqual(money(1250, 'BHD'));
    expect(() => parseMoney('1.5', 'JPY')).toThrow(InvalidDecimalError);
    expect(() => parseMoney('1.234', 'EUR')).toThrow(InvalidDecimalError);
    expect(() => parseMoney('1e3', 'EUR')).toThrow(InvalidDecimalError);
    expect(toDecimalString(eur(5))).toBe('0.05');
    expect(toDecimalString(eur(-1999))).toBe('-19.99');
    expect(toDecimalString(money(500, 'JPY'))).toBe('500');
    expect(toDecimalString(money(1250, 'BHD'))).toBe('1.250');
  });

  it('rounds cash to the smallest coin, leaving other amounts alone', () => {
    expect(roundCash(money(1232, 'CHF'), 5)).toEqual(money(1230, 'CHF'));
    expect(roundCash(money(1233, 'CHF'), 5)).toEqual(money(1235, 'CHF'));
    expect(roundCash(money(1237, 'CHF'), 5)).toEqual(money(1235, 'CHF'));
    expect(roundCash(money(1238, 'CHF'), 5)).toEqual(money(1240, 'CHF'));
    expect(roundCash(money(1232, 'EUR'), null)).toEqual(money(1232, 'EUR'));
  });

  it('allocates by largest remainder, earliest part first on ties', () => {
    expect(allocate(eur(1000), [1, 1, 1]).map((m) => m.amount)).toEqual([334, 333, 333]);
    expect(allocate(eur(-1000), [1, 1, 1]).map((m) => m.amount)).toEqual([-334, -333, -333]);
    // 100 over 1:2:3 → exact 16.67, 33.33, 50 → floors 16, 33, 50 (one left) → largest remainder is part 0.
    expect(allocate(eur(100), [1, 2, 3]).map((m) => m.amount)).toEqual([17, 33, 50]);
    expect(allocate(eur(5), [0, 0]).map((m) => m.amount)).toEqual([3, 2]);
    expect(() => allocate(eur(5), [])).toThrow(InvalidArgumentError);
    expect(() => allocate(eur(5), [1, -1])).toThrow(InvalidArgumentError);
  });
});

describe('money properties', () => {
  const amount = fc.integer({ min: -1_000_000_000, max: 1_000_000_000 });
  const weights = fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 12 });

  it('allocation parts always sum to the whole and stay within one minor unit of the exact share', () => {
    fc.assert(
      fc.property(amount, weights, (total, ws) => {
        const parts = allocate(eur(total), ws);
        expect(parts.reduce((s, p) => s + p.amount, 0)).toBe(total);
        const wsum = ws.reduce((s, w) => s + w, 0);
        const effective = wsum === 0 ? ws.map(() => 1) : ws;
        const esum = effective.reduce((s, w) => s + w, 0);
        parts.forEach((p, i) => {
          // |part − total·w/Σw| < 1, checked exactly: |part·Σw − total·w| < Σw
          const diff = BigInt(p.amount) * BigInt(esum) - BigInt(total) * BigInt(effective[i] ?? 0);
          expect(diff < 0n ? -diff : diff).toBeLessThan(BigInt(esum));
        });
      }),
      RUNS,
    );
  });

  it('never produces a non-integer through any operation', () => {
    fc.assert(
      fc.property(amount, amount, fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 100 }), (a, b, q, inc) => {
        const results = [
          add(eur(a), eur(b)),
          subtract(eur(a), eur(b)),
          negate(eur(a)),
          multiplyByQty(eur(a), qtyMilli(q)),
          roundCash(eur(a), inc),
          ...allocate(eur(a), [q, inc, 1]),
        ];
        for (const r of results) expect(Number.isSafeInteger(r.amount)).toBe(true);
      }),
      RUNS,
    );
  });

  it('formats and parses back to the same amount', () => {
    fc.assert(
      fc.property(amount, fc.constantFrom('EUR', 'JPY', 'BHD'), (a, cur) => {
        const m = money(a, cur);
        expect(parseMoney(toDecimalString(m), cur)).toEqual(m);
      }),
      RUNS,
    );
  });

  it('rounds cash to a multiple of the increment, within half an increment', () => {
    fc.assert(
      fc.property(amount, fc.integer({ min: 1, max: 100 }), (a, inc) => {
        const r = roundCash(eur(a), inc).amount;
        expect(r % inc === 0).toBe(true);
        expect(Math.abs(r - a) * 2).toBeLessThanOrEqual(inc);
      }),
      RUNS,
    );
  });
});
