/**
 * Writers of the catalog and other reference rows the register receives from the server (a pulled
 * page, a snapshot) or a test seeds. Upserts by id, so applying a page twice changes nothing.
 * The FTS index follows by trigger (migration 0002).
 */
import { IdSchema, normalizeGtin, ReferenceDocSchema, RoleSchema, CurrencySchema, type ReferenceDoc } from '@kassa/core';
import { z } from 'zod';
import type { SqlDb } from './sql-db.js';

const EMPTY_DOC = '{"fields":{}}';

/** A tax rate. */
export const TaxRateInputSchema = z.strictObject({ id: z.string().min(1).max(64), name: z.string().min(1).max(100), ratePpm: z.int().min(0).max(1_000_000) });
/** A category. */
export const CategoryInputSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1),
  parentId: IdSchema.nullable().optional(),
  sortOrder: z.int().optional(),
});
/** A product with its current values and, when known, its merge state (field HLCs). */
export const ProductInputSchema = z.strictObject({
  id: IdSchema,
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  /** Minor units in the store's price mode; per kg when `weighed`. */
  unitPrice: z.int().min(0),
  currency: CurrencySchema,
  taxRateIds: z.array(z.string().min(1).max(64)).max(8).default([]),
  categoryId: IdSchema.nullable().optional(),
  unit: z.enum(['piece', 'kg']).default('piece'),
  weighed: z.boolean().default(false),
  active: z.boolean().default(true),
  doc: ReferenceDocSchema.optional(),
});
/** A variant of a product (size, colour); its own price overrides the product's. */
export const VariantInputSchema = z.strictObject({
  id: IdSchema,
  productId: IdSchema,
  sku: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  unitPrice: z.int().min(0).nullable().optional(),
  active: z.boolean().default(true),
});
/** A barcode of a product or variant, as printed; normalised on write. */
export const BarcodeInputSchema = z.strictObject({ code: z.string().regex(/^\d{8,14}$/), productId: IdSchema, variantId: IdSchema.optional() });
/** A staff member with the PIN verifier the register checks offline. */
export const StaffInputSchema = z.strictObject({
  id: IdSchema,
  name: z.string().min(1),
  role: RoleSchema,
  active: z.boolean().default(true),
  pin: z
    .strictObject({ kdf: z.string().min(1), iterations: z.int().min(600_000), salt: z.string().min(1), hash: z.string().min(1) })
    .optional(),
});
/** Stock on hand as the server knows it (thousandths). */
export const StockLevelInputSchema = z.strictObject({ productId: IdSchema, variantId: IdSchema.optional(), onHand: z.int() });

/** A batch of reference rows written in one transaction. */
export const CatalogBatchSchema = z.strictObject({
  taxRates: z.array(TaxRateInputSchema).optional(),
  categories: z.array(CategoryInputSchema).optional(),
  products: z.array(ProductInputSchema).optional(),
  variants: z.array(VariantInputSchema).optional(),
  barcodes: z.array(BarcodeInputSchema).optional(),
  staff: z.array(StaffInputSchema).optional(),
  stock: z.array(StockLevelInputSchema).optional(),
});

/** See {@link CatalogBatchSchema}. */
export type CatalogBatch = z.input<typeof CatalogBatchSchema>;
/** A product as written; see {@link ProductInputSchema}. */
export type ProductInput = z.input<typeof ProductInputSchema>;

function docJson(doc: ReferenceDoc | undefined): string {
  return doc === undefined ? EMPTY_DOC : JSON.stringify(doc);
}

/** A product's column values in the order of the products table's INSERTs below. */
function productColumns(p: z.output<typeof ProductInputSchema>): (string | number | null)[] {
  return [
    p.id,
    p.sku,
    p.name,
    p.unitPrice,
    p.currency,
    JSON.stringify(p.taxRateIds),
    p.categoryId ?? null,
    p.unit,
    p.weighed ? 1 : 0,
    p.active ? 1 : 0,
    docJson(p.doc),
  ];
}

/**
 * Writes a batch of reference rows (validated first). Call it inside a transaction; the engine's
 * `importCatalog` does.
 *
 * @throws MalformedBarcodeError / CheckDigitError (core) for a barcode that is not a GTIN.
 */
export function writeCatalog(db: SqlDb, input: CatalogBatch, now: number): void {
  writeCatalogRows(db, CatalogBatchSchema.parse(input), now);
}

/** Rows already validated by {@link CatalogBatchSchema}'s parts (defaults applied). */
export type CatalogRows = z.output<typeof CatalogBatchSchema>;

/**
 * Writes rows that were validated already (the sync engine's mapping parses every pulled row with
 * these schemas): the snapshot writes 100,000 products, and parsing each twice was much of its time.
 * Call it inside a transaction.
 */
export function writeCatalogRows(db: SqlDb, batch: CatalogRows, now: number): void {
  for (const t of batch.taxRates ?? []) {
    db.run(
      `INSERT INTO tax_rates (id, name, rate_ppm) VALUES (?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, rate_ppm = excluded.rate_ppm`,
      [t.id, t.name, t.ratePpm],
    );
  }
  for (const c of batch.categories ?? []) {
    db.run(
      `INSERT INTO categories (id, name, parent_id, sort_order) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, parent_id = excluded.parent_id, sort_order = excluded.sort_order`,
      [c.id, c.name, c.parentId ?? null, c.sortOrder ?? 0],
    );
  }
  for (const p of batch.products ?? []) {
    db.run(
      `INSERT INTO products (id, sku, name, unit_price, currency, tax_rate_ids_json, category_id, unit, weighed, active, doc_json)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name = excluded.name, unit_price = excluded.unit_price,
         currency = excluded.currency, tax_rate_ids_json = excluded.tax_rate_ids_json, category_id = excluded.category_id,
         unit = excluded.unit, weighed = excluded.weighed, active = excluded.active, doc_json = excluded.doc_json`,
      productColumns(p),
    );
  }
  for (const v of batch.variants ?? []) {
    db.run(
      `INSERT INTO variants (id, product_id, sku, name, unit_price, active) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET product_id = excluded.product_id, sku = excluded.sku, name = excluded.name,
         unit_price = excluded.unit_price, active = excluded.active`,
      [v.id, v.productId, v.sku, v.name, v.unitPrice ?? null, v.active ? 1 : 0],
    );
  }
  for (const b of batch.barcodes ?? []) {
    db.run(
      `INSERT INTO barcodes (code, product_id, variant_id) VALUES (?, ?, ?)
       ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, variant_id = excluded.variant_id`,
      [normalizeGtin(b.code), b.productId, b.variantId ?? null],
    );
  }
  for (const s of batch.staff ?? []) {
    db.run(
      `INSERT INTO staff (id, name, role, pin_kdf, pin_iterations, pin_salt, pin_hash, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role, pin_kdf = excluded.pin_kdf,
         pin_iterations = excluded.pin_iterations, pin_salt = excluded.pin_salt, pin_hash = excluded.pin_hash, active = excluded.active`,
      [s.id, s.name, s.role, s.pin?.kdf ?? null, s.pin?.iterations ?? null, s.pin?.salt ?? null, s.pin?.hash ?? null, s.active ? 1 : 0],
    );
  }
  for (const l of batch.stock ?? []) {
    db.run(
      `INSERT INTO stock_levels (product_id, variant_id, on_hand, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (product_id, variant_id) DO UPDATE SET on_hand = excluded.on_hand, updated_at = excluded.updated_at`,
      [l.productId, l.variantId ?? '', l.onHand, now],
    );
  }
}

/** A product row and the barcodes it alone should have (the whole list: others it had are released). */
export interface ProductWithBarcodes {
  readonly row: z.output<typeof ProductInputSchema>;
  readonly barcodes: readonly string[];
}

/**
 * Writes many validated products and their barcodes in three statements, whatever their number: the
 * rows travel as one JSON text read by `json_each`. A snapshot page is 1,000 products; one statement
 * a product (and two more for its barcodes) was most of a bootstrap's time, in the browser mostly
 * the crossing into WebAssembly and the copying of each bound string. The FTS index follows by
 * trigger, as for any write. Same result as writing the products one by one in the given order:
 * a code claimed twice ends with the last product that claims it. Call it inside a transaction.
 */
export function writeProductsWithBarcodes(db: SqlDb, products: readonly ProductWithBarcodes[]): void {
  if (products.length === 0) return;
  const rows = products.map(({ row }) => productColumns(row));
  db.run(
    `INSERT INTO products (id, sku, name, unit_price, currency, tax_rate_ids_json, category_id, unit, weighed, active, doc_json)
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10
     FROM json_each(?) WHERE true
     ON CONFLICT (id) DO UPDATE SET sku = excluded.sku, name = excluded.name, unit_price = excluded.unit_price,
       currency = excluded.currency, tax_rate_ids_json = excluded.tax_rate_ids_json, category_id = excluded.category_id,
       unit = excluded.unit, weighed = excluded.weighed, active = excluded.active, doc_json = excluded.doc_json`,
    [JSON.stringify(rows)],
  );
  const pairs = products.flatMap(({ row, barcodes }) => barcodes.map((code) => [code, row.id]));
  // A product's own codes (not a variant's) that its new list no longer has are released.
  db.run(
    `DELETE FROM barcodes WHERE variant_id IS NULL AND product_id IN (SELECT value FROM json_each(?))
       AND code || char(0) || product_id NOT IN (SELECT (value ->> 0) || char(0) || (value ->> 1) FROM json_each(?))`,
    [JSON.stringify(products.map((p) => p.row.id)), JSON.stringify(pairs)],
  );
  if (pairs.length === 0) return;
  db.run(
    `INSERT INTO barcodes (code, product_id, variant_id) SELECT value ->> 0, value ->> 1, NULL FROM json_each(?) WHERE true
     ON CONFLICT (code) DO UPDATE SET product_id = excluded.product_id, variant_id = NULL`,
    [JSON.stringify(pairs)],
  );
}
