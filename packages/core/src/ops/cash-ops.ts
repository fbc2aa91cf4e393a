/**
 * Ops about the cash drawer and the shift it belongs to: opening float, pay-ins and pay-outs,
 * no-sale openings, and the closing count with its Z report.
 *
 * Schemas check shape and bounds, not arithmetic: a count whose total disagrees with its
 * denominations still happened, and the shift logic raises an alert for it instead of the server
 * quarantining the fact.
 */
import { z } from 'zod';
import { TaxSummaryRowSchema } from '../order-schema.js';
import {
  CurrencySchema,
  IdSchema,
  MinorUnitsSchema,
  NonNegativeMinorUnitsSchema,
} from '../wire-primitives.js';
import { opSchema } from './op-envelope.js';
import { ReceiptHashSchema } from '../receipt-chain.js';
import { CountSchema, OpReceiptNoSchema, PositiveMinorUnitsSchema, ReasonSchema } from './op-fields.js';

/** How many coins or notes of one face value were counted. */
export const DenominationCountSchema = z.strictObject({
  /** Face value in minor units: 5 for a 5-cent coin, 2000 for a 20-euro note. */
  denomination: PositiveMinorUnitsSchema,
  count: z.int().min(0).max(1_000_000),
});

/**
 * A cash count: by denomination when the cashier counted that way (empty when only the total was
 * entered) and the counted total.
 */
export const CashCountSchema = z.strictObject({
  denominations: z.array(DenominationCountSchema).max(40),
  total: NonNegativeMinorUnitsSchema,
});

/** The kinds of tender, as in `TenderSchema`. */
export const TenderKindSchema = z.enum(['cash', 'card', 'gift_card', 'store_credit', 'other']);

/**
 * The totals a Z report prints for a shift. Sales, refunds and voids are positive sums of their
 * receipts' totals including tax; the tax summary and tender amounts are net of refunds and voids,
 * so they may be negative.
 */
export const ZReportTotalsSchema = z.strictObject({
  saleCount: CountSchema,
  salesTotal: NonNegativeMinorUnitsSchema,
  refundCount: CountSchema,
  refundsTotal: NonNegativeMinorUnitsSchema,
  voidCount: CountSchema,
  voidsTotal: NonNegativeMinorUnitsSchema,
  exchangeCount: CountSchema,
  /** Σ exchange balances: positive when customers paid in on balance. */
  exchangesBalance: MinorUnitsSchema,
  discountTotal: NonNegativeMinorUnitsSchema,
  taxSummary: z.array(TaxSummaryRowSchema).max(16),
  /** Net takings per tender kind. */
  tenders: z.array(z.strictObject({ kind: TenderKindSchema, amount: MinorUnitsSchema })).max(10),
  cashIn: NonNegativeMinorUnitsSchema,
  cashOut: NonNegativeMinorUnitsSchema,
  /** How often the drawer was opened without a sale. */
  noSaleCount: CountSchema,
});

/** Payload of `cash.moved`: cash put into (`in`) or taken out of (`out`) the drawer outside a sale. */
export const CashMovedPayloadSchema = z.strictObject({
  shiftId: IdSchema,
  direction: z.enum(['in', 'out']),
  currency: CurrencySchema,
  amount: PositiveMinorUnitsSchema,
  reason: ReasonSchema,
});

/** Payload of `shift.opened`: the float counted into the drawer. */
export const ShiftOpenedPayloadSchema = z.strictObject({
  shiftId: IdSchema,
  currency: CurrencySchema,
  float: CashCountSchema,
});

/**
 * Payload of `shift.closed`: the closing count, what the register expected, the difference, and
 * the Z report, which is a receipt in the register's chain.
 */
export const ShiftClosedPayloadSchema = z.strictObject({
  shiftId: IdSchema,
  currency: CurrencySchema,
  counted: CashCountSchema,
  /** Cash the drawer should hold: float + cash takings − cash refunds + cash in − cash out. */
  expected: MinorUnitsSchema,
  /** counted.total − expected: negative when cash is missing. */
  variance: MinorUnitsSchema,
  /** The Z report's receipt number. */
  receiptNo: OpReceiptNoSchema,
  /** `receiptHash` of the register's previous receipt op (see `receipt-chain.ts`). */
  prevHash: ReceiptHashSchema,
  totals: ZReportTotalsSchema,
});

/** Payload of `drawer.opened`: a no-sale opening of the drawer, and why. */
export const DrawerOpenedPayloadSchema = z.strictObject({
  shiftId: IdSchema,
  reason: ReasonSchema,
});

/** Cash paid into or out of the drawer (a fact). */
export const CashMovedOpSchema = opSchema('cash.moved', CashMovedPayloadSchema);
/** A shift opened with its float (a fact). */
export const ShiftOpenedOpSchema = opSchema('shift.opened', ShiftOpenedPayloadSchema);
/** A shift closed with its count and Z report (a fact, prints a receipt). */
export const ShiftClosedOpSchema = opSchema('shift.closed', ShiftClosedPayloadSchema);
/** The drawer opened without a sale (a fact). */
export const DrawerOpenedOpSchema = opSchema('drawer.opened', DrawerOpenedPayloadSchema);
