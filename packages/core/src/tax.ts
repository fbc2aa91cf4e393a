/**
 * Tax on sale lines, tax-inclusive (EU VAT) or tax-exclusive (US sales tax), rounded per line or
 * once per rate over the order, and the receipt's tax summary by rate.
 *
 * A line may carry several rates; they add up (R = Σ r, all in ppm).
 * - Inclusive: a line whose net (after discounts) is G contains, of rate r, the tax G·r/(1e6+R).
 * - Exclusive: the tax of rate r on a net N is N·r/1e6, added on top.
 *
 * Every fraction is kept exact as a bigint numerator over a bigint denominator until the one
 * rounding the store's `taxRounding` asks for (half-up, from `rounding.ts`).
 */
import { InvalidArgumentError } from './errors.js';
import type { SaleLine, TaxRateSnapshot, TaxRounding, TaxSummaryRow } from './order-schema.js';
import { assertInteger, divRound, toSafeInteger } from './rounding.js';

/** The tax of one rate on one line, as stored on a sale line. */
export type TaxAmount = SaleLine['tax'][number];

/** How a store prices and rounds tax. */
export interface TaxSettings {
  /** True when shelf prices include tax (EU VAT); false when tax is added at the till (US). */
  readonly pricesIncludeTax: boolean;
  /** `line`: round every line's tax per rate; `order`: round once per rate over the order. */
  readonly taxRounding: TaxRounding;
}

/** One line as tax sees it: its net after discounts (in the price mode) and its rates. */
export interface TaxLineInput {
  /** Minor units, ≥ 0: tax-inclusive when prices include tax, else before tax. */
  readonly net: number;
  readonly taxes: readonly TaxRateSnapshot[];
}

/** The tax of one line after rounding. */
export interface TaxedLine {
  /** Per rate, in the order of the line's `taxes`. */
  readonly tax: TaxAmount[];
  /** Σ tax. */
  readonly taxTotal: number;
  /** The line's net without any tax (inclusive: net − tax; exclusive: net). */
  readonly netExclTax: number;
  /** What the customer pays for the line (inclusive: net; exclusive: net + tax). */
  readonly total: number;
}

/** The tax of a whole order: per line, per rate for the receipt, and in total. */
export interface OrderTax {
  readonly lines: TaxedLine[];
  /** Sorted by rate (highest first), then rate id. */
  readonly summary: TaxSummaryRow[];
  readonly taxTotal: number;
}

/** The exact tax of one rate on one line: `numerator / denominator` minor units. */
export interface ExactTax {
  readonly rateId: string;
  readonly numerator: bigint;
  readonly denominator: bigint;
}

const PPM = 1_000_000n;

/** Rates are keyed by id and ppm together, so a rate that changed while a cart was open gives two rows rather than a wrong one. */
const rateKey = (t: TaxRateSnapshot): string => `${t.rateId}\u0000${t.ratePpm}`;

function checkLine(line: TaxLineInput, index: number): void {
  assertInteger(line.net, `lines[${index}].net`);
  if (line.net < 0) throw new InvalidArgumentError(`lines[${index}].net`, 'must not be negative');
  const seen = new Set<string>();
  for (const t of line.taxes) {
    assertInteger(t.ratePpm, `rate ${t.rateId}`);
    if (t.ratePpm < 0 || t.ratePpm > 1_000_000) {
      throw new InvalidArgumentError(`rate ${t.rateId}`, 'must be between 0 and 1 000 000 ppm');
    }
    if (seen.has(t.rateId)) throw new InvalidArgumentError(`lines[${index}].taxes`, `rate ${t.rateId} appears twice`);
    seen.add(t.rateId);
  }
}

/**
 * The exact, unrounded tax of each rate on a line.
 *
 * @example
 * ```ts
 * exactLineTax(119, [{ rateId: 'de-19', name: 'MwSt 19 %', ratePpm: 190000 }], true)
 * // [{ rateId: 'de-19', numerator: 119n * 190000n, denominator: 1190000n }] — exactly 19
 * ```
 */
export function exactLineTax(net: number, taxes: readonly TaxRateSnapshot[], pricesIncludeTax: boolean): ExactTax[] {
  checkLine({ net, taxes }, 0);
  const total = taxes.reduce((s, t) => s + BigInt(t.ratePpm), 0n);
  const denominator = pricesIncludeTax ? PPM + total : PPM;
  return taxes.map((t) => ({ rateId: t.rateId, numerator: BigInt(net) * BigInt(t.ratePpm), denominator }));
}

/**
 * The tax of one line on its own, each rate rounded half-up (`line` rounding).
 *
 * @example
 * ```ts
 * // $10.00 at 8.875 % added on top: 1000 × 0.08875 = 88.75 → 89
 * lineTax(1000, [{ rateId: 'ny', name: 'NY', ratePpm: 88750 }], false) // [{ rateId: 'ny', amount: 89 }]
 * ```
 */
export function lineTax(net: number, taxes: readonly TaxRateSnapshot[], pricesIncludeTax: boolean): TaxAmount[] {
  return exactLineTax(net, taxes, pricesIncludeTax).map((e) => ({
    rateId: e.rateId,
    amount: toSafeInteger(divRound(e.numerator, e.denominator), 'tax'),
  }));
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/**
 * Rounds the sum of exact fractions once and spreads the result back over the parts by largest
 * remainder: each part gets the floor of its exact share, and the units left over go one each to
 * the parts with the largest remainders (ties to the earliest). The parts sum to the rounded sum,
 * and each is within one minor unit of its exact value.
 */
function roundSumAndSpread(parts: readonly { numerator: bigint; denominator: bigint }[]): bigint[] {
  let common = 1n;
  for (const p of parts) common = (common / gcd(common, p.denominator)) * p.denominator;
  const scaled = parts.map((p) => p.numerator * (common / p.denominator));
  const total = divRound(
    scaled.reduce((s, n) => s + n, 0n),
    common,
  );
  const out = scaled.map((n) => n / common);
  let left = total - out.reduce((s, n) => s + n, 0n);
  const order = scaled.map((n, i) => ({ i, r: n % common })).sort((x, y) => (x.r === y.r ? x.i - y.i : x.r > y.r ? -1 : 1));
  // left never exceeds the count of parts with a remainder: total ≤ exact + ½ and Σ remainders < that count.
  for (const { i } of order) {
    if (left <= 0n) break;
    out[i] = (out[i] ?? 0n) + 1n;
    left -= 1n;
  }
  return out;
}

/**
 * Computes the tax of every line of an order, the receipt's summary by rate and the order's tax.
 *
 * With `line` rounding every line's tax of every rate is rounded on its own. With `order` rounding
 * the exact tax of each rate is summed over the order (over a common denominator, in bigint) and
 * rounded once, then spread back over the lines by largest remainder, so the lines still add up to
 * the order. A summary row's `net` is the tax base without any tax, `gross` = `net` + `tax`.
 *
 * @example
 * ```ts
 * const rate = { rateId: 'ny', name: 'NY 8.875 %', ratePpm: 88750 };
 * // three lines of $0.99: each 8.78625 → 9 by line (27), or 26.35875 → 26 once by order
 * computeTax([{ net: 99, taxes: [rate] }, { net: 99, taxes: [rate] }, { net: 99, taxes: [rate] }],
 *   { pricesIncludeTax: false, taxRounding: 'order' }).taxTotal // 26
 * ```
 */
export function computeTax(lines: readonly TaxLineInput[], settings: TaxSettings): OrderTax {
  lines.forEach(checkLine);
  const exact = lines.map((l) => exactLineTax(l.net, l.taxes, settings.pricesIncludeTax));
  const rounded: bigint[][] = exact.map((line) => line.map((e) => divRound(e.numerator, e.denominator)));

  if (settings.taxRounding === 'order') {
    const byRate = new Map<string, { line: number; slot: number }[]>();
    lines.forEach((l, li) =>
      l.taxes.forEach((t, slot) => {
        const key = rateKey(t);
        const list = byRate.get(key) ?? [];
        list.push({ line: li, slot });
        byRate.set(key, list);
      }),
    );
    for (const members of byRate.values()) {
      const parts = members.map(({ line, slot }) => exact[line]?.[slot] ?? { numerator: 0n, denominator: 1n });
      roundSumAndSpread(parts).forEach((amount, k) => {
        const m = members[k];
        const row = m && rounded[m.line];
        if (m && row) row[m.slot] = amount;
      });
    }
  }

  const taxed: TaxedLine[] = lines.map((l, li) => {
    const amounts = rounded[li] ?? [];
    const tax = l.taxes.map((t, slot) => ({ rateId: t.rateId, amount: toSafeInteger(amounts[slot] ?? 0n, 'tax') }));
    const taxTotal = toSafeInteger(
      amounts.reduce((s, a) => s + a, 0n),
      'tax',
    );
    return settings.pricesIncludeTax
      ? { tax, taxTotal, netExclTax: l.net - taxTotal, total: l.net }
      : { tax, taxTotal, netExclTax: l.net, total: toSafeInteger(BigInt(l.net) + BigInt(taxTotal)) };
  });

  const rows = new Map<string, { rate: TaxRateSnapshot; net: bigint; tax: bigint }>();
  lines.forEach((l, li) => {
    const line = taxed[li];
    if (!line) return;
    l.taxes.forEach((t, slot) => {
      const key = rateKey(t);
      const row = rows.get(key) ?? { rate: t, net: 0n, tax: 0n };
      row.net += BigInt(line.netExclTax);
      row.tax += BigInt(line.tax[slot]?.amount ?? 0);
      rows.set(key, row);
    });
  });
  const summary: TaxSummaryRow[] = [...rows.values()]
    .sort((a, b) => b.rate.ratePpm - a.rate.ratePpm || (a.rate.rateId < b.rate.rateId ? -1 : a.rate.rateId > b.rate.rateId ? 1 : 0))
    .map(({ rate, net, tax }) => ({
      rateId: rate.rateId,
      name: rate.name,
      ratePpm: rate.ratePpm,
      net: toSafeInteger(net),
      tax: toSafeInteger(tax, 'tax'),
      gross: toSafeInteger(net + tax),
    }));
  const taxTotal = toSafeInteger(
    taxed.reduce((s, l) => s + BigInt(l.taxTotal), 0n),
    'tax',
  );
  return { lines: taxed, summary, taxTotal };
}
