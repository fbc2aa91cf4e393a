/**
 * What the back office is shown of catalog rows: the typed row's columns, the per-field HLCs an
 * edit sends back (`fieldHlc`), and for products their barcodes and whether the merge doc says
 * `deleted`. One zod schema per view, used for the OpenAPI document and to check every answer.
 */
import { docValues, ReferenceDocSchema } from '@kassa/core';
import type { Kysely, Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import type { CategoriesTable, Database, ProductsTable, TaxRatesTable } from '../db/schema.js';
import { FieldHlcSchema } from './catalog-fields.js';

type Db = Kysely<Database> | Transaction<Database>;

/** A product as listed and returned by the back office. */
export const ProductViewSchema = z
  .object({
    id: z.string(),
    sku: z.string(),
    name: z.string(),
    price: z.int().describe('minor units of `currency`; per kg when `weighed`'),
    currency: z.string(),
    categoryId: z.string().nullable(),
    taxRateIds: z.array(z.string()),
    weighed: z.boolean(),
    unit: z.enum(['piece', 'kg']),
    active: z.boolean(),
    deleted: z.boolean().describe('deleted (kept inactive for history; its barcodes are free again)'),
    barcodes: z.array(z.string()).describe('normalised GTINs'),
    fieldHlc: FieldHlcSchema,
    createdAt: z.int(),
    updatedAt: z.int(),
  })
  .meta({ id: 'Product' });

/** A product view. */
export type ProductView = z.infer<typeof ProductViewSchema>;

/** A category view. */
export const CategoryViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    parentId: z.string().nullable(),
    sortOrder: z.int(),
    fieldHlc: FieldHlcSchema,
    createdAt: z.int(),
    updatedAt: z.int(),
  })
  .meta({ id: 'Category' });

/** A tax rate view. */
export const TaxRateViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    ratePpm: z.int(),
    fieldHlc: FieldHlcSchema,
    createdAt: z.int(),
    updatedAt: z.int(),
  })
  .meta({ id: 'TaxRate' });

const HlcMapSchema = z.record(z.string(), z.string());
const IdListSchema = z.array(z.string());

/**
 * Views of product rows, in the rows' order: barcodes and merge docs are read in one query each.
 *
 * @example
 * ```ts
 * const [view] = await productViews(db, orgId, [row]);
 * ```
 */
export async function productViews(db: Db, orgId: string, rows: readonly Selectable<ProductsTable>[]): Promise<ProductView[]> {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const codes = await db.selectFrom('barcodes').select(['product_id', 'code']).where('org_id', '=', orgId).where('product_id', 'in', ids).orderBy('code').execute();
  const byProduct = new Map<string, string[]>();
  for (const c of codes) byProduct.set(c.product_id, [...(byProduct.get(c.product_id) ?? []), c.code]);
  const docs = await db
    .selectFrom('reference_docs')
    .select(['doc_id', 'doc_json'])
    .where('org_id', '=', orgId)
    .where('doc_type', '=', 'product')
    .where('doc_id', 'in', ids)
    .execute();
  const deleted = new Set(docs.filter((d) => docValues(ReferenceDocSchema.parse(JSON.parse(d.doc_json))).deleted === true).map((d) => d.doc_id));
  return rows.map((r) => ({
    id: r.id,
    sku: r.sku,
    name: r.name,
    price: r.price_minor,
    currency: r.currency,
    categoryId: r.category_id,
    taxRateIds: IdListSchema.parse(JSON.parse(r.tax_rate_ids_json)),
    weighed: r.weighed === 1,
    unit: r.unit,
    active: r.active === 1,
    deleted: deleted.has(r.id),
    barcodes: byProduct.get(r.id) ?? [],
    fieldHlc: HlcMapSchema.parse(JSON.parse(r.field_hlc_json)),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}

/** The view of a category row. */
export function categoryView(r: Selectable<CategoriesTable>): z.infer<typeof CategoryViewSchema> {
  return {
    id: r.id,
    name: r.name,
    parentId: r.parent_id,
    sortOrder: r.sort_order,
    fieldHlc: HlcMapSchema.parse(JSON.parse(r.field_hlc_json)),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The view of a tax rate row. */
export function taxRateView(r: Selectable<TaxRatesTable>): z.infer<typeof TaxRateViewSchema> {
  return { id: r.id, name: r.name, ratePpm: r.rate_ppm, fieldHlc: HlcMapSchema.parse(JSON.parse(r.field_hlc_json)), createdAt: r.created_at, updatedAt: r.updated_at };
}
