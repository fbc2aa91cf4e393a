/**
 * The store's settings as the register keeps them (`settings` table, key `store`): the server's
 * store settings document plus the limits the permission check needs. Read back through zod.
 */
import {
  CurrencySchema,
  DEFAULT_STORE_LIMITS,
  StoreLimitsSchema,
  TaxRoundingSchema,
  VariableMeasureLayoutsSchema,
  type StoreSettings as CartSettings,
} from '@kassa/core';
import { z } from 'zod';
import { CorruptRowError, SettingsMissingError } from './errors.js';
import type { SqlDb } from './sql-db.js';

/**
 * The store settings a register works by. Unknown keys (locale, receipt header, …) are kept in the
 * stored JSON for the UI and the printer, and ignored here.
 */
export const RegisterSettingsSchema = z.object({
  currency: CurrencySchema,
  /** `inclusive`: shelf prices include tax; `exclusive`: tax is added at the till. */
  taxMode: z.enum(['inclusive', 'exclusive']),
  taxRounding: TaxRoundingSchema.default('line'),
  /** Smallest cash step in minor units, or null. */
  cashRoundingMinor: z.int().min(1).max(100).nullable().default(null),
  variableMeasureLayouts: VariableMeasureLayoutsSchema.default([]),
  limits: StoreLimitsSchema.default(DEFAULT_STORE_LIMITS),
});

/** The parsed settings; see {@link RegisterSettingsSchema}. */
export type RegisterSettings = z.infer<typeof RegisterSettingsSchema>;

/** The settings as written by the server or a test (defaults filled in on read). */
export type RegisterSettingsInput = z.input<typeof RegisterSettingsSchema> & Record<string, unknown>;

const KEY = 'store';

/** Stores the store settings (validated first). */
export function writeSettings(db: SqlDb, settings: RegisterSettingsInput): void {
  RegisterSettingsSchema.parse(settings);
  db.run('INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value_json = excluded.value_json', [
    KEY,
    JSON.stringify(settings),
  ]);
}

/** Reads the store settings. @throws SettingsMissingError before the first catalog sync. */
export function readSettings(db: SqlDb): RegisterSettings {
  const row = db.get<{ value_json: string }>('SELECT value_json FROM settings WHERE key = ?', [KEY]);
  if (row === undefined) throw new SettingsMissingError();
  const parsed = RegisterSettingsSchema.safeParse(JSON.parse(row.value_json));
  if (!parsed.success) throw new CorruptRowError('settings', parsed.error.message);
  return parsed.data;
}

/**
 * The settings a core `Cart` prices by.
 *
 * @example
 * ```ts
 * const cart = createCart(cartSettings(readSettings(db)));
 * ```
 */
export function cartSettings(s: RegisterSettings): CartSettings {
  return {
    currency: s.currency,
    pricesIncludeTax: s.taxMode === 'inclusive',
    taxRounding: s.taxRounding,
    cashRoundingIncrement: s.cashRoundingMinor,
    discountLimitPpm: s.limits.cashierDiscountLimitPpm,
  };
}
