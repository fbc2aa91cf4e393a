/**
 * The receipt hash chain: each receipt-bearing op of a register (sale, refund, exchange, void,
 * Z report) carries `receiptNo` and `prevHash`, the hash of the register's previous receipt, so
 * deleting, altering, reordering or re-numbering a receipt after the fact breaks the chain at a
 * point {@link verifyChain} names.
 *
 * The canonical form, fixed for version 1 (changing it means a new `format` string, and the
 * verifier keeping the old one):
 *
 * ```
 * receiptHash = lowercase hex SHA-256 of the UTF-8 bytes of
 *   canonicalJson({ format: "kassa.receipt.v1", type, payload })
 * ```
 *
 * - `type` is the op type (e.g. `sale.completed`) so a sale and a refund with equal payloads
 *   hash differently; `payload` is the whole op payload, `receiptNo` and `prevHash` included.
 * - The op envelope (id, deviceId, seq, hlc, staffId, …) is not hashed: the chain attests to what
 *   the receipt says, and the envelope's integrity is the sync protocol's business.
 * - The first receipt of a register has `prevHash` = {@link GENESIS_HASH} (64 zeros) and
 *   sequence 1. Each further receipt is on the same store and register, with sequence + 1.
 */
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { KassaError } from './errors.js';
import { formatReceiptNo, isValidReceiptNo, nextReceiptNo, parseReceiptNo } from './receipt-number.js';
import type { ReceiptNoParts } from './receipt-number.js';
import { sha256Hex } from './sha256.js';

/** The `prevHash` of a register's first receipt: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The version tag inside every hashed receipt (see the canonical form above). */
export const RECEIPT_HASH_FORMAT = 'kassa.receipt.v1';

/** zod schema of a receipt hash: 64 lower-case hex digits. */
export const ReceiptHashSchema = z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits');

/** The fields every receipt-bearing payload has; the rest of the payload is hashed as it is. */
export interface ReceiptPayload {
  readonly receiptNo: string;
  readonly prevHash: string;
  readonly [field: string]: unknown;
}

/** A receipt as the chain sees it: the op type and the op payload. */
export interface ChainedReceipt {
  readonly type: string;
  readonly payload: ReceiptPayload;
}

/** Where a chain stands: the last receipt's number and hash, or the genesis before any. */
export interface ChainHead {
  /** The last receipt's number, or `null` before the register's first receipt. */
  readonly receiptNo: string | null;
  /** The last receipt's hash, or {@link GENESIS_HASH}. */
  readonly hash: string;
}

/** The head of a register that has issued no receipt yet. */
export const GENESIS_HEAD: ChainHead = { receiptNo: null, hash: GENESIS_HASH };

/** What the next receipt must carry to continue a chain. */
export interface ChainLink {
  readonly receiptNo: string;
  readonly prevHash: string;
}

/**
 * Why a chain broke at a receipt.
 * - `prev_hash_mismatch`: its `prevHash` is not the previous receipt's hash (that receipt was
 *   altered, or one is missing, or they are out of order).
 * - `receipt_no_invalid`: its `receiptNo` is not a canonical receipt number.
 * - `register_mismatch`: it belongs to another store or register than the chain.
 * - `seq_not_next`: its sequence is not the previous one + 1 (1 after genesis): a duplicate,
 *   skipped or reused number, even when the hashes were recomputed to link.
 * - `unhashable`: its payload has no canonical JSON form (e.g. a non-finite number).
 */
export type ChainBreakReason =
  | 'prev_hash_mismatch'
  | 'receipt_no_invalid'
  | 'register_mismatch'
  | 'seq_not_next'
  | 'unhashable';

/** The outcome of {@link verifyChain}. */
export type ChainVerification =
  | { readonly ok: true; readonly head: ChainHead }
  | {
      readonly ok: false;
      /** Index (in the list given) of the first receipt that does not follow. */
      readonly index: number;
      readonly receiptNo: string;
      /** The hash the receipt should have pointed at: the previous receipt's (or the start's). */
      readonly expectedPrevHash: string;
      readonly actualPrevHash: string;
      readonly reason: ChainBreakReason;
    };

/** {@link nextChainLink} was asked to continue a chain on another store or register. */
export class ReceiptChainRegisterMismatchError extends KassaError {
  readonly code = 'receipt_chain_register_mismatch';
  constructor(
    readonly headReceiptNo: string,
    readonly storeCode: string,
    readonly registerCode: string,
  ) {
    super(`chain head ${headReceiptNo} is not on store ${storeCode} register ${registerCode}`);
  }
}

/**
 * SHA-256 of a string's UTF-8 bytes as 64 lower-case hex digits. Core's own {@link sha256Hex} is the
 * default; a caller with a native SHA-256 (the server's `node:crypto`, ~15× faster) passes its own,
 * which must give the same digest.
 */
export type TextHasher = (text: string) => string;

/**
 * The hash of one receipt in the canonical form described above. Throws
 * `NonCanonicalValueError` when the payload has no canonical JSON form.
 *
 * @example
 * ```ts
 * const h = receiptHash({ type: 'sale.completed', payload: { receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH, total: 1250 } })
 * // 64 hex digits; the next receipt carries it as its prevHash
 * ```
 */
export function receiptHash(receipt: ChainedReceipt, hashText: TextHasher = sha256Hex): string {
  return hashText(canonicalJson({ format: RECEIPT_HASH_FORMAT, type: receipt.type, payload: receipt.payload }));
}

/**
 * The chain head after `receipt` (its number and hash), to store and to continue from.
 *
 * @example
 * ```ts
 * let head = GENESIS_HEAD;
 * head = headAfter(firstReceipt); // { receiptNo: 'S01-R02-000001', hash: '…' }
 * ```
 */
export function headAfter(receipt: ChainedReceipt, hashText: TextHasher = sha256Hex): ChainHead {
  return { receiptNo: receipt.payload.receiptNo, hash: receiptHash(receipt, hashText) };
}

/**
 * The `receiptNo` and `prevHash` the next receipt of `register` must carry, given the chain's
 * head. Throws {@link ReceiptChainRegisterMismatchError} when the head is another register's.
 *
 * @example
 * ```ts
 * nextChainLink(GENESIS_HEAD, { storeCode: 'S01', registerCode: 'R02' })
 * // { receiptNo: 'S01-R02-000001', prevHash: GENESIS_HASH }
 * ```
 */
export function nextChainLink(head: ChainHead, register: Omit<ReceiptNoParts, 'seq'>): ChainLink {
  if (head.receiptNo === null) {
    return { receiptNo: formatReceiptNo({ ...register, seq: 1 }), prevHash: head.hash };
  }
  const last = parseReceiptNo(head.receiptNo);
  if (last.storeCode !== register.storeCode || last.registerCode !== register.registerCode) {
    throw new ReceiptChainRegisterMismatchError(head.receiptNo, register.storeCode, register.registerCode);
  }
  return { receiptNo: nextReceiptNo(head.receiptNo), prevHash: head.hash };
}

/**
 * Checks that `receipts`, in issue order, form one register's unbroken chain starting after
 * `from` (default: the genesis). Returns the new head, or the first receipt that breaks it and
 * why. The last receipt is only as safe as its head: compare `head.hash` with a head kept
 * elsewhere (the server's, a printed Z report) to catch an edit to it. Throws
 * `InvalidReceiptNoError` when `from.receiptNo` is not a receipt number (a caller's bug).
 *
 * @example
 * ```ts
 * const result = verifyChain(receipts);
 * if (!result.ok) raiseAlert('receipt_chain_break', result); // e.g. reason 'prev_hash_mismatch' at index 3
 * ```
 */
export function verifyChain(
  receipts: readonly ChainedReceipt[],
  from: ChainHead = GENESIS_HEAD,
  hashText: TextHasher = sha256Hex,
): ChainVerification {
  let head = from;
  let register: Omit<ReceiptNoParts, 'seq'> | null = null;
  let lastSeq = 0;
  if (from.receiptNo !== null) {
    // A start that is not a receipt number is the caller's bug, not a break in the chain.
    const start = parseReceiptNo(from.receiptNo);
    register = { storeCode: start.storeCode, registerCode: start.registerCode };
    lastSeq = start.seq;
  }

  for (const [index, receipt] of receipts.entries()) {
    const { receiptNo, prevHash } = receipt.payload;
    const broken = (reason: ChainBreakReason): ChainVerification => ({
      ok: false,
      index,
      receiptNo,
      expectedPrevHash: head.hash,
      actualPrevHash: prevHash,
      reason,
    });
    if (!isValidReceiptNo(receiptNo)) return broken('receipt_no_invalid');
    if (prevHash !== head.hash) return broken('prev_hash_mismatch');
    const parts = parseReceiptNo(receiptNo);
    register ??= { storeCode: parts.storeCode, registerCode: parts.registerCode };
    if (parts.storeCode !== register.storeCode || parts.registerCode !== register.registerCode) {
      return broken('register_mismatch');
    }
    if (parts.seq !== lastSeq + 1) return broken('seq_not_next');
    let hash: string;
    try {
      hash = receiptHash(receipt, hashText);
    } catch {
      return broken('unhashable');
    }
    head = { receiptNo, hash };
    lastSeq = parts.seq;
  }
  return { ok: true, head };
}
