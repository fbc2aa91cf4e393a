/**
 * Retail barcodes: EAN-13, EAN-8, UPC-A, UPC-E and GTIN-14 check digits, UPC-E ↔ UPC-A, the
 * normalised GTIN the catalog is keyed by, and GS1 variable-measure codes (restricted circulation
 * numbers carrying a weight or a price, laid out as the store's scales print them).
 *
 * Every check digit here follows the GS1 General Specifications §7.9.
 */
import { z } from 'zod';
import { currencyDecimals } from './currency.js';
import { InvalidArgumentError, KassaError } from './errors.js';
import { money, type Money } from './money.js';
import { qtyMilli, type Qty } from './quantity.js';
import { CurrencySchema } from './wire-primitives.js';

/** A barcode symbology Kassa reads. `gtin14` is an ITF-14 or GS1-128 trade-unit number. */
export type BarcodeFormat = 'ean13' | 'ean8' | 'upca' | 'upce' | 'gtin14';

/** Base of every barcode error, so a till can answer any unreadable scan with one beep. */
export abstract class BarcodeError extends KassaError {
  /** The code as scanned. */
  abstract readonly barcode: string;
}

/** Why a barcode is malformed. `number_system`: a UPC-E whose first digit is not 0 or 1. */
export type MalformedBarcodeReason = 'non_digit' | 'length' | 'number_system';

/** A barcode that is not digits, has a length no symbology has, or an impossible number system. */
export class MalformedBarcodeError extends BarcodeError {
  readonly code = 'malformed_barcode';
  constructor(
    readonly barcode: string,
    readonly reason: MalformedBarcodeReason,
  ) {
    super(`malformed barcode ${JSON.stringify(barcode)}: ${reason}`);
  }
}

/** A barcode whose check digit is wrong: a misread, or a typo when keyed in. */
export class CheckDigitError extends BarcodeError {
  readonly code = 'barcode_check_digit';
  constructor(
    readonly barcode: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`barcode ${barcode} has check digit ${actual}, expected ${expected}`);
  }
}

/** A variable-measure code whose price (or weight) verifier digit is wrong. */
export class ValueCheckDigitError extends BarcodeError {
  readonly code = 'barcode_value_check_digit';
  constructor(
    readonly barcode: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`barcode ${barcode} has value check digit ${actual}, expected ${expected}`);
  }
}

const DIGITS = /^\d+$/;

function assertDigits(text: string): void {
  if (!DIGITS.test(text)) throw new MalformedBarcodeError(text, 'non_digit');
}

function lastDigit(code: string): number {
  return Number(code.slice(-1));
}

/**
 * The GS1 mod-10 check digit of `body` (every digit but the check): weights 3, 1, 3, … from the
 * right. The same for GTIN-8, -12, -13, -14 and SSCC.
 *
 * @throws MalformedBarcodeError when `body` is empty or not digits.
 * @example
 * ```ts
 * gs1CheckDigit('400638133393') // 1, so 4006381333931 is valid
 * ```
 */
export function gs1CheckDigit(body: string): number {
  assertDigits(body);
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = Number(body[body.length - 1 - i]);
    sum += i % 2 === 0 ? digit * 3 : digit;
  }
  return (10 - (sum % 10)) % 10;
}

function hasValidMod10(code: string, length: number): boolean {
  return code.length === length && DIGITS.test(code) && gs1CheckDigit(code.slice(0, -1)) === lastDigit(code);
}

/** True for 13 digits with a valid check digit (EAN-13, ISBN-13, a UPC-A with a leading 0). */
export function isValidEan13(code: string): boolean {
  return hasValidMod10(code, 13);
}

/** True for 8 digits with a valid EAN-8 check digit. */
export function isValidEan8(code: string): boolean {
  return hasValidMod10(code, 8);
}

/** True for 12 digits with a valid UPC-A check digit. */
export function isValidUpcA(code: string): boolean {
  return hasValidMod10(code, 12);
}

/** True for a GTIN of 8, 12, 13 or 14 digits with a valid check digit. */
export function isValidGtin(code: string): boolean {
  return [8, 12, 13, 14].some((length) => hasValidMod10(code, length));
}

/**
 * True for an 8-digit UPC-E (number system 0 or 1, six digits, check digit) whose check digit is
 * that of its UPC-A expansion.
 */
export function isValidUpcE(code: string): boolean {
  if (code.length !== 8 || !DIGITS.test(code) || (code[0] !== '0' && code[0] !== '1')) return false;
  return gs1CheckDigit(upcEBodyToUpcABody(code)) === lastDigit(code);
}

// UPC-E drops zeros from the manufacturer and item numbers; its sixth digit says which (GS1 §5.2.2.4.2).
function upcEBodyToUpcABody(upce: string): string {
  const ns = upce.slice(0, 1);
  const d = upce.slice(1, 7);
  const last = Number(d[5]);
  if (last <= 2) return `${ns}${d.slice(0, 2)}${d[5]}0000${d.slice(2, 5)}`;
  if (last === 3) return `${ns}${d.slice(0, 3)}00000${d.slice(3, 5)}`;
  if (last === 4) return `${ns}${d.slice(0, 4)}00000${d[4]}`;
  return `${ns}${d.slice(0, 5)}0000${d[5]}`;
}

function checkUpcEShape(code: string): void {
  assertDigits(code);
  if (code.length !== 8) throw new MalformedBarcodeError(code, 'length');
  if (code[0] !== '0' && code[0] !== '1') throw new MalformedBarcodeError(code, 'number_system');
}

/**
 * Expands an 8-digit UPC-E to its 12-digit UPC-A.
 *
 * @throws MalformedBarcodeError when the code is not 8 digits or its number system is not 0 or 1.
 * @throws CheckDigitError when the check digit is not that of the expansion.
 * @example
 * ```ts
 * expandUpcE('04252614') // '042100005264'
 * ```
 */
export function expandUpcE(code: string): string {
  checkUpcEShape(code);
  const body = upcEBodyToUpcABody(code);
  const check = gs1CheckDigit(body);
  if (check !== lastDigit(code)) throw new CheckDigitError(code, check, lastDigit(code));
  return `${body}${check}`;
}

/**
 * Compresses a 12-digit UPC-A to UPC-E, or `null` when it has no UPC-E form. Where two UPC-E
 * forms expand to the same UPC-A, the one GS1 lists first is returned.
 *
 * @throws MalformedBarcodeError when the code is not 12 digits.
 * @throws CheckDigitError when its check digit is wrong.
 * @example
 * ```ts
 * compressUpcA('042100005264') // '04252614'
 * compressUpcA('036000291452') // null
 * ```
 */
export function compressUpcA(code: string): string | null {
  verifyMod10(code, 12);
  const ns = code.slice(0, 1);
  if (ns !== '0' && ns !== '1') return null;
  const m = code.slice(1, 6);
  const p = code.slice(6, 11);
  const check = code.slice(11);
  let six: string | null = null;
  if (m.endsWith('00') && '012'.includes(m.charAt(2)) && p.startsWith('00')) six = `${m.slice(0, 2)}${p.slice(2)}${m[2]}`;
  else if (m.endsWith('00') && p.startsWith('000')) six = `${m.slice(0, 3)}${p.slice(3)}3`;
  else if (m.endsWith('0') && p.startsWith('0000')) six = `${m.slice(0, 4)}${p[4]}4`;
  else if (p.startsWith('0000') && Number(p[4]) >= 5) six = `${m}${p[4]}`;
  return six === null ? null : `${ns}${six}${check}`;
}

function verifyMod10(code: string, length: number): void {
  assertDigits(code);
  if (code.length !== length) throw new MalformedBarcodeError(code, 'length');
  const check = gs1CheckDigit(code.slice(0, -1));
  if (check !== lastDigit(code)) throw new CheckDigitError(code, check, lastDigit(code));
}

/**
 * How to read an 8-digit code, which may be an EAN-8 or a UPC-E. A scanner that reports the
 * symbology (AIM identifier `]E4` is EAN-8) should say so; otherwise a code that is a valid UPC-E
 * is read as one, and any other as an EAN-8.
 */
export interface GtinOptions {
  readonly eightDigits?: 'ean8' | 'upce' | undefined;
}

interface Identified {
  readonly gtin: string;
  readonly format: BarcodeFormat;
}

function identify(code: string, options: GtinOptions | undefined): Identified {
  assertDigits(code);
  switch (code.length) {
    case 8: {
      const hint = options?.eightDigits;
      const upce =
        hint === 'upce' ||
        (hint === undefined && (isValidUpcE(code) || (!isValidEan8(code) && (code[0] === '0' || code[0] === '1'))));
      if (upce) return { gtin: `0${expandUpcE(code)}`, format: 'upce' };
      verifyMod10(code, 8);
      return { gtin: `00000${code}`, format: 'ean8' };
    }
    case 12:
      verifyMod10(code, 12);
      return { gtin: `0${code}`, format: 'upca' };
    case 13:
      verifyMod10(code, 13);
      return { gtin: code, format: 'ean13' };
    case 14:
      verifyMod10(code, 14);
      // A GTIN-14 with indicator 0 is the same number as its GTIN-13.
      return { gtin: code.startsWith('0') ? code.slice(1) : code, format: 'gtin14' };
    default:
      throw new MalformedBarcodeError(code, 'length');
  }
}

/**
 * The catalog's lookup key for a scanned GTIN: the number left-padded with zeros to 13 digits, or
 * its 14 digits when the indicator digit is not 0. A UPC-E is expanded first, so a can scanned as
 * UPC-E and as UPC-A finds the same product.
 *
 * @throws MalformedBarcodeError when the code is not 8, 12, 13 or 14 digits (or a bad UPC-E).
 * @throws CheckDigitError when the check digit is wrong.
 * @example
 * ```ts
 * normalizeGtin('036000291452') // '0036000291452'
 * normalizeGtin('04252614')     // '0042100005264'
 * normalizeGtin('96385074')     // '0000096385074'
 * ```
 */
export function normalizeGtin(code: string, options?: GtinOptions): string {
  return identify(code, options).gtin;
}

/** GS1 price/weight verifier weighting factors (§7.9.3): the product's digit after the rule. */
const WEIGHT_2_MINUS: readonly number[] = [0, 2, 4, 6, 8, 9, 1, 3, 5, 7];
const WEIGHT_3: readonly number[] = [0, 3, 6, 9, 2, 5, 8, 1, 4, 7];
const WEIGHT_5_PLUS: readonly number[] = [0, 5, 1, 6, 2, 7, 3, 8, 4, 9];
const WEIGHT_5_MINUS: readonly number[] = [0, 5, 9, 4, 8, 3, 7, 2, 6, 1];

function weighted(table: readonly number[], digit: string | undefined): number {
  return table[Number(digit)] ?? 0;
}

/**
 * The GS1 verifier digit of a 4- or 5-digit price or weight field (§7.9.3). Four digits: weights
 * 2-, 2-, 3, 5-, and the digit is the units of three times the sum. Five digits: weights 5+, 2-, 5-,
 * 5+, 2-, and the digit is the one whose 5- product brings the sum to a multiple of ten.
 *
 * @throws MalformedBarcodeError when `value` is not 4 or 5 digits.
 * @example
 * ```ts
 * priceCheckDigit('2875')  // 9
 * priceCheckDigit('14685') // 6
 * ```
 */
export function priceCheckDigit(value: string): number {
  assertDigits(value);
  if (value.length === 4) {
    const sum =
      weighted(WEIGHT_2_MINUS, value[0]) +
      weighted(WEIGHT_2_MINUS, value[1]) +
      weighted(WEIGHT_3, value[2]) +
      weighted(WEIGHT_5_MINUS, value[3]);
    return (sum * 3) % 10;
  }
  if (value.length === 5) {
    const sum =
      weighted(WEIGHT_5_PLUS, value[0]) +
      weighted(WEIGHT_2_MINUS, value[1]) +
      weighted(WEIGHT_5_MINUS, value[2]) +
      weighted(WEIGHT_5_PLUS, value[3]) +
      weighted(WEIGHT_2_MINUS, value[4]);
    return WEIGHT_5_MINUS.indexOf((10 - (sum % 10)) % 10);
  }
  throw new MalformedBarcodeError(value, 'length');
}

const layoutFields = {
  /**
   * The leading digits, matched against the 13-digit normalised code: `'2'`, `'21'`, or `'02'`
   * for UPC-A number system 2. All of one layout's prefixes have the same length.
   */
  prefixes: z.array(z.string().regex(/^(2|02|04)\d{0,3}$/, 'a restricted circulation prefix: 2…, 02… or 04…')).min(1),
  /** Digits of the store's item code after the prefix. */
  itemDigits: z.int().min(1).max(10),
  /** Digits of the weight or price field. */
  valueDigits: z.int().min(1).max(10),
  /** Implied decimals of the value field: 3 for grams in a kilogram-sold item, 2 for cents. */
  valueDecimals: z.int().min(0).max(10),
  /** Whether a GS1 verifier digit precedes the value field (4- or 5-digit fields only). */
  hasPriceCheckDigit: z.boolean(),
};

/** Weight layout: the value is a quantity of the product's selling unit (kg, lb). */
const WeightLayoutSchema = z.strictObject({ kind: z.literal('weight'), ...layoutFields });

/** Price layout: the value is the line's price in `currency`. */
const PriceLayoutSchema = z.strictObject({ kind: z.literal('price'), currency: CurrencySchema, ...layoutFields });

/** What is wrong with a layout, or undefined; shared by the schema and {@link parseBarcode}. */
function layoutProblem(layout: VariableMeasureLayout): string | undefined {
  const lengths = new Set(layout.prefixes.map((p) => p.length));
  const [prefixLength] = lengths;
  if (prefixLength === undefined || lengths.size !== 1) return 'prefixes must be non-empty and of one length';
  const total = prefixLength + layout.itemDigits + (layout.hasPriceCheckDigit ? 1 : 0) + layout.valueDigits + 1;
  if (total !== 13) return `prefix, item, verifier, value and check digits add up to ${total}, not 13`;
  if (layout.hasPriceCheckDigit && layout.valueDigits !== 4 && layout.valueDigits !== 5) {
    return 'a verifier digit needs a 4- or 5-digit value';
  }
  if (layout.valueDecimals > layout.valueDigits) return 'more decimals than value digits';
  const maxDecimals = layout.kind === 'weight' ? 3 : currencyDecimals(layout.currency);
  if (layout.valueDecimals > maxDecimals) return `at most ${maxDecimals} decimals for this ${layout.kind}`;
  return undefined;
}

/**
 * How a store's scales lay out a variable-measure EAN-13 (a store setting): prefix, item code,
 * optional verifier digit, value, check digit — 13 digits in all. For example
 * `{ kind: 'weight', prefixes: ['21'], itemDigits: 5, valueDigits: 5, valueDecimals: 3,
 * hasPriceCheckDigit: false }` reads `21 12345 00375 7` as item 12345, 0.375 kg.
 */
export const VariableMeasureLayoutSchema = z
  .discriminatedUnion('kind', [WeightLayoutSchema, PriceLayoutSchema])
  .superRefine((layout, ctx) => {
    const problem = layoutProblem(layout);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A variable-measure layout; see {@link VariableMeasureLayoutSchema}. */
export type VariableMeasureLayout = z.infer<typeof WeightLayoutSchema> | z.infer<typeof PriceLayoutSchema>;

/** A store's layouts. No prefix may start another's, so the order never matters. */
export const VariableMeasureLayoutsSchema = z.array(VariableMeasureLayoutSchema).superRefine((layouts, ctx) => {
  const prefixes = layouts.flatMap((l) => l.prefixes);
  for (const [i, a] of prefixes.entries()) {
    for (const [j, b] of prefixes.entries()) {
      if (i !== j && b.startsWith(a)) {
        ctx.addIssue({ code: 'custom', message: `prefix ${b} overlaps prefix ${a}` });
      }
    }
  }
});

/** A scanned code read as a GTIN to look up in the catalog. */
export interface ParsedGtin {
  readonly kind: 'gtin';
  /** The normalised lookup key, see {@link normalizeGtin}. */
  readonly gtin: string;
  readonly format: BarcodeFormat;
}

/** What both kinds of variable-measure code carry. */
interface ParsedVariableBase {
  readonly kind: 'variable';
  /** The 13-digit code as normalised. */
  readonly gtin: string;
  /** The layout prefix that matched: stores may use one per department. */
  readonly prefix: string;
  /** The store's item code, leading zeros kept. */
  readonly itemCode: string;
}

/** A variable-measure code carrying a weight. */
export interface ParsedWeight extends ParsedVariableBase {
  readonly measure: 'weight';
  /** Thousandths of the product's selling unit: 0.375 kg is 375. */
  readonly qty: Qty;
}

/** A variable-measure code carrying a price. */
export interface ParsedPrice extends ParsedVariableBase {
  readonly measure: 'price';
  readonly price: Money;
}

/** What {@link parseBarcode} reads from a scan. */
export type ParsedBarcode = ParsedGtin | ParsedWeight | ParsedPrice;

/**
 * Reads a scanned retail barcode: a variable-measure code when its normalised 13 digits start with
 * one of the layouts' prefixes, otherwise a GTIN to look up. A 2-prefixed code no layout claims is
 * a GTIN (stores also print fixed in-store codes). Layouts are tried in order; a list that passes
 * {@link VariableMeasureLayoutsSchema} has no overlapping prefixes, so the order does not matter.
 *
 * @throws MalformedBarcodeError when the code is not digits or not 8, 12, 13 or 14 long.
 * @throws CheckDigitError when the check digit is wrong.
 * @throws ValueCheckDigitError when a layout's verifier digit does not match the value.
 * @throws InvalidArgumentError when a layout is inconsistent (see {@link VariableMeasureLayoutSchema}).
 * @example
 * ```ts
 * const scale = { kind: 'weight', prefixes: ['21'], itemDigits: 5, valueDigits: 5, valueDecimals: 3,
 *   hasPriceCheckDigit: false } as const
 * parseBarcode('2112345003757', [scale]) // { kind: 'variable', measure: 'weight', itemCode: '12345', qty: 375, … }
 * parseBarcode('4006381333931', [scale]) // { kind: 'gtin', gtin: '4006381333931', format: 'ean13' }
 * ```
 */
export function parseBarcode(code: string, layouts: readonly VariableMeasureLayout[], options?: GtinOptions): ParsedBarcode {
  const { gtin, format } = identify(code, options);
  if (gtin.length !== 13) return { kind: 'gtin', gtin, format };
  for (const layout of layouts) {
    const prefix = layout.prefixes.find((p) => gtin.startsWith(p));
    if (prefix === undefined) continue;
    const problem = layoutProblem(layout);
    if (problem !== undefined) throw new InvalidArgumentError('layouts', problem);
    return readVariable(code, gtin, prefix, layout);
  }
  return { kind: 'gtin', gtin, format };
}

function readVariable(code: string, gtin: string, prefix: string, layout: VariableMeasureLayout): ParsedWeight | ParsedPrice {
  let at = prefix.length;
  const itemCode = gtin.slice(at, (at += layout.itemDigits));
  const verifier = layout.hasPriceCheckDigit ? Number(gtin[at++]) : undefined;
  const field = gtin.slice(at, at + layout.valueDigits);
  if (verifier !== undefined) {
    const expected = priceCheckDigit(field);
    if (expected !== verifier) throw new ValueCheckDigitError(code, expected, verifier);
  }
  const value = Number(field);
  const base = { kind: 'variable', gtin, prefix, itemCode } as const;
  if (layout.kind === 'weight') {
    return { ...base, measure: 'weight', qty: qtyMilli(value * 10 ** (3 - layout.valueDecimals)) };
  }
  const scale = 10 ** (currencyDecimals(layout.currency) - layout.valueDecimals);
  return { ...base, measure: 'price', price: money(value * scale, layout.currency) };
}
