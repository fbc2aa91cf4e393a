/**
 * Ops that move stock outside a sale: adjustments, deliveries, counts and transfers between
 * stores. Quantities are thousandths (1 piece = 1000). Each op records a change, never a level,
 * so applying the ops of many registers in any order gives the same stock on hand.
 */
import { z } from 'zod';
import { SafeTextSchema } from '../order-schema.js';
import { CurrencySchema, IdSchema, NonNegativeMinorUnitsSchema, PositiveQtySchema, QtySchema } from '../wire-primitives.js';
import { opSchema } from './op-envelope.js';

/** Why stock was adjusted by hand. */
export const StockAdjustmentReasonSchema = z.enum(['damaged', 'lost', 'theft', 'found', 'correction', 'other']);

/** A product (and variant) and a positive quantity of it. */
export const StockLineSchema = z.strictObject({
  productId: IdSchema,
  variantId: IdSchema.optional(),
  qty: PositiveQtySchema,
});

/**
 * Payload of `stock.adjusted`: a signed change of one product's stock, with a reason. `other`
 * needs a note saying what happened.
 */
export const StockAdjustedPayloadSchema = z
  .strictObject({
    movementId: IdSchema,
    productId: IdSchema,
    variantId: IdSchema.optional(),
    /** Signed change in thousandths: −2000 when two pieces were damaged. */
    qtyDelta: QtySchema.refine((q) => q !== 0, { message: 'must not be zero' }),
    reason: StockAdjustmentReasonSchema,
    note: SafeTextSchema.optional(),
  })
  .refine((p) => p.reason !== 'other' || (p.note !== undefined && p.note.trim() !== ''), {
    message: 'a note is required when the reason is "other"',
    path: ['note'],
  });

/** Payload of `stock.received`: a delivery booked into stock. */
export const StockReceivedPayloadSchema = z.strictObject({
  movementId: IdSchema,
  /** The supplier, when the catalog knows it. */
  supplierId: IdSchema.optional(),
  /** The supplier's delivery note or invoice number. */
  supplierRef: z.string().trim().min(1).max(64).pipe(SafeTextSchema).optional(),
  /** Currency of the unit costs. */
  currency: CurrencySchema,
  lines: z
    .array(
      StockLineSchema.safeExtend({
        /** Cost per unit (1000 thousandths) in minor units, when known. */
        unitCost: NonNegativeMinorUnitsSchema.optional(),
      }),
    )
    .min(1)
    .max(500),
  note: SafeTextSchema.optional(),
});

/**
 * One counted line: what was on the shelf, and what the register believed was there when it was
 * counted. The stock change is `counted − expected`, so sales that reach the server after the
 * count still count: the count corrects the difference it saw, not the level.
 */
export const StockCountLineSchema = z.strictObject({
  productId: IdSchema,
  variantId: IdSchema.optional(),
  counted: z.int().min(0).max(1_000_000_000),
  /** Stock on hand as the register knew it at count time; may be negative after overselling. */
  expected: QtySchema,
});

/**
 * Payload of `stock.counted`: a stocktake of the listed products; products not listed are not
 * counted. A count larger than one op allows is sent as several ops with the same `countId`.
 */
export const StockCountedPayloadSchema = z.strictObject({
  countId: IdSchema,
  lines: z.array(StockCountLineSchema).min(1).max(1000),
  note: SafeTextSchema.optional(),
});

/**
 * Payload of `stock.transferred`: one side of a transfer between two stores. The sending store
 * records `out` (stock leaves it); the receiving store records `in` with what actually arrived.
 */
export const StockTransferredPayloadSchema = z
  .strictObject({
    transferId: IdSchema,
    direction: z.enum(['out', 'in']),
    fromStoreId: IdSchema,
    toStoreId: IdSchema,
    lines: z.array(StockLineSchema).min(1).max(500),
    note: SafeTextSchema.optional(),
  })
  .refine((p) => p.fromStoreId !== p.toStoreId, {
    message: 'a transfer goes between two different stores',
    path: ['toStoreId'],
  });

/** Stock adjusted by hand (a fact). */
export const StockAdjustedOpSchema = opSchema('stock.adjusted', StockAdjustedPayloadSchema);
/** A delivery received (a fact). */
export const StockReceivedOpSchema = opSchema('stock.received', StockReceivedPayloadSchema);
/** A stocktake (a fact). */
export const StockCountedOpSchema = opSchema('stock.counted', StockCountedPayloadSchema);
/** One side of a transfer between stores (a fact). */
export const StockTransferredOpSchema = opSchema('stock.transferred', StockTransferredPayloadSchema);
