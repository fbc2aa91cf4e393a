/**
 * Ops that record money changing hands over goods: a sale, its void, a refund and an exchange.
 * Each prints a receipt, so each carries its receipt number and `prevHash`: the `receiptHash` of
 * the register's previous receipt op, or `GENESIS_HASH` for its first (see `receipt-chain.ts`).
 */
import { z } from 'zod';
import {
  CompletedExchangeSchema,
  CompletedRefundSchema,
  CompletedSaleSchema,
  TaxSummaryRowSchema,
  TenderSchema,
} from '../order-schema.js';
import { CurrencySchema, IdSchema, MinorUnitsSchema, NonNegativeMinorUnitsSchema } from '../wire-primitives.js';
import { opSchema } from './op-envelope.js';
import { ReceiptHashSchema } from '../receipt-chain.js';
import { OpReceiptNoSchema, ReasonSchema } from './op-fields.js';

// `safeExtend` rather than `extend`: it keeps working if the order schemas gain refinements.

/** Payload of `sale.completed`: the completed sale and its receipt-chain link. */
export const SaleCompletedPayloadSchema = CompletedSaleSchema.safeExtend({ prevHash: ReceiptHashSchema });

/**
 * Payload of `sale.voided`: a completed sale cancelled as a whole (goods back, money back the way
 * it came). The void is a receipt of its own; the amounts are what was reversed, as positive
 * numbers, so reports subtract them without looking the sale up.
 */
export const SaleVoidedPayloadSchema = z.strictObject({
  /** The sale voided. */
  orderId: IdSchema,
  /** The voided sale's receipt number, printed on the void. */
  originalReceiptNo: OpReceiptNoSchema,
  /** The void's own receipt number. */
  receiptNo: OpReceiptNoSchema,
  prevHash: ReceiptHashSchema,
  reason: ReasonSchema,
  currency: CurrencySchema,
  /** What the sale's total was, including tax: the amount reversed. */
  total: NonNegativeMinorUnitsSchema,
  taxTotal: NonNegativeMinorUnitsSchema,
  /** The sale's tax summary, reversed per rate. */
  taxSummary: z.array(TaxSummaryRowSchema).max(16),
  /** The signed cash-rounding adjustment of the sale, reversed with it. */
  cashRounding: MinorUnitsSchema,
  /** How the money went back: the sale's tenders reversed (`given` on cash is not used). */
  tenders: z.array(TenderSchema).min(1).max(20),
});

/** Payload of `refund.completed`: the completed refund and its receipt-chain link. */
export const RefundCompletedPayloadSchema = CompletedRefundSchema.safeExtend({ prevHash: ReceiptHashSchema });

/**
 * Payload of `exchange.completed`: goods back and other goods out, settled by the difference, as
 * ONE op, so a register that goes offline in the middle never records half an exchange.
 */
export const ExchangeCompletedPayloadSchema = CompletedExchangeSchema.safeExtend({ prevHash: ReceiptHashSchema });

/** A sale completed at the till (a fact, prints a receipt). */
export const SaleCompletedOpSchema = opSchema('sale.completed', SaleCompletedPayloadSchema);
/** A completed sale voided as a whole (a fact, prints a receipt). */
export const SaleVoidedOpSchema = opSchema('sale.voided', SaleVoidedPayloadSchema);
/** A refund, with or without the original receipt (a fact, prints a receipt). */
export const RefundCompletedOpSchema = opSchema('refund.completed', RefundCompletedPayloadSchema);
/** An exchange (a fact, prints a receipt). */
export const ExchangeCompletedOpSchema = opSchema('exchange.completed', ExchangeCompletedPayloadSchema);
