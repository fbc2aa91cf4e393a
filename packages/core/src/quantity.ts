/**
 * Quantities are integers in thousandths (see docs/adr/0003-quantities.md): one piece is 1000,
 * 0.375 kg is 375. Weighed goods are therefore exact, and a quantity never drifts through float
 * arithmetic.
 */
import { InvalidDecimalError } from './errors.js';
import { assertInteger } from './rounding.js';

/** A quantity in thousandths of a unit (1 piece = 1000). */
export type Qty = number & { readonly __qty: unique symbol };

/** Thousandths in one unit. */
export const QTY_SCALE = 1000;

/**
 * Makes a quantity from a count of thousandths.
 *
 * @throws NonIntegerError when `milli` is not a safe integer.
 */
export function qtyMilli(milli: number): Qty {
  return assertInteger(milli, 'quantity (thousandths)') as Qty;
}

/**
 * Makes a quantity of whole units: `units(3)` is three pieces (3000).
 */
export function units(count: number): Qty {
  assertInteger(count, 'unit count');
  return qtyMilli(count * QTY_SCALE);
}

/**
 * Parses a decimal quantity such as `"0.375"` or `"2"` exactly.
 *
 * @throws InvalidDecimalError when the text has more than three decimals or is not a number.
 */
export function parseQty(text: string): Qty {
  const m = /^(-?)(\d+)(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) throw new InvalidDecimalError(text, 3);
  const [, sign, whole, frac = ''] = m;
  const milli = Number(whole) * QTY_SCALE + Number(frac.padEnd(3, '0'));
  return qtyMilli(sign === '-' ? -milli : milli);
}

/** Formats a quantity with as few decimals as it needs: 375 → `"0.375"`, 2000 → `"2"`. */
export function formatQty(q: Qty): string {
  const sign = q < 0 ? '-' : '';
  const abs = Math.abs(q);
  const whole = Math.trunc(abs / QTY_SCALE);
  const frac = abs % QTY_SCALE;
  if (frac === 0) return `${sign}${whole}`;
  return `${sign}${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}
