/**
 * Every rounding Kassa does goes through this file, so there is one place that decides how a
 * fraction of a cent becomes a cent (see docs/adr/0002-rounding.md).
 *
 * All arithmetic is exact: inputs are integers, intermediate products are `bigint`, and the
 * result is a safe integer or an error.
 */
import { InvalidArgumentError, NonIntegerError } from './errors.js';

/**
 * How a quotient with a remainder is turned into an integer.
 * - `half-up`: ties go away from zero (2.5 → 3, −2.5 → −3). Kassa's default for tax and prices,
 *   as EU VAT and US sales-tax rules expect ("commercial rounding").
 * - `half-even`: ties go to the even neighbour (banker's rounding).
 * - `down`: toward zero. `up`: away from zero.
 */
export type RoundingMode = 'half-up' | 'half-even' | 'down' | 'up';

/** The default rounding of amounts: half away from zero. */
export const DEFAULT_ROUNDING: RoundingMode = 'half-up';

/**
 * Divides two integers and rounds the quotient to an integer with the given mode.
 *
 * @example
 * ```ts
 * divRound(25n, 10n) // 3n  (2.5 rounds half up)
 * divRound(-25n, 10n) // -3n
 * divRound(25n, 10n, 'half-even') // 2n
 * ```
 */
export function divRound(numerator: bigint, denominator: bigint, mode: RoundingMode = DEFAULT_ROUNDING): bigint {
  if (denominator === 0n) throw new InvalidArgumentError('denominator', 'must not be zero');
  if (denominator < 0n) {
    numerator = -numerator;
    denominator = -denominator;
  }
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  let q = abs / denominator;
  const r = abs % denominator;
  if (r !== 0n) {
    const twice = r * 2n;
    switch (mode) {
      case 'down':
        break;
      case 'up':
        q += 1n;
        break;
      case 'half-up':
        if (twice >= denominator) q += 1n;
        break;
      case 'half-even':
        if (twice > denominator || (twice === denominator && q % 2n === 1n)) q += 1n;
        break;
    }
  }
  return negative ? -q : q;
}

/**
 * Converts an exact `bigint` back to a JavaScript number, refusing anything past
 * `Number.MAX_SAFE_INTEGER` rather than silently losing precision.
 */
export function toSafeInteger(value: bigint, what = 'amount'): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new NonIntegerError(what, Number(value));
  }
  return Number(value);
}

/**
 * Asserts that `value` is a safe integer and returns it.
 *
 * @throws NonIntegerError for fractions, NaN, infinities and unsafe integers.
 */
export function assertInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) throw new NonIntegerError(what, value);
  return value;
}

/**
 * Rounds an integer amount to a multiple of `increment` (e.g. 5 for Swiss 0.05 cash rounding).
 *
 * @example
 * ```ts
 * roundToIncrement(1232, 5) // 1230
 * roundToIncrement(1233, 5) // 1235
 * ```
 */
export function roundToIncrement(amount: number, increment: number, mode: RoundingMode = DEFAULT_ROUNDING): number {
  assertInteger(amount, 'amount');
  assertInteger(increment, 'increment');
  if (increment <= 0) throw new InvalidArgumentError('increment', 'must be positive');
  return toSafeInteger(divRound(BigInt(amount), BigInt(increment), mode) * BigInt(increment));
}
