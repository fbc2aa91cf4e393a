import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidDecimalError, NonIntegerError } from './errors.js';
import { formatQty, parseQty, qtyMilli, units } from './quantity.js';

describe('quantities in thousandths', () => {
  it('makes exact quantities for pieces and weighed goods', () => {
    expect(units(3)).toBe(3000);
    expect(parseQty('0.375')).toBe(375);
    expect(parseQty('2')).toBe(2000);
    expect(parseQty('1.5')).toBe(1500);
    expect(parseQty('-0.25')).toBe(-250);
    expect(formatQty(qtyMilli(375))).toBe('0.375');
    expect(formatQty(qtyMilli(1500))).toBe('1.5');
    expect(formatQty(qtyMilli(2000))).toBe('2');
    expect(formatQty(qtyMilli(-250))).toBe('-0.25');
  });

  it('refuses more than three decimals and fractions of a thousandth', () => {
    expect(() => parseQty('0.3755')).toThrow(InvalidDecimalError);
    expect(() => parseQty('abc')).toThrow(InvalidDecimalError);
    expect(() => qtyMilli(0.5)).toThrow(NonIntegerError);
    expect(() => units(1.5)).toThrow(NonIntegerError);
  });

  it('formats and parses back to the same quantity', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), (m) => {
        expect(parseQty(formatQty(qtyMilli(m)))).toBe(m);
      }),
      { numRuns: 500 },
    );
  });
});
