import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NonIntegerError } from './errors.js';
import { divRound, roundToIncrement, toSafeInteger } from './rounding.js';

describe('divRound', () => {
  it.each([
    // [numerator, denominator, mode, expected]: quotient in the comment
    [25n, 10n, 'half-up', 3n], // 2.5 → 3
    [-25n, 10n, 'half-up', -3n], // −2.5 → −3 (away from zero)
    [24n, 10n, 'half-up', 2n], // 2.4 → 2
    [25n, 10n, 'half-even', 2n], // 2.5 → 2 (even)
    [35n, 10n, 'half-even', 4n], // 3.5 → 4 (even)
    [26n, 10n, 'half-even', 3n], // 2.6 → 3
    [29n, 10n, 'down', 2n], // 2.9 → 2
    [-29n, 10n, 'down', -2n], // −2.9 → −2 (toward zero)
    [21n, 10n, 'up', 3n], // 2.1 → 3
    [25n, -10n, 'half-up', -3n], // 2.5 / −1 → −3
  ] as const)('%s / %s (%s) = %s', (n, d, mode, expected) => {
    expect(divRound(n, d, mode)).toBe(expected);
  });

  it('refuses a zero denominator', () => {
    expect(() => divRound(1n, 0n)).toThrow(InvalidArgumentError);
  });

  it('is within half a unit of the exact quotient for half-up', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 9n }), (n, d) => {
        const q = divRound(n, d);
        const err = q * d - n; // (q − n/d)·d
        expect((err < 0n ? -err : err) * 2n).toBeLessThanOrEqual(d);
      }),
      { numRuns: 500 },
    );
  });
});

describe('toSafeInteger and roundToIncrement', () => {
  it('refuses values past the safe integer range', () => {
    expect(() => toSafeInteger(2n ** 53n)).toThrow(NonIntegerError);
    expect(toSafeInteger(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('rounds to a multiple of the increment', () => {
    expect(roundToIncrement(1232, 5)).toBe(1230); // 246.4 × 5
    expect(roundToIncrement(1233, 5)).toBe(1235); // 246.6 × 5
    expect(roundToIncrement(-1233, 5)).toBe(-1235);
    expect(() => roundToIncrement(10, 0)).toThrow(InvalidArgumentError);
  });
});
