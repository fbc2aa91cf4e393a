import { CurrencySchema } from '@kassa/core';
import { z } from 'zod';

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
});

/** The parsed settings of a store. */
export type StoreSettings = z.infer<typeof StoreSettingsSchema>;

/** Reads `settings_json` back, failing loudly on a row that does not match the schema. */
export function parseStoreSettings(json: string): StoreSettings {
  return StoreSettingsSchema.parse(JSON.parse(json));
}
