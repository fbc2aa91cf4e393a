/**
 * Small field schemas several op payloads share: receipt numbers, reasons, strictly positive
 * amounts and counts.
 */
import { z } from 'zod';
import { CompletedSaleSchema, SafeTextSchema } from '../order-schema.js';
import { LabelSchema } from '../wire-primitives.js';

/**
 * The `receiptNo` of a receipt-carrying op that is not a sale: the same rule as a sale's, so every
 * receipt in a register's chain is read alike. Its format (`S01-R02-000123`) is checked by the
 * receipt-chain verifier, which raises an alert, rather than here: a sale with a malformed number
 * still happened and must not be quarantined for it.
 */
export const OpReceiptNoSchema = CompletedSaleSchema.shape.receiptNo;

/** Why someone did something, as typed at the till: trimmed, 1–200 characters, never a card number. */
export const ReasonSchema = LabelSchema.pipe(SafeTextSchema);

/** A strictly positive amount of minor units: movements carry their direction in the op type. */
export const PositiveMinorUnitsSchema = z.int().min(1).max(Number.MAX_SAFE_INTEGER);

/** A count of things (receipts, coins, points): a non-negative safe integer. */
export const CountSchema = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
