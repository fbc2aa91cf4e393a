/**
 * Which op types are facts and which are reference edits (DESIGN.md §2), and which print a
 * receipt. Facts are immutable and applied once by id; reference edits are merged field by field.
 */
import type { Op, OpOf, OpType } from './op-schema.js';

/** Op types that record something that happened at the till: append-only, never merged. */
export const FACT_OP_TYPES = [
  'sale.completed',
  'sale.voided',
  'refund.completed',
  'exchange.completed',
  'cash.moved',
  'shift.opened',
  'shift.closed',
  'drawer.opened',
  'stock.adjusted',
  'stock.received',
  'stock.counted',
  'stock.transferred',
  'gift_card.issued',
  'gift_card.reloaded',
  'gift_card.redeemed',
  'store_credit.issued',
  'store_credit.redeemed',
  'loyalty.accrued',
  'loyalty.redeemed',
] as const satisfies readonly OpType[];

/** Op types that edit a reference document: per-field last-writer-wins by HLC. */
export const REFERENCE_OP_TYPES = ['customer.upserted', 'product.edited', 'reference.edited'] as const satisfies readonly OpType[];

/**
 * Fact op types that print a receipt and so carry `receiptNo` and `prevHash`: together they form
 * each register's receipt chain.
 */
export const RECEIPT_OP_TYPES = [
  'sale.completed',
  'sale.voided',
  'refund.completed',
  'exchange.completed',
  'shift.closed',
] as const satisfies readonly (typeof FACT_OP_TYPES)[number][];

/** A fact op type. */
export type FactOpType = (typeof FACT_OP_TYPES)[number];
/** A reference-edit op type. */
export type ReferenceOpType = (typeof REFERENCE_OP_TYPES)[number];
/** A receipt-printing op type. */
export type ReceiptOpType = (typeof RECEIPT_OP_TYPES)[number];

/** A fact op. */
export type FactOp = OpOf<FactOpType>;
/** A reference-edit op. */
export type ReferenceOp = OpOf<ReferenceOpType>;
/** An op that carries `payload.receiptNo` and `payload.prevHash`. */
export type ReceiptOp = OpOf<ReceiptOpType>;

// Every op type is exactly one of fact or reference edit: these fail to compile when a new type is
// added to OpSchema without being classified, or classified twice.
type Missing = Exclude<OpType, FactOpType | ReferenceOpType>;
type Twice = Extract<FactOpType, ReferenceOpType>;
const _everyTypeClassified: [Missing, Twice] extends [never, never] ? true : never = true;
void _everyTypeClassified;

const factTypes: ReadonlySet<OpType> = new Set(FACT_OP_TYPES);
const referenceTypes: ReadonlySet<OpType> = new Set(REFERENCE_OP_TYPES);
const receiptTypes: ReadonlySet<OpType> = new Set(RECEIPT_OP_TYPES);

/**
 * True when `op` records a fact (applied once by id, never merged).
 *
 * @example
 * ```ts
 * if (isFactOp(op)) applyFact(op); else mergeFieldWrites(op);
 * ```
 */
export function isFactOp(op: Op): op is FactOp {
  return factTypes.has(op.type);
}

/** True when `op` edits a reference document (merged per field by HLC). */
export function isReferenceOp(op: Op): op is ReferenceOp {
  return referenceTypes.has(op.type);
}

/**
 * True when `op` prints a receipt and links into the register's receipt chain.
 *
 * @example
 * ```ts
 * if (isReceiptOp(op)) checkChain(op.deviceId, op.payload.prevHash);
 * ```
 */
export function isReceiptOp(op: Op): op is ReceiptOp {
  return receiptTypes.has(op.type);
}
