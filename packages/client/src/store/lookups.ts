/**
 * The lookups a cashier needs to be instant with 100,000 products: a scanned barcode to its
 * product or variant through the barcode table's primary key, and name/SKU search through FTS5
 * prefix queries, first 20 matches.
 */
import { money, parseBarcode, type GtinOptions, type Money, type TaxRateSnapshot } from '@kassa/core';
import { z } from 'zod';
import { CorruptRowError, NotFoundError } from './errors.js';
import { readSettings } from './settings.js';
import type { SqlDb } from './sql-db.js';

/**
 * A product (or one variant of it) as the till sells it: exactly what core's `addLine` takes as a
 * `ProductSnapshot`, plus how it is measured.
 */
export interface CatalogItem {
  readonly productId: string;
  readonly variantId?: string;
  readonly sku: string;
  readonly name: string;
  /** In the store's price mode; per kg when `weighed`. */
  readonly unitPrice: Money;
  readonly taxes: readonly TaxRateSnapshot[];
  readonly unit: 'piece' | 'kg';
  readonly weighed: boolean;
}

/** What a scan found: the item, and for a variable-measure label the weight or price it carries. */
export interface ScanResult {
  readonly item: CatalogItem;
  /** The normalised code that matched. */
  readonly gtin: string;
  /** Thousandths of the selling unit, from a weight label. */
  readonly qty?: number;
  /** The line's price, from a price label. */
  readonly price?: Money;
}

/** The most matches a search returns. */
export const SEARCH_LIMIT = 20;

const ItemRowSchema = z.object({
  product_id: z.string(),
  variant_id: z.string().nullable(),
  sku: z.string(),
  name: z.string(),
  unit_price: z.int(),
  currency: z.string(),
  tax_rate_ids_json: z.string(),
  unit: z.enum(['piece', 'kg']),
  weighed: z.int(),
});
type ItemRow = z.infer<typeof ItemRowSchema>;

// A product row, or a variant row with the product's price, taxes and unit filled in.
const PRODUCT_ITEM = `SELECT p.id AS product_id, NULL AS variant_id, p.sku, p.name, p.unit_price, p.currency,
  p.tax_rate_ids_json, p.unit, p.weighed FROM products p`;
const VARIANT_ITEM = `SELECT p.id AS product_id, v.id AS variant_id, v.sku, p.name || ' ' || v.name AS name,
  coalesce(v.unit_price, p.unit_price) AS unit_price, p.currency, p.tax_rate_ids_json, p.unit, p.weighed
  FROM variants v JOIN products p ON p.id = v.product_id`;

function taxesOf(db: SqlDb, json: string): TaxRateSnapshot[] {
  const ids = z.array(z.string()).parse(JSON.parse(json));
  return ids.map((id) => {
    const row = db.get<{ name: string; rate_ppm: number }>('SELECT name, rate_ppm FROM tax_rates WHERE id = ?', [id]);
    // Selling without a tax the product should carry would be wrong on every receipt: refuse.
    if (row === undefined) throw new NotFoundError('tax_rate', id);
    return { rateId: id, name: row.name, ratePpm: row.rate_ppm };
  });
}

function toItem(db: SqlDb, raw: unknown): CatalogItem {
  const parsed = ItemRowSchema.safeParse(raw);
  if (!parsed.success) throw new CorruptRowError('products', parsed.error.message);
  const r: ItemRow = parsed.data;
  return {
    productId: r.product_id,
    ...(r.variant_id === null ? {} : { variantId: r.variant_id }),
    sku: r.sku,
    name: r.name,
    unitPrice: money(r.unit_price, r.currency),
    taxes: taxesOf(db, r.tax_rate_ids_json),
    unit: r.unit,
    weighed: r.weighed === 1,
  };
}

/**
 * One active product, or one active variant of it.
 *
 * @throws NotFoundError when there is no such (active) product or variant.
 */
export function getItem(db: SqlDb, productId: string, variantId?: string): CatalogItem {
  const row =
    variantId === undefined
      ? db.get(`${PRODUCT_ITEM} WHERE p.id = ? AND p.active = 1`, [productId])
      : db.get(`${VARIANT_ITEM} WHERE v.id = ? AND p.id = ? AND v.active = 1 AND p.active = 1`, [variantId, productId]);
  if (row === undefined) throw variantId === undefined ? new NotFoundError('product', productId) : new NotFoundError('variant', variantId);
  return toItem(db, row);
}

function itemForBarcode(db: SqlDb, row: { product_id: string; variant_id: string | null }): CatalogItem | undefined {
  try {
    return getItem(db, row.product_id, row.variant_id ?? undefined);
  } catch (e) {
    if (e instanceof NotFoundError && (e.entity === 'product' || e.entity === 'variant')) return undefined;
    throw e;
  }
}

/**
 * Finds what a scanned barcode sells: a GTIN by its normalised code (core's `normalizeGtin`, so a
 * UPC-E and its UPC-A find the same row), or a variable-measure label (the store's layouts) by
 * the template that shares its prefix and item code, with the weight or price the label carries.
 *
 * @returns undefined when no active product has the code.
 * @throws MalformedBarcodeError, CheckDigitError, ValueCheckDigitError (core) for a bad scan.
 * @example
 * ```ts
 * const hit = findByBarcode(db, '2112345003757'); // { item: Apples, qty: 375 } on a weight layout 21
 * ```
 */
export function findByBarcode(db: SqlDb, scanned: string, options?: GtinOptions): ScanResult | undefined {
  const layouts = readSettings(db).variableMeasureLayouts;
  const parsed = parseBarcode(scanned.trim(), layouts, options);
  if (parsed.kind === 'gtin') {
    const row = db.get<{ product_id: string; variant_id: string | null }>('SELECT product_id, variant_id FROM barcodes WHERE code = ?', [parsed.gtin]);
    const item = row === undefined ? undefined : itemForBarcode(db, row);
    return item === undefined ? undefined : { item, gtin: parsed.gtin };
  }
  // The template is stored as printed (value digits zero); the label shares prefix and item code.
  // ':' sorts after every digit, so the range is exactly the codes starting with `key`.
  const key = parsed.prefix + parsed.itemCode;
  const row = db.get<{ product_id: string; variant_id: string | null }>(
    'SELECT product_id, variant_id FROM barcodes WHERE code >= ? AND code < ? ORDER BY code LIMIT 1',
    [key, `${key}:`],
  );
  const item = row === undefined ? undefined : itemForBarcode(db, row);
  if (item === undefined) return undefined;
  return parsed.measure === 'weight' ? { item, gtin: parsed.gtin, qty: parsed.qty } : { item, gtin: parsed.gtin, price: parsed.price };
}

/**
 * The FTS5 query for what the cashier typed: every word must match as a prefix of a word of the
 * name or SKU. Each word is quoted (FTS5 syntax in the input is text, never an operator).
 */
export function ftsQuery(text: string): string | undefined {
  const words = text
    .normalize('NFC')
    .split(/\s+/)
    .map((w) => w.replace(/"/g, '').trim())
    .filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return undefined;
  return words.map((w) => `"${w}"*`).join(' AND ');
}

/**
 * Name/SKU search, best matches first (FTS5's bm25 rank, ties by rowid), at most
 * {@link SEARCH_LIMIT}. Inactive products and variants are skipped (the index holds every row, so
 * deactivating a product needs no index write); pages of the ranked matches are read until enough
 * active ones are found.
 *
 * @example
 * ```ts
 * searchCatalog(db, 'cof mu') // Coffee mug, Coffee mug large, …
 * ```
 */
export function searchCatalog(db: SqlDb, text: string, limit: number = SEARCH_LIMIT): CatalogItem[] {
  const query = ftsQuery(text);
  if (query === undefined) return [];
  const n = Math.max(1, Math.min(limit, SEARCH_LIMIT));
  const out: CatalogItem[] = [];
  const page = n * 2;
  for (let offset = 0; out.length < n; offset += page) {
    const hits = db.all<{ rowid: number }>('SELECT rowid FROM catalog_fts WHERE catalog_fts MATCH ? ORDER BY rank, rowid LIMIT ? OFFSET ?', [
      query,
      page,
      offset,
    ]);
    for (const { rowid } of hits) {
      const row =
        rowid > 0
          ? db.get(`${PRODUCT_ITEM} WHERE p.rid = ? AND p.active = 1`, [rowid])
          : db.get(`${VARIANT_ITEM} WHERE v.rid = ? AND v.active = 1 AND p.active = 1`, [-rowid]);
      if (row !== undefined) out.push(toItem(db, row));
      if (out.length === n) break;
    }
    if (hits.length < page) break;
  }
  return out;
}
