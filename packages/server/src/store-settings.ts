import { CurrencySchema, StoreLimitsSchema, TaxRoundingSchema } from '@kassa/core';
import { z } from 'zod';

/**
 * How the store's scales print variable-measure EAN-13s. The same shape as core's
 * `VariableMeasureLayoutSchema` (docs/adr/0009-barcodes.md); the server checks only the shape here
 * and will use core's schema once that module is declared stable.
 */
const VariableMeasureLayoutShape = z.strictObject({
  kind: z.enum(['weight', 'price']),
  currency: CurrencySchema.optional(),
  prefixes: z.array(z.string().regex(/^(2|02|04)\d{0,3}$/)).min(1),
  itemDigits: z.int().min(1).max(10),
  valueDigits: z.int().min(1).max(10),
  valueDecimals: z.int().min(0).max(10),
  hasPriceCheckDigit: z.boolean(),
});

/**
 * A store's settings, kept as JSON in `stores.settings_json` and validated on every read.
 * Currency and locale are also columns of their own (they are queried); they are repeated here
 * so a register gets every setting in one document.
 */
export const StoreSettingsSchema = z.strictObject({
  currency: CurrencySchema,
  /** BCP 47 tag, e.g. `de-DE`: number, date and receipt formatting. */
  locale: z.string().min(2).max(35),
  /** `inclusive`: shelf prices include tax (EU retail); `exclusive`: tax is added at the till (US). */
  taxMode: z.enum(['inclusive', 'exclusive']),
  /** Smallest cash step for rounding the total paid in cash, in minor units; null for none. */
  cashRoundingMinor: z.int().min(1).max(100).nullable(),
  /** Lines printed at the top of each receipt. */
  receiptHeader: z.array(z.string().max(80)).max(8),
  /** Scale-label layouts; the demo store's weighed items use `21 IIIII WWWWW C` (grams). */
  variableMeasureLayouts: z.array(VariableMeasureLayoutShape).max(10),
  /** Tax rounding per `line` or per `order` (core's `TaxRoundingSchema`); registers assume `line` when absent. */
  taxRounding: TaxRoundingSchema.optional(),
  /** Discount and refund limits of the permission check (core's `StoreLimits`); core's defaults when absent. */
  limits: StoreLimitsSchema.optional(),
});

/** The parsed settings of a store. */
export type StoreSettings = z.infer<typeof StoreSettingsSchema>;

/** Reads `settings_json` back, failing loudly on a row that does not match the schema. */
export function parseStoreSettings(json: string): StoreSettings {
  return StoreSettingsSchema.parse(JSON.parse(json));
}
