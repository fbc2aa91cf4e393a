/**
 * Ops that move a balance the shop owes or grants: gift cards, store credit and loyalty points.
 * Each records a positive amount; the op type says the direction. Balances are sums of these
 * ops alone: when one pays for a sale, the sale's tender is the sale's view of the same money,
 * linked by `orderId`, and is never added to the balance a second time. A balance pushed below
 * zero by offline registers becomes an alert, never a rejection.
 */
import { z } from 'zod';
import { SafeTextSchema } from '../order-schema.js';
import { CurrencySchema, IdSchema } from '../wire-primitives.js';
import { opSchema } from './op-envelope.js';
import { PositiveMinorUnitsSchema, ReasonSchema } from './op-fields.js';

/** A gift card's code as printed or encoded on it; never something that looks like a card number. */
export const GiftCardCodeSchema = z
  .string()
  .regex(/^[A-Za-z0-9-]{4,64}$/, '4–64 letters, digits or dashes')
  .pipe(SafeTextSchema);

/** Loyalty points moved at once: a positive integer. */
export const LoyaltyPointsSchema = z.int().min(1).max(1_000_000_000);

/**
 * Payload of `gift_card.issued`, `gift_card.reloaded` and `gift_card.redeemed`: money put on or
 * taken off a gift card, and the sale, refund or exchange it belongs to.
 */
export const GiftCardMovementPayloadSchema = z.strictObject({
  giftCardId: IdSchema,
  code: GiftCardCodeSchema,
  currency: CurrencySchema,
  amount: PositiveMinorUnitsSchema,
  /** The sale, refund or exchange this movement is part of. */
  orderId: IdSchema.optional(),
});

const orderOrReason = {
  check: (p: { orderId?: string | undefined; reason?: string | undefined }) => p.orderId !== undefined || p.reason !== undefined,
  message: 'names the order it belongs to or a reason',
} as const;

/** Payload of `store_credit.issued`: credit the shop owes a customer, from an order or for a reason. */
export const StoreCreditIssuedPayloadSchema = z
  .strictObject({
    customerId: IdSchema,
    currency: CurrencySchema,
    amount: PositiveMinorUnitsSchema,
    orderId: IdSchema.optional(),
    reason: ReasonSchema.optional(),
  })
  .refine(orderOrReason.check, { message: orderOrReason.message, path: ['reason'] });

/** Payload of `store_credit.redeemed`: credit spent, on an order or for a reason (e.g. paid out). */
export const StoreCreditRedeemedPayloadSchema = StoreCreditIssuedPayloadSchema;

/** Payload of `loyalty.accrued` and `loyalty.redeemed`: points earned or spent. */
export const LoyaltyMovementPayloadSchema = z
  .strictObject({
    customerId: IdSchema,
    points: LoyaltyPointsSchema,
    orderId: IdSchema.optional(),
    reason: ReasonSchema.optional(),
  })
  .refine(orderOrReason.check, { message: orderOrReason.message, path: ['reason'] });

/** A gift card sold or given (a fact). */
export const GiftCardIssuedOpSchema = opSchema('gift_card.issued', GiftCardMovementPayloadSchema);
/** Money added to an existing gift card (a fact). */
export const GiftCardReloadedOpSchema = opSchema('gift_card.reloaded', GiftCardMovementPayloadSchema);
/** Money taken off a gift card (a fact). */
export const GiftCardRedeemedOpSchema = opSchema('gift_card.redeemed', GiftCardMovementPayloadSchema);
/** Store credit granted to a customer (a fact). */
export const StoreCreditIssuedOpSchema = opSchema('store_credit.issued', StoreCreditIssuedPayloadSchema);
/** Store credit spent (a fact). */
export const StoreCreditRedeemedOpSchema = opSchema('store_credit.redeemed', StoreCreditRedeemedPayloadSchema);
/** Loyalty points earned (a fact). */
export const LoyaltyAccruedOpSchema = opSchema('loyalty.accrued', LoyaltyMovementPayloadSchema);
/** Loyalty points spent (a fact). */
export const LoyaltyRedeemedOpSchema = opSchema('loyalty.redeemed', LoyaltyMovementPayloadSchema);
