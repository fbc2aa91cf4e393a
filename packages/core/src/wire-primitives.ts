/**
 * zod schemas of the small values every wire and storage shape is built from. One source of truth:
 * the register, the server and the OpenAPI document all use these.
 */
import { z } from 'zod';
import { isKnownCurrency } from './currency.js';

/** A UUID (Kassa makes v7 ids; ids made elsewhere, e.g. imported, may be any version). */
export const IdSchema = z.uuid();

/** An integer amount of minor units (may be negative where the field says so). */
export const MinorUnitsSchema = z.int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER);

/** A non-negative integer amount of minor units. */
export const NonNegativeMinorUnitsSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A quantity in thousandths of a unit (1 piece = 1000). */
export const QtySchema = z.int().min(-1_000_000_000).max(1_000_000_000);

/** A strictly positive quantity in thousandths. */
export const PositiveQtySchema = z.int().min(1).max(1_000_000_000);

/** A rate in parts per million: 19 % = 190 000, 8.875 % = 88 750. */
export const PpmSchema = z.int().min(0).max(1_000_000);

/** An ISO 4217 code Kassa knows. */
export const CurrencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'a three-letter ISO 4217 code')
  .refine(isKnownCurrency, { message: 'unknown currency' });

/** Money as `{ amount, currency }` on the wire. */
export const MoneySchema = z.strictObject({ amount: MinorUnitsSchema, currency: CurrencySchema });

/** Free text a person typed: trimmed length 1–200. */
export const LabelSchema = z.string().trim().min(1).max(200);
