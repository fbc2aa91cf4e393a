/**
 * Receipt numbers that are unique without coordination: store code, register code and the
 * register's own sequence, e.g. `S01-R02-000123` (DESIGN.md §3).
 *
 * The text form is canonical: exactly one string per (store, register, seq), so a receipt number
 * can be a unique key and compared for equality as a string. Ordering is not textual
 * (`S01-R02-999999` < `S01-R02-1000000`): parse and use {@link compareReceiptNo}.
 *
 * Grammar: `STORE-REGISTER-SEQ`
 * - STORE and REGISTER: 1–8 characters of `A–Z` and `0–9` (upper case only, no `-`, which is the
 *   separator). Upper case only so that a number read aloud or typed on a receipt search has one
 *   spelling; the UI upper-cases what the cashier types.
 * - SEQ: ≥ 1, written with at least 6 digits (zero-padded); past 999 999 it simply grows
 *   (`1000000`), never with a leading zero beyond the padding. At most 16 digits (a safe integer).
 *   The longest number, 8 + 1 + 8 + 1 + 16 = 34 characters, fits the 40 the order schemas allow.
 */
import { z } from 'zod';
import { KassaError } from './errors.js';

/** The allowed store and register codes: 1–8 of `A–Z0–9`. */
export const RECEIPT_CODE_PATTERN = /^[A-Z0-9]{1,8}$/;

/** The number of digits a sequence is zero-padded to. */
export const RECEIPT_SEQ_MIN_DIGITS = 6;

/** The parts of a receipt number. */
export interface ReceiptNoParts {
  /** The store's code, `[A-Z0-9]{1,8}`. */
  readonly storeCode: string;
  /** The register's code within the store, `[A-Z0-9]{1,8}`. */
  readonly registerCode: string;
  /** The register's receipt sequence, a safe integer ≥ 1. */
  readonly seq: number;
}

/** Which part of a receipt number is wrong and how. */
export type ReceiptNoProblem =
  | 'shape'
  | 'store_code'
  | 'register_code'
  | 'seq_not_positive'
  | 'seq_leading_zero'
  | 'seq_too_large';

/** A text that is not a canonical receipt number (see the grammar in `receipt-number.ts`). */
export class InvalidReceiptNoError extends KassaError {
  readonly code = 'invalid_receipt_no';
  constructor(
    readonly input: string,
    readonly problem: ReceiptNoProblem,
  ) {
    super(`${JSON.stringify(input)} is not a receipt number (${problem})`);
  }
}

/** Parts that cannot form a receipt number (a bad code, a sequence < 1 or not a safe integer). */
export class InvalidReceiptNoPartsError extends KassaError {
  readonly code = 'invalid_receipt_no_parts';
  constructor(
    readonly part: 'storeCode' | 'registerCode' | 'seq',
    readonly value: string | number,
  ) {
    super(`receipt number ${part} ${JSON.stringify(value)} is not allowed`);
  }
}

const SHAPE = /^([^-]*)-([^-]*)-(\d+)$/;
const MAX_SEQ_DIGITS = String(Number.MAX_SAFE_INTEGER).length;

function check(text: string): ReceiptNoParts | ReceiptNoProblem {
  const m = SHAPE.exec(text);
  if (m === null) return 'shape';
  const [, storeCode = '', registerCode = '', digits = ''] = m;
  if (!RECEIPT_CODE_PATTERN.test(storeCode)) return 'store_code';
  if (!RECEIPT_CODE_PATTERN.test(registerCode)) return 'register_code';
  if (digits.length < RECEIPT_SEQ_MIN_DIGITS) return 'shape';
  if (digits.length > MAX_SEQ_DIGITS) return 'seq_too_large';
  const seq = Number(digits);
  if (seq < 1) return 'seq_not_positive';
  if (!Number.isSafeInteger(seq)) return 'seq_too_large';
  if (digits.length > RECEIPT_SEQ_MIN_DIGITS && digits.startsWith('0')) return 'seq_leading_zero';
  return { storeCode, registerCode, seq };
}

/**
 * Writes a receipt number; throws {@link InvalidReceiptNoPartsError} for a code outside
 * `[A-Z0-9]{1,8}` or a sequence that is not a safe integer ≥ 1.
 *
 * @example
 * ```ts
 * formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 123 }) // 'S01-R02-000123'
 * formatReceiptNo({ storeCode: 'S01', registerCode: 'R02', seq: 1_000_000 }) // 'S01-R02-1000000'
 * ```
 */
export function formatReceiptNo(parts: ReceiptNoParts): string {
  const { storeCode, registerCode, seq } = parts;
  if (!RECEIPT_CODE_PATTERN.test(storeCode)) throw new InvalidReceiptNoPartsError('storeCode', storeCode);
  if (!RECEIPT_CODE_PATTERN.test(registerCode)) throw new InvalidReceiptNoPartsError('registerCode', registerCode);
  if (!Number.isSafeInteger(seq) || seq < 1) throw new InvalidReceiptNoPartsError('seq', seq);
  return `${storeCode}-${registerCode}-${String(seq).padStart(RECEIPT_SEQ_MIN_DIGITS, '0')}`;
}

/**
 * Reads a canonical receipt number into its parts; throws {@link InvalidReceiptNoError} naming the
 * problem. Non-canonical spellings (lower case, `S01-R02-123`, `S01-R02-0001000000`) are refused,
 * so `formatReceiptNo(parseReceiptNo(s)) === s` for every accepted `s`.
 *
 * @example
 * ```ts
 * parseReceiptNo('S01-R02-000123') // { storeCode: 'S01', registerCode: 'R02', seq: 123 }
 * ```
 */
export function parseReceiptNo(text: string): ReceiptNoParts {
  const result = check(text);
  if (typeof result === 'string') throw new InvalidReceiptNoError(text, result);
  return result;
}

/**
 * True when `text` is a canonical receipt number.
 *
 * @example
 * ```ts
 * isValidReceiptNo('S01-R02-000123') // true
 * isValidReceiptNo('s01-r02-123') // false
 * ```
 */
export function isValidReceiptNo(text: string): boolean {
  return typeof check(text) !== 'string';
}

/**
 * The number after `previous` on the same register (sequence + 1); throws
 * {@link InvalidReceiptNoError} when `previous` is not a receipt number. The first number of a
 * register is `formatReceiptNo({ storeCode, registerCode, seq: 1 })`.
 *
 * @example
 * ```ts
 * nextReceiptNo('S01-R02-999999') // 'S01-R02-1000000'
 * ```
 */
export function nextReceiptNo(previous: string): string {
  const parts = parseReceiptNo(previous);
  return formatReceiptNo({ ...parts, seq: parts.seq + 1 });
}

/**
 * Orders receipt numbers by store code, then register code (both by code unit), then sequence
 * numerically — the order a register issued them in. Throws {@link InvalidReceiptNoError} for
 * a text that is not a receipt number.
 *
 * @example
 * ```ts
 * ['S01-R02-1000000', 'S01-R02-999999'].sort(compareReceiptNo) // ['S01-R02-999999', 'S01-R02-1000000']
 * ```
 */
export function compareReceiptNo(a: string, b: string): number {
  const pa = parseReceiptNo(a);
  const pb = parseReceiptNo(b);
  if (pa.storeCode !== pb.storeCode) return pa.storeCode < pb.storeCode ? -1 : 1;
  if (pa.registerCode !== pb.registerCode) return pa.registerCode < pb.registerCode ? -1 : 1;
  return pa.seq - pb.seq;
}

/** zod schema of a canonical receipt number, for op payloads and API inputs. */
export const ReceiptNoSchema = z.string().max(40).refine(isValidReceiptNo, { message: 'a receipt number like S01-R02-000123' });
