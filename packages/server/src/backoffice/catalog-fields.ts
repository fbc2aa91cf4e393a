/**
 * The fields of the catalog docs the back office edits, as zod schemas. The API speaks the merge
 * doc's own field names (`price`, `taxRateIds`, …), so a field of a request, of `fieldHlc` and of a
 * conflict are one name; `sync/apply/reference-projection.ts` maps them onto the typed tables.
 *
 * | doc | fields |
 * |---|---|
 * | product | `name`, `sku`, `price` (minor units; per kg when weighed), `currency`, `categoryId`, `taxRateIds`, `weighed`, `unit`, `active`, `barcodes`, `deleted` |
 * | category | `name`, `parentId`, `sortOrder`, `deleted` |
 * | tax_rate | `name`, `ratePpm` (19 % = 190000), `deleted` |
 * | variant | `productId`, `sku`, `name`, `price` (null: the product's), `active`, `deleted` — a merge doc only, no table |
 */
import { CurrencySchema, HlcStringSchema, normalizeGtin } from '@kassa/core';
import { z } from 'zod';
import { plainText } from '../auth/plain-text.js';

/** Catalog doc types the back office edits through its own routes. */
export type CatalogDocType = 'product' | 'category' | 'tax_rate' | 'variant';

/**
 * A barcode as printed (8, 12, 13 or 14 digits) with a valid GS1 check digit, stored as core's
 * normalised GTIN (`normalizeGtin`: 13 digits, or 14 with an indicator), which is what a register
 * looks a scan up by. A variable-measure template (`21 IIIII 00000 C`) is an EAN-13 like any other.
 */
export const BarcodeSchema = z
  .string()
  .regex(/^(\d{8}|\d{12,14})$/, 'a barcode is 8, 12, 13 or 14 digits')
  .superRefine((code, ctx) => {
    try {
      normalizeGtin(code);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : 'not a valid GTIN' });
    }
  })
  .transform((code) => normalizeGtin(code))
  .describe('EAN-13, EAN-8, UPC-A, UPC-E or GTIN-14 with a valid check digit; stored normalised');

const uniqueList = <T extends z.ZodType<string>>(item: T, max: number, what: string) =>
  z
    .array(item)
    .max(max)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [i], message: `${what} ${v} is listed twice` });
        seen.add(v);
      });
    });

/** Product fields, each as the API and the merge doc take it. */
export const ProductFieldSchemas = {
  name: plainText(1, 200),
  sku: plainText(1, 64),
  price: z.int().min(0).max(Number.MAX_SAFE_INTEGER).describe('in minor units of `currency`; per kg when `weighed`'),
  currency: CurrencySchema,
  categoryId: z.uuid().nullable(),
  taxRateIds: uniqueList(z.uuid(), 8, 'tax rate'),
  weighed: z.boolean().describe('sold by weight from a scale'),
  unit: z.enum(['piece', 'kg']),
  active: z.boolean(),
  barcodes: uniqueList(BarcodeSchema, 20, 'barcode'),
  deleted: z.boolean(),
} as const;

/** Category fields. */
export const CategoryFieldSchemas = {
  name: plainText(1, 200),
  parentId: z.uuid().nullable(),
  sortOrder: z.int().min(-1_000_000).max(1_000_000),
  deleted: z.boolean(),
} as const;

/** Tax rate fields. */
export const TaxRateFieldSchemas = {
  name: plainText(1, 200),
  ratePpm: z.int().min(0).max(1_000_000).describe('parts per million: 19 % is 190000'),
  deleted: z.boolean(),
} as const;

/** Variant fields (a size or colour of a product; its own price overrides the product's). */
export const VariantFieldSchemas = {
  productId: z.uuid(),
  sku: plainText(1, 64),
  name: plainText(1, 200),
  price: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().describe('in minor units of the product’s currency; null: the product’s price'),
  active: z.boolean(),
  deleted: z.boolean(),
} as const;

/** The field schemas of each catalog doc type (conflict resolution validates a picked value with them). */
export const CATALOG_FIELDS: Readonly<Record<CatalogDocType, Readonly<Record<string, z.ZodType>>>> = {
  product: ProductFieldSchemas,
  category: CategoryFieldSchemas,
  tax_rate: TaxRateFieldSchemas,
  variant: VariantFieldSchemas,
};

/** Whether `docType` is edited by the catalog routes. */
export function isCatalogDocType(docType: string): docType is CatalogDocType {
  return Object.hasOwn(CATALOG_FIELDS, docType);
}

/** `fieldHlc` of an edit: the HLC of each field's value as the editor read it. */
export const SeenHlcsSchema = z
  .record(z.string().regex(/^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/), HlcStringSchema)
  .describe('the `fieldHlc` of the document as read before this edit; a field not listed is based on its current value (no conflict)');

/** The per-field HLCs of a doc as the API shows them. */
export const FieldHlcSchema = z.record(z.string(), z.string()).describe('HLC of each field’s current value: send it back as `fieldHlc` with an edit');
