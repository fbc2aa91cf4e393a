/**
 * Money is an integer count of minor units with its ISO 4217 currency: `{ amount: 1999,
 * currency: 'EUR' }` is €19.99. It is never a float (see docs/adr/0002-rounding.md).
 *
 * Every function here returns a new value and throws a named error instead of producing a
 * fraction, a mixed-currency sum or an unsafe integer.
 */
import { currencyDecimals, type CurrencyCode } from './currency.js';
import { CurrencyMismatchError, InvalidArgumentError, InvalidDecimalError } from './errors.js';
import { QTY_SCALE, type Qty } from './quantity.js';
import { assertInteger, divRound, DEFAULT_ROUNDING, roundToIncrement, type RoundingMode, toSafeInteger } from './rounding.js';

/** An amount of money in integer minor units. */
export interface Money {
  readonly amount: number;
  readonly currency: CurrencyCode;
}

/**
 * Makes money from minor units.
 *
 * @throws NonIntegerError when `amount` is not a safe integer (e.g. `money(1.5, 'EUR')`).
 * @throws UnknownCurrencyError when the currency is not known.
 * @example
 * ```ts
 * money(1999, 'EUR') // €19.99
 * ```
 */
export function money(amount: number, currency: CurrencyCode): Money {
  assertInteger(amount, 'money amount (minor units)');
  currencyDecimals(currency);
  return { amount, currency };
}

/** Zero in the given currency. */
export function zero(currency: CurrencyCode): Money {
  return money(0, currency);
}

function sameCurrency(a: Money, b: Money): void {
  if (a.currency !== b.currency) throw new CurrencyMismatchError(a.currency, b.currency);
}

/** `a + b`; both in the same currency. */
export function add(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return money(toSafeInteger(BigInt(a.amount) + BigInt(b.amount)), a.currency);
}

/** `a − b`; both in the same currency. */
export function subtract(a: Money, b: Money): Money {
  sameCurrency(a, b);
  return money(toSafeInteger(BigInt(a.amount) - BigInt(b.amount)), a.currency);
}

/** `−a`. */
export function negate(a: Money): Money {
  return money(a.amount === 0 ? 0 : -a.amount, a.currency);
}

/** Sum of a list, which may be empty. */
export function sum(items: readonly Money[], currency: CurrencyCode): Money {
  let total = 0n;
  for (const m of items) {
    if (m.currency !== currency) throw new CurrencyMismatchError(currency, m.currency);
    total += BigInt(m.amount);
  }
  return money(toSafeInteger(total), currency);
}

/**
 * A unit price times a quantity in thousandths, rounded once to the minor unit.
 *
 * @example
 * ```ts
 * multiplyByQty(money(1299, 'EUR'), qtyMilli(375)) // 0.375 kg at €12.99/kg = €4.87 (487.125 → 487)
 * ```
 */
export function multiplyByQty(unitPrice: Money, qty: Qty, mode: RoundingMode = DEFAULT_ROUNDING): Money {
  assertInteger(qty, 'quantity');
  return money(toSafeInteger(divRound(BigInt(unitPrice.amount) * BigInt(qty), BigInt(QTY_SCALE), mode)), unitPrice.currency);
}

/** Multiplies by an integer factor (e.g. a count of notes). */
export function multiplyInt(a: Money, factor: number): Money {
  assertInteger(factor, 'factor');
  return money(toSafeInteger(BigInt(a.amount) * BigInt(factor)), a.currency);
}

/** −1, 0 or 1 as `a` is less than, equal to or greater than `b`. */
export function compare(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b);
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/** True when both have the same currency and amount. */
export function equals(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.amount === b.amount;
}

/** True for an amount of zero. */
export function isZero(a: Money): boolean {
  return a.amount === 0;
}

/** True for an amount below zero. */
export function isNegative(a: Money): boolean {
  return a.amount < 0;
}

/** The smaller of two amounts. */
export function min(a: Money, b: Money): Money {
  return compare(a, b) <= 0 ? a : b;
}

/** The larger of two amounts. */
export function max(a: Money, b: Money): Money {
  return compare(a, b) >= 0 ? a : b;
}

/**
 * Splits `total` into parts proportional to `weights` by the largest-remainder method: each part
 * is the floor of its exact share, and the leftover minor units go one each to the parts with the
 * largest remainders (ties to the earliest part). The parts always sum to `total`, and each differs
 * from its exact share by less than one minor unit.
 *
 * Weights are non-negative integers (e.g. line amounts in minor units); when they are all zero the
 * amount is split as if the weights were equal. A negative total is split as the negation of the
 * split of its absolute value.
 *
 * @example
 * ```ts
 * allocate(money(1000, 'EUR'), [1, 1, 1]).map((m) => m.amount) // [334, 333, 333]
 * ```
 */
export function allocate(total: Money, weights: readonly number[]): Money[] {
  if (weights.length === 0) throw new InvalidArgumentError('weights', 'must not be empty');
  for (const w of weights) {
    assertInteger(w, 'weight');
    if (w < 0) throw new InvalidArgumentError('weights', 'must not be negative');
  }
  if (total.amount < 0) return allocate(negate(total), weights).map(negate);
  let ws = weights.map(BigInt);
  let wsum = ws.reduce((s, w) => s + w, 0n);
  if (wsum === 0n) {
    ws = ws.map(() => 1n);
    wsum = BigInt(ws.length);
  }
  const t = BigInt(total.amount);
  const floors = ws.map((w) => (t * w) / wsum);
  const remainders = ws.map((w, i) => ({ i, r: (t * w) % wsum }));
  let left = t - floors.reduce((s, f) => s + f, 0n);
  remainders.sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  for (const { i } of remainders) {
    if (left === 0n) break;
    floors[i] = (floors[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return floors.map((f) => money(toSafeInteger(f), total.currency));
}

/**
 * Parses a decimal string in the currency's precision exactly: `"19.99"` EUR → 1999,
 * `"500"` JPY → 500, `"1.250"` BHD → 1250.
 *
 * @throws InvalidDecimalError for more decimals than the currency has, or text that is not a number.
 */
export function parseMoney(text: string, currency: CurrencyCode): Money {
  const decimals = currencyDecimals(currency);
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new InvalidDecimalError(text, decimals);
  const [, sign, whole = '0', frac = ''] = m;
  if (frac.length > decimals) throw new InvalidDecimalError(text, decimals);
  const minor = BigInt(whole) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, '0') || '0');
  return money(toSafeInteger(sign === '-' ? -minor : minor), currency);
}

/**
 * Formats as a plain decimal string in the currency's precision: 1999 EUR → `"19.99"`,
 * −5 EUR → `"-0.05"`, 500 JPY → `"500"`. Locale formatting belongs to the UI.
 */
export function toDecimalString(m: Money): string {
  const decimals = currencyDecimals(m.currency);
  const sign = m.amount < 0 ? '-' : '';
  const abs = Math.abs(m.amount);
  if (decimals === 0) return `${sign}${abs}`;
  const s = String(abs).padStart(decimals + 1, '0');
  return `${sign}${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/**
 * Rounds an amount due in cash to the store's smallest coin (`increment` in minor units: 5 for
 * CHF and CAD 0.05). Card and other tenders are never rounded. Ties round half up.
 *
 * @example
 * ```ts
 * roundCash(money(1232, 'CHF'), 5) // CHF 12.30
 * roundCash(money(1233, 'CHF'), 5) // CHF 12.35
 * ```
 */
export function roundCash(due: Money, increment: number | null | undefined): Money {
  if (!increment || increment === 1) return due;
  return money(roundToIncrement(due.amount, increment), due.currency);
}
