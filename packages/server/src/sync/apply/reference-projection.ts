/**
 * Projects a merged reference doc's values onto the typed tables that exist for it (`products`,
 * `customers`, `categories`, `tax_rates`), so back-office queries and reports read columns. The
 * merge doc in `reference_docs` stays the source of truth: a value that does not fit its column
 * (a price that is not a whole number of minor units, a category that does not exist) is left out
 * of the column but kept in the doc, and a row is created only once the doc has every field the
 * table requires. Other doc types (variants, barcodes, price lists, promotions) live in the doc only.
 *
 * Field names of the docs, and their columns:
 *
 * | doc | field → column |
 * |---|---|
 * | product | `name`, `sku`, `price` → price_minor, `currency`, `categoryId` → category_id, `taxRateIds` → tax_rate_ids_json, `weighed`, `unit`, `active`, `barcodes` → `barcodes` rows (normalised GTINs another product does not hold); `deleted: true` → active 0, barcodes released |
 * | customer | `name`, `email`, `phone`, `deleted`; every field → values_json; store_id = the store of the register that created it |
 * | category | `name`, `parentId` → parent_id, `sortOrder` → sort_order |
 * | tax_rate | `name`, `ratePpm` → rate_ppm |
 */
import type { Transaction } from 'kysely';
import { CurrencySchema, normalizeGtin, type JsonValue } from '@kassa/core';
import { z } from 'zod';
import type { Database } from '../../db/schema.js';

/** A doc's current values and the HLC of each, as the merge computes them. */
export interface DocView {
  readonly orgId: string;
  readonly docId: string;
  readonly values: Readonly<Record<string, JsonValue>>;
  readonly hlcs: Readonly<Record<string, string>>;
  readonly now: number;
  /** The store of the register that made the edit (a customer belongs to it); null: not a register. */
  readonly storeId?: string | null;
}

/** Text a column can hold: PostgreSQL's text refuses NUL, which JSON strings may carry. */
const text = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'no NUL characters');
const Name = text(1, 200);
const Sku = text(1, 64);
const Minor = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const Ppm = z.int().min(0).max(1_000_000);
const Id = text(1, 64);

/** The value of `field` when it passes `schema`, else undefined (left out of the columns). */
function pick<T>(values: DocView['values'], field: string, schema: z.ZodType<T>): T | undefined {
  if (!Object.hasOwn(values, field)) return undefined;
  const r = schema.safeParse(values[field]);
  return r.success ? r.data : undefined;
}

/** Drops the keys whose value is undefined (exactOptionalPropertyTypes-friendly). */
function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/**
 * Which organisation a row id belongs to in `table`, if any: ids are global, so a doc id of one
 * organisation must never update (or collide with) another organisation's row.
 */
async function ownerOf(trx: Transaction<Database>, table: 'products' | 'customers' | 'categories' | 'tax_rates', id: string): Promise<string | undefined> {
  const row = await trx.selectFrom(table).select('org_id').where('id', '=', id).executeTakeFirst();
  return row?.org_id;
}

async function categoryExists(trx: Transaction<Database>, orgId: string, id: string): Promise<boolean> {
  const row = await trx.selectFrom('categories').select('id').where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
  return row !== undefined;
}

async function projectProduct(trx: Transaction<Database>, v: DocView): Promise<void> {
  const owner = await ownerOf(trx, 'products', v.docId);
  if (owner !== undefined && owner !== v.orgId) return;
  let categoryId = Object.hasOwn(v.values, 'categoryId') ? pick(v.values, 'categoryId', Id.nullable()) : undefined;
  if (typeof categoryId === 'string' && !(await categoryExists(trx, v.orgId, categoryId))) categoryId = undefined;
  let sku = pick(v.values, 'sku', Sku);
  if (sku !== undefined) {
    // SKUs are unique per organisation: a clash keeps the column as it was (the doc keeps the value).
    const clash = await trx.selectFrom('products').select('id').where('org_id', '=', v.orgId).where('sku', '=', sku).where('id', '<>', v.docId).executeTakeFirst();
    if (clash !== undefined) sku = undefined;
  }
  const taxRateIds = pick(v.values, 'taxRateIds', z.array(Id).max(8));
  const weighed = pick(v.values, 'weighed', z.boolean());
  const activeValue = pick(v.values, 'active', z.boolean());
  const deleted = v.values['deleted'] === true;
  const columns = defined({
    name: pick(v.values, 'name', Name),
    sku,
    price_minor: pick(v.values, 'price', Minor),
    currency: pick(v.values, 'currency', CurrencySchema),
    category_id: categoryId,
    tax_rate_ids_json: taxRateIds === undefined ? undefined : JSON.stringify(taxRateIds),
    weighed: weighed === undefined ? undefined : weighed ? (1 as const) : (0 as const),
    unit: pick(v.values, 'unit', z.enum(['piece', 'kg'])),
    active: deleted ? (0 as const) : activeValue === undefined ? undefined : activeValue ? (1 as const) : (0 as const),
  });
  const hlcs = JSON.stringify(v.hlcs);
  if (owner !== undefined) {
    await trx.updateTable('products').set({ ...columns, field_hlc_json: hlcs, updated_at: v.now }).where('id', '=', v.docId).execute();
  } else {
    const { name, sku: newSku, price_minor, currency, unit } = columns;
    if (name === undefined || newSku === undefined || price_minor === undefined || currency === undefined || unit === undefined) return;
    await trx
      .insertInto('products')
      .values({ ...columns, id: v.docId, org_id: v.orgId, name, sku: newSku, price_minor, currency, unit, field_hlc_json: hlcs, created_at: v.now, updated_at: v.now })
      .execute();
  }
  const codes = deleted ? [] : pick(v.values, 'barcodes', z.array(z.string().max(64)).max(100));
  if (codes !== undefined) await projectBarcodes(trx, v, codes);
}

/**
 * Makes the product's `barcodes` rows the doc's codes, normalised as a scan is looked up (core's
 * `normalizeGtin`). A code that is no GTIN, or that another product holds, stays in the doc only:
 * a register's edit cannot be refused, and a scan must find one product.
 */
async function projectBarcodes(trx: Transaction<Database>, v: DocView, codes: readonly string[]): Promise<void> {
  const normalised = new Set<string>();
  for (const code of codes) {
    try {
      normalised.add(normalizeGtin(code));
    } catch {
      // not a GTIN: kept in the doc only
    }
  }
  const held =
    normalised.size === 0
      ? new Set<string>()
      : new Set(
          (
            await trx
              .selectFrom('barcodes')
              .select('code')
              .where('org_id', '=', v.orgId)
              .where('code', 'in', [...normalised])
              .where('product_id', '<>', v.docId)
              .execute()
          ).map((r) => r.code),
        );
  const wanted = [...normalised].filter((c) => !held.has(c));
  const existing = new Set((await trx.selectFrom('barcodes').select('code').where('org_id', '=', v.orgId).where('product_id', '=', v.docId).execute()).map((r) => r.code));
  const gone = [...existing].filter((c) => !wanted.includes(c));
  const added = wanted.filter((c) => !existing.has(c));
  if (gone.length > 0) await trx.deleteFrom('barcodes').where('org_id', '=', v.orgId).where('product_id', '=', v.docId).where('code', 'in', gone).execute();
  if (added.length > 0) await trx.insertInto('barcodes').values(added.map((code) => ({ org_id: v.orgId, code, product_id: v.docId, created_at: v.now }))).execute();
}

async function projectCustomer(trx: Transaction<Database>, v: DocView): Promise<void> {
  const owner = await ownerOf(trx, 'customers', v.docId);
  if (owner !== undefined && owner !== v.orgId) return;
  const field = text(0, 10_000);
  const row = {
    name: pick(v.values, 'name', field) ?? null,
    email: pick(v.values, 'email', field) ?? null,
    phone: pick(v.values, 'phone', field) ?? null,
    values_json: JSON.stringify(v.values),
    deleted: v.values['deleted'] === true ? (1 as const) : (0 as const),
    field_hlc_json: JSON.stringify(v.hlcs),
    updated_at: v.now,
  };
  const storeId = v.storeId ?? null;
  if (owner !== undefined) {
    // A customer keeps the store it was created in; one whose store is not known (from before
    // stores were recorded) is claimed by the first register that edits it.
    await trx.updateTable('customers').set(row).where('id', '=', v.docId).execute();
    if (storeId !== null) await trx.updateTable('customers').set({ store_id: storeId }).where('id', '=', v.docId).where('store_id', 'is', null).execute();
  } else {
    await trx.insertInto('customers').values({ ...row, id: v.docId, org_id: v.orgId, store_id: storeId, created_at: v.now }).execute();
  }
}

async function projectCategory(trx: Transaction<Database>, v: DocView): Promise<void> {
  const owner = await ownerOf(trx, 'categories', v.docId);
  if (owner !== undefined && owner !== v.orgId) return;
  let parentId = Object.hasOwn(v.values, 'parentId') ? pick(v.values, 'parentId', Id.nullable()) : undefined;
  if (typeof parentId === 'string' && (parentId === v.docId || !(await categoryExists(trx, v.orgId, parentId)))) parentId = undefined;
  const columns = defined({ name: pick(v.values, 'name', Name), parent_id: parentId, sort_order: pick(v.values, 'sortOrder', z.int().min(-1_000_000).max(1_000_000)) });
  const hlcs = JSON.stringify(v.hlcs);
  if (owner !== undefined) {
    await trx.updateTable('categories').set({ ...columns, field_hlc_json: hlcs, updated_at: v.now }).where('id', '=', v.docId).execute();
    return;
  }
  const { name } = columns;
  if (name === undefined) return;
  await trx.insertInto('categories').values({ ...columns, id: v.docId, org_id: v.orgId, name, field_hlc_json: hlcs, created_at: v.now, updated_at: v.now }).execute();
}

async function projectTaxRate(trx: Transaction<Database>, v: DocView): Promise<void> {
  const owner = await ownerOf(trx, 'tax_rates', v.docId);
  if (owner !== undefined && owner !== v.orgId) return;
  const columns = defined({ name: pick(v.values, 'name', Name), rate_ppm: pick(v.values, 'ratePpm', Ppm) });
  const hlcs = JSON.stringify(v.hlcs);
  if (owner !== undefined) {
    await trx.updateTable('tax_rates').set({ ...columns, field_hlc_json: hlcs, updated_at: v.now }).where('id', '=', v.docId).execute();
    return;
  }
  const { name, rate_ppm } = columns;
  if (name === undefined || rate_ppm === undefined) return;
  await trx.insertInto('tax_rates').values({ id: v.docId, org_id: v.orgId, name, rate_ppm, field_hlc_json: hlcs, created_at: v.now, updated_at: v.now }).execute();
}

/**
 * Writes a doc's values into its typed table, when it has one (see the table above).
 *
 * @example
 * ```ts
 * await projectReferenceDoc(trx, 'product', { orgId, docId, values: docValues(doc), hlcs: docHlcs(doc), now });
 * ```
 */
export async function projectReferenceDoc(trx: Transaction<Database>, docType: string, view: DocView): Promise<void> {
  switch (docType) {
    case 'product':
      return projectProduct(trx, view);
    case 'customer':
      return projectCustomer(trx, view);
    case 'category':
      return projectCategory(trx, view);
    case 'tax_rate':
      return projectTaxRate(trx, view);
    default:
      return;
  }
}
