/**
 * Detects full payment card numbers (PANs) so they are never stored: Kassa sits outside the card
 * data environment and keeps only brand, last four, approval code and provider reference
 * (DESIGN.md §4). Every free-text field of an op is checked with {@link containsCardNumber}.
 *
 * A digit string is a PAN when all of these hold:
 * 1. it has 13–19 digits (12-digit Maestro numbers are not looked for: 12 digits is a UPC-A
 *    barcode, and one in ten of those would pass Luhn);
 * 2. it starts with an issuer prefix whose brand issues that length ({@link detectCardBrand});
 * 3. its Luhn check digit is right ({@link luhnValid});
 * 4. it is not 13 digits with a valid EAN-13 check digit. A 13-digit PAN (Visa 4…, Maestro 5…/6…)
 *    is shaped like a European barcode (400–440 Germany, 590 Poland, 690 China); about one valid
 *    EAN-13 in ten also passes Luhn. Visa stopped issuing 13-digit numbers long ago, so a value
 *    that is both is treated as the barcode; a 13-digit PAN whose last digit is not an EAN check
 *    digit is still caught.
 *
 * In free text, digits may be grouped by single spaces or dashes (`4111 1111-1111 1111`); a
 * candidate is any run of whole, adjacent groups, so a PAN followed by an expiry or preceded by
 * a table number is found, but a PAN-shaped slice of a longer unbroken digit string is not (a
 * long reference is not a card). A random 16-digit number with an issuer prefix passes Luhn one
 * time in ten and is indistinguishable from a PAN: such a provider reference is refused, which
 * is the safe error.
 *
 * Kassa's own gift cards are 16 digits starting `98` (no card network issues under 9) with a
 * Damm check digit; see {@link isGiftCardNumber}.
 */
import { KassaError } from './errors.js';
import type { RandomSource } from './clock.js';

/** The card networks {@link detectCardBrand} knows. */
export type CardBrand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'jcb' | 'diners' | 'unionpay' | 'mir' | 'maestro';

interface IssuerRange {
  readonly brand: CardBrand;
  /** First and last prefix of the range, equal length. */
  readonly from: string;
  readonly to: string;
  readonly lengths: readonly number[];
}

const lengths = (min: number, max: number): number[] => Array.from({ length: max - min + 1 }, (_, i) => min + i);

// Issuer ranges as the networks publish them (Visa, Mastercard, Amex, Discover Global Network,
// JCB, Diners Club International, UnionPay International, Mir/NSPK) and as ISO/IEC 7812 assigns
// Maestro. Earlier rows win: Discover 65 and UnionPay 62 sit inside Maestro's 56–69.
const ISSUER_RANGES: readonly IssuerRange[] = [
  { brand: 'visa', from: '4', to: '4', lengths: [13, 16, 19] },
  { brand: 'mastercard', from: '51', to: '55', lengths: [16] },
  { brand: 'mastercard', from: '2221', to: '2720', lengths: [16] },
  { brand: 'mir', from: '2200', to: '2204', lengths: lengths(16, 19) },
  { brand: 'amex', from: '34', to: '34', lengths: [15] },
  { brand: 'amex', from: '37', to: '37', lengths: [15] },
  { brand: 'discover', from: '6011', to: '6011', lengths: lengths(16, 19) },
  { brand: 'discover', from: '644', to: '649', lengths: lengths(16, 19) },
  { brand: 'discover', from: '65', to: '65', lengths: lengths(16, 19) },
  { brand: 'jcb', from: '3528', to: '3589', lengths: lengths(16, 19) },
  { brand: 'diners', from: '300', to: '305', lengths: lengths(14, 19) },
  { brand: 'diners', from: '36', to: '36', lengths: lengths(14, 19) },
  { brand: 'diners', from: '38', to: '39', lengths: lengths(14, 19) },
  { brand: 'unionpay', from: '62', to: '62', lengths: lengths(16, 19) },
  { brand: 'maestro', from: '50', to: '50', lengths: lengths(12, 19) },
  { brand: 'maestro', from: '56', to: '69', lengths: lengths(12, 19) },
];

const PAN_MIN_DIGITS = 13;
const PAN_MAX_DIGITS = 19;
const DIGITS = /^\d+$/;

/**
 * True when `digits` (digits only, at least two) ends in a correct Luhn (mod 10) check digit.
 *
 * @example
 * ```ts
 * luhnValid('4111111111111111') // true
 * luhnValid('4111111111111112') // false
 * ```
 */
export function luhnValid(digits: string): boolean {
  if (digits.length < 2 || !DIGITS.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The network whose issuer prefix `digits` starts with, if that network issues numbers of this
 * length; `null` otherwise. Does not check Luhn: this is about shape, not validity.
 *
 * @example
 * ```ts
 * detectCardBrand('378282246310005') // 'amex'
 * detectCardBrand('4111111111111')   // 'visa' (Visa issues 13, 16 and 19 digits)
 * detectCardBrand('41111111111111')  // null (14 digits)
 * ```
 */
export function detectCardBrand(digits: string): CardBrand | null {
  if (!DIGITS.test(digits)) return null;
  for (const range of ISSUER_RANGES) {
    const prefix = digits.slice(0, range.from.length);
    if (prefix.length === range.from.length && prefix >= range.from && prefix <= range.to) {
      if (range.lengths.includes(digits.length)) return range.brand;
    }
  }
  return null;
}

/** GS1 check digit: weights 1, 3, 1, … from the left over the first twelve digits. */
function ean13Valid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += (digits.charCodeAt(i) - 48) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(12) - 48;
}

function isPanDigits(digits: string): boolean {
  if (digits.length < PAN_MIN_DIGITS || digits.length > PAN_MAX_DIGITS) return false;
  if (detectCardBrand(digits) === null || !luhnValid(digits)) return false;
  return !(digits.length === 13 && ean13Valid(digits));
}

/**
 * True when the whole of `text` (surrounding whitespace aside) is one PAN, written as digits
 * with optional single spaces or dashes between groups.
 *
 * @example
 * ```ts
 * isCardNumber('4111 1111 1111 1111') // true
 * isCardNumber('4006381333931')       // false (an EAN-13 barcode)
 * ```
 */
export function isCardNumber(text: string): boolean {
  const trimmed = text.trim();
  if (!/^\d+(?:[ -]\d+)*$/.test(trimmed)) return false;
  return isPanDigits(trimmed.replace(/[ -]/g, ''));
}

/**
 * True when `text` contains a PAN anywhere: a run of whole digit groups, joined by single
 * spaces or dashes, that {@link isCardNumber} would accept on its own.
 *
 * @example
 * ```ts
 * containsCardNumber('paid with 4111-1111-1111-1111 thx') // true
 * containsCardNumber('EAN 4006381333931, ref 8815123412341234') // false
 * ```
 */
export function containsCardNumber(text: string): boolean {
  // Digit groups, with whether each continues the previous one (exactly one ' ' or '-' between).
  const groups: { digits: string; joined: boolean }[] = [];
  let previousEnd = -1;
  for (const m of text.matchAll(/\d+/g)) {
    const gap = text.slice(previousEnd, m.index);
    groups.push({ digits: m[0], joined: previousEnd >= 0 && (gap === ' ' || gap === '-') });
    previousEnd = m.index + m[0].length;
  }
  for (let start = 0; start < groups.length; start++) {
    let digits = '';
    for (let end = start; end < groups.length; end++) {
      const group = groups[end] as { digits: string; joined: boolean };
      if (end > start && !group.joined) break;
      digits += group.digits;
      if (digits.length > PAN_MAX_DIGITS) break;
      if (isPanDigits(digits)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Kassa gift-card numbers: 16 digits = "98" + 13 random digits + a Damm check digit.
// Damm (not Luhn) because it catches every single-digit error and every swap of adjacent digits
// (Luhn misses 09↔90), and so a gift card can never be mistaken for a PAN by check digit alone;
// the 98 prefix keeps it outside every card network's ranges.
// ---------------------------------------------------------------------------------------------

/** The first two digits of every Kassa gift-card number. */
export const GIFT_CARD_PREFIX = '98';

const GIFT_CARD_DIGITS = 16;

// Damm's weakly totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004).
const DAMM = [
  '0317598642',
  '7092154863',
  '4206871359',
  '1750983426',
  '6123045978',
  '3674209581',
  '5869720134',
  '8945362017',
  '9438617205',
  '2581436790',
];

function dammInterim(digits: string): number {
  let interim = 0;
  for (let i = 0; i < digits.length; i++) {
    interim = (DAMM[interim] as string).charCodeAt(digits.charCodeAt(i) - 48) - 48;
  }
  return interim;
}

function giftCardDigits(text: string): string | null {
  const trimmed = text.trim();
  if (!/^\d+(?:[ -]\d+)*$/.test(trimmed)) return null;
  const digits = trimmed.replace(/[ -]/g, '');
  if (digits.length !== GIFT_CARD_DIGITS || !digits.startsWith(GIFT_CARD_PREFIX)) return null;
  return dammInterim(digits) === 0 ? digits : null;
}

/** A text that is not a Kassa gift-card number (wrong length, prefix or check digit). */
export class InvalidGiftCardNumberError extends KassaError {
  readonly code = 'invalid_gift_card_number';
  constructor(readonly input: string) {
    super(`${JSON.stringify(input)} is not a Kassa gift-card number`);
  }
}

/**
 * True when `text` is a Kassa gift-card number: 16 digits starting `98` with a correct Damm
 * check digit, optionally grouped by single spaces or dashes.
 *
 * @example
 * ```ts
 * isGiftCardNumber('9852 6018 1590 8305') // true
 * isGiftCardNumber('9852 6018 1590 8304') // false (check digit)
 * ```
 */
export function isGiftCardNumber(text: string): boolean {
  return giftCardDigits(text) !== null;
}

/**
 * The printed form of a gift-card number, four groups of four digits; throws
 * {@link InvalidGiftCardNumberError} when `text` is not one.
 *
 * @example
 * ```ts
 * formatGiftCardNumber('9852601815908305') // '9852 6018 1590 8305'
 * ```
 */
export function formatGiftCardNumber(text: string): string {
  const digits = giftCardDigits(text);
  if (digits === null) throw new InvalidGiftCardNumberError(text);
  return digits.replace(/(\d{4})(?=\d)/g, '$1 ');
}

/**
 * A new random gift-card number (16 digits, unformatted), drawing from `random` — pass a
 * cryptographic source in production, since the number is what redeems the card.
 *
 * @example
 * ```ts
 * newGiftCardNumber(seededRandom(1)) // '98…' (16 digits)
 * ```
 */
export function newGiftCardNumber(random: RandomSource): string {
  let body = GIFT_CARD_PREFIX;
  while (body.length < GIFT_CARD_DIGITS - 1) {
    for (const byte of random(16)) {
      // Bytes 250–255 are dropped so every digit is equally likely (250 = 25 × 10).
      if (byte < 250 && body.length < GIFT_CARD_DIGITS - 1) body += String(byte % 10);
    }
  }
  // Appending the digit that returns the interim to 0 makes the whole number check.
  const interim = dammInterim(body);
  const check = (DAMM[interim] as string).indexOf('0');
  return body + String(check);
}
