/**
 * The shape of a completed sale, its lines and tenders, and of a refund: what a register records
 * when the cashier hears "done", what the op carries to the server, and what every report sums.
 *
 * Amounts inside an order are integer minor units of the order's `currency`; quantities are
 * thousandths. Every line keeps the price, tax and discount it was sold with (a snapshot), so a
 * later price change never rewrites history and a refund computes from what was paid.
 *
 * Sign conventions: all amounts in a sale are ≥ 0 except `cashRounding`, which is the signed
 * adjustment applied to a cash payment (e.g. −2 when CHF 12.32 is paid as 12.30).
 */
import { z } from 'zod';
import { containsCardNumber } from './card-number.js';
import { ReceiptNoSchema } from './receipt-number.js';
import {
  CurrencySchema,
  IdSchema,
  LabelSchema,
  MinorUnitsSchema,
  NonNegativeMinorUnitsSchema,
  PositiveQtySchema,
  PpmSchema,
} from './wire-primitives.js';

/** Free text that must never hold a card number (notes, reasons, references). */
export const SafeTextSchema = z
  .string()
  .max(500)
  .refine((s) => !containsCardNumber(s), { message: 'must not contain a card number' });

/** A tax rate as it applied to a line when it was sold. */
export const TaxRateSnapshotSchema = z.strictObject({
  rateId: z.string().min(1).max(64),
  name: z.string().min(1).max(100),
  ratePpm: PpmSchema,
});

/** A discount as the cashier entered it: a percentage (in ppm) or a fixed amount. */
export const DiscountSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('percent'),
    ppm: PpmSchema,
    reason: SafeTextSchema.optional(),
    /** The manager who approved a discount above the cashier's limit. */
    approvedBy: IdSchema.optional(),
  }),
  z.strictObject({
    kind: z.literal('amount'),
    amount: NonNegativeMinorUnitsSchema,
    reason: SafeTextSchema.optional(),
    approvedBy: IdSchema.optional(),
  }),
]);

/** A price typed over the catalog price, with why and who approved it. */
export const PriceOverrideSchema = z.strictObject({
  originalUnitPrice: NonNegativeMinorUnitsSchema,
  reason: LabelSchema,
  approvedBy: IdSchema.optional(),
});

/** The tax of one rate on one line (or summed over an order). */
export const TaxAmountSchema = z.strictObject({ rateId: z.string().min(1).max(64), amount: MinorUnitsSchema });

/**
 * One line of a completed sale.
 *
 * `unitPrice` is in the store's price mode (tax-inclusive when `pricesIncludeTax`). `gross` is
 * unitPrice × qty; `net` is gross less both discounts, still in the price mode; `tax` is the tax
 * per rate contained in (inclusive) or added to (exclusive) `net`; `total` is what the customer
 * pays for the line including tax.
 */
export const SaleLineSchema = z.strictObject({
  lineId: IdSchema,
  productId: IdSchema,
  variantId: IdSchema.optional(),
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  unitPrice: NonNegativeMinorUnitsSchema,
  qty: PositiveQtySchema,
  taxes: z.array(TaxRateSnapshotSchema).max(8),
  discount: DiscountSchema.optional(),
  priceOverride: PriceOverrideSchema.optional(),
  gross: NonNegativeMinorUnitsSchema,
  lineDiscount: NonNegativeMinorUnitsSchema,
  orderDiscount: NonNegativeMinorUnitsSchema,
  net: NonNegativeMinorUnitsSchema,
  tax: z.array(TaxAmountSchema).max(8),
  total: NonNegativeMinorUnitsSchema,
});

const cardNumberFree = (field: string) =>
  z
    .string()
    .max(64)
    .refine((s) => !containsCardNumber(s), { message: `${field} must not contain a card number` });

/**
 * A payment reference sealed to the server's key (a `k1.` envelope, docs/adr/0032): registers
 * seal a card tender's approval code and provider reference before they store or send them. A
 * sealed reference holds no card number in clear by construction (base64url only).
 */
export const SealedReferenceSchema = z.string().max(1024).regex(/^k1\.[A-Za-z0-9_-]{100,}$/, 'a k1 sealed envelope');

/** A card tender's payment reference: in clear (≤ 64 characters, no card number) or sealed. */
const paymentReference = (field: string) => z.union([SealedReferenceSchema, cardNumberFree(field)]);

/** How a sale was paid; several tenders make a split payment. */
export const TenderSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    tenderId: IdSchema,
    kind: z.literal('cash'),
    /** What the cash paid towards the sale (after cash rounding). */
    amount: NonNegativeMinorUnitsSchema,
    /** What the customer handed over; change = given − amount. */
    given: NonNegativeMinorUnitsSchema,
  }),
  z.strictObject({
    tenderId: IdSchema,
    kind: z.literal('card'),
    amount: NonNegativeMinorUnitsSchema,
    brand: z.string().min(1).max(32),
    last4: z.string().regex(/^\d{4}$/, 'four digits'),
    approvalCode: paymentReference('approvalCode'),
    providerRef: paymentReference('providerRef'),
  }),
  z.strictObject({
    tenderId: IdSchema,
    kind: z.literal('gift_card'),
    amount: NonNegativeMinorUnitsSchema,
    giftCardCode: cardNumberFree('giftCardCode'),
  }),
  z.strictObject({
    tenderId: IdSchema,
    kind: z.literal('store_credit'),
    amount: NonNegativeMinorUnitsSchema,
    customerId: IdSchema,
  }),
  z.strictObject({
    tenderId: IdSchema,
    kind: z.literal('other'),
    amount: NonNegativeMinorUnitsSchema,
    label: LabelSchema.pipe(SafeTextSchema),
  }),
]);

/** A tax summary row for the receipt: per rate, the net, the tax and the gross. */
export const TaxSummaryRowSchema = z.strictObject({
  rateId: z.string().min(1).max(64),
  name: z.string().min(1).max(100),
  ratePpm: PpmSchema,
  net: MinorUnitsSchema,
  tax: MinorUnitsSchema,
  gross: MinorUnitsSchema,
});

/** Whether tax is rounded on every line or once per rate over the order. */
export const TaxRoundingSchema = z.enum(['line', 'order']);

/** A completed sale: the payload of a `sale.completed` op. */
export const CompletedSaleSchema = z.strictObject({
  orderId: IdSchema,
  receiptNo: ReceiptNoSchema,
  currency: CurrencySchema,
  pricesIncludeTax: z.boolean(),
  taxRounding: TaxRoundingSchema,
  lines: z.array(SaleLineSchema).min(1).max(500),
  orderDiscount: DiscountSchema.optional(),
  /** Σ line gross. */
  subtotal: NonNegativeMinorUnitsSchema,
  /** Σ line and order discounts. */
  discountTotal: NonNegativeMinorUnitsSchema,
  /** Σ tax over the summary. */
  taxTotal: NonNegativeMinorUnitsSchema,
  /** What is owed including tax, before cash rounding. */
  total: NonNegativeMinorUnitsSchema,
  taxSummary: z.array(TaxSummaryRowSchema).max(16),
  /** Signed adjustment from rounding the cash part to the smallest coin. */
  cashRounding: MinorUnitsSchema,
  tenders: z.array(TenderSchema).min(1).max(20),
  /** Cash handed back. */
  change: NonNegativeMinorUnitsSchema,
  customerId: IdSchema.optional(),
  note: SafeTextSchema.optional(),
});

/** One refunded line: which sale line, how much of it, and the amounts taken from that line. */
export const RefundLineSchema = z.strictObject({
  /** The sale line refunded; for a refund without receipt, the refund line's own id. */
  saleLineId: IdSchema,
  productId: IdSchema,
  variantId: IdSchema.optional(),
  qty: PositiveQtySchema,
  /** Net (price mode) returned for this quantity: its share of what was paid, not today's price. */
  net: NonNegativeMinorUnitsSchema,
  tax: z.array(TaxAmountSchema).max(8),
  /** What the customer gets back for the line including tax. */
  total: NonNegativeMinorUnitsSchema,
  /** Whether the goods go back to stock (false for damaged goods). */
  restock: z.boolean(),
});

/** How money goes back to the customer. Same shapes as tenders; `given` on cash is not used. */
export const RefundTenderSchema = TenderSchema;

/** A completed refund: the payload of a `refund.completed` op. */
export const CompletedRefundSchema = z.strictObject({
  refundId: IdSchema,
  receiptNo: ReceiptNoSchema,
  /** The sale refunded; absent for a refund without receipt. */
  originalOrderId: IdSchema.optional(),
  currency: CurrencySchema,
  lines: z.array(RefundLineSchema).min(1).max(500),
  taxTotal: NonNegativeMinorUnitsSchema,
  total: NonNegativeMinorUnitsSchema,
  cashRounding: MinorUnitsSchema,
  tenders: z.array(TenderSchema).min(1).max(20),
  reason: LabelSchema.pipe(SafeTextSchema),
  customerId: IdSchema.optional(),
});

/** A completed sale as TypeScript sees it. */
export type CompletedSale = z.infer<typeof CompletedSaleSchema>;
/** One line of a completed sale. */
export type SaleLine = z.infer<typeof SaleLineSchema>;
/** One tender of a sale or refund. */
export type Tender = z.infer<typeof TenderSchema>;
/** A discount as entered. */
export type Discount = z.infer<typeof DiscountSchema>;
/** A tax-rate snapshot on a line. */
export type TaxRateSnapshot = z.infer<typeof TaxRateSnapshotSchema>;
/** One row of a receipt's tax summary. */
export type TaxSummaryRow = z.infer<typeof TaxSummaryRowSchema>;
/** A completed refund. */
export type CompletedRefund = z.infer<typeof CompletedRefundSchema>;
/** One refunded line. */
export type RefundLine = z.infer<typeof RefundLineSchema>;
/** `line` or `order`. */
export type TaxRounding = z.infer<typeof TaxRoundingSchema>;

/**
 * A completed exchange, recorded as one op: goods come back (a refund part) and other goods go
 * out (a sale part), settled by the difference. `balance` = sale.total − refund.total: positive,
 * the customer pays it through `tenders`; negative, the shop pays it back through `tenders`;
 * zero, `tenders` is empty. `cashRounding` is measured against |balance|: the signed adjustment of
 * the cash that settles it.
 */
export const CompletedExchangeSchema = z.strictObject({
  exchangeId: IdSchema,
  receiptNo: ReceiptNoSchema,
  currency: CurrencySchema,
  refund: CompletedRefundSchema.omit({ receiptNo: true, tenders: true, cashRounding: true, currency: true }),
  sale: CompletedSaleSchema.omit({ receiptNo: true, tenders: true, cashRounding: true, change: true, currency: true }),
  balance: MinorUnitsSchema,
  cashRounding: MinorUnitsSchema,
  tenders: z.array(TenderSchema).max(20),
  change: NonNegativeMinorUnitsSchema,
});

/** A completed exchange. */
export type CompletedExchange = z.infer<typeof CompletedExchangeSchema>;
