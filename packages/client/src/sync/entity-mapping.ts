/**
 * The one place where the server's entity shapes meet the register's tables. Pure: no SQL, no
 * clock. The store (`store/pulled-changes.ts`) applies what these functions return, inside the
 * transaction that also advances the pull cursor.
 *
 * Two steps, both tested on their own (`entity-mapping.test.ts`):
 *
 * 1. {@link mapChange}: a pulled change or snapshot item → a {@link LocalChange}. Reference
 *    entities become a *document* (`values` by the merge's field names, each field's HLC), so a
 *    product from the change log and one edited at the till are the same kind of thing.
 * 2. {@link projectDoc}: a document's (merged) values → the row of the register's table.
 *
 * Field names differ between the two sides; this table is the whole translation:
 *
 * | server (snapshot, log)                       | document field | register column          |
 * |----------------------------------------------|----------------|--------------------------|
 * | product `priceMinor`                         | `price`        | products.unit_price      |
 * | product `taxRateIds` (server column `tax_rate_ids_json`) | `taxRateIds` | products.tax_rate_ids_json |
 * | product `categoryId`, `weighed`, `unit`, `active`, `name`, `sku`, `currency` | same | same, snake_case |
 * | product `barcodes` (printed codes)           | `barcodes`     | barcodes rows (normalised GTINs) |
 * | tax rate `ratePpm`                           | `ratePpm`      | tax_rates.rate_ppm       |
 * | category `parentId`, `sortOrder`             | same           | parent_id, sort_order    |
 * | variant doc `productId`, `sku`, `name`, `price`, `active` | same | variants (unit_price ← price) |
 * | customer doc `{values, fieldHlc}`            | every field    | customers.doc_json       |
 * | staff `{name, role, active, pin:{kdf, iterations, salt, hash}}` | — | staff columns (pin_*) |
 * | store `{currency, settings:{…}}` (own store) | —              | settings `store`         |
 * | `fact` (the op, HLC as applied)              | —              | stock via its movements  |
 * | `stock_level` `{productId, variantId, onHand}` (snapshot only) | — | server_stock     |
 *
 * Anything that does not fit (an unknown entity, a malformed document) becomes `ignored` with a
 * reason: one bad row must never stop a register from following the log.
 */
import {
  HlcStringSchema,
  isFactOp,
  JsonValueSchema,
  normalizeGtin,
  parseOp,
  type FactOp,
  type JsonValue,
  type ReferenceDoc,
  type WriteRecord,
} from '@kassa/core';
import { z } from 'zod';
import {
  CategoryInputSchema,
  ProductInputSchema,
  StaffInputSchema,
  TaxRateInputSchema,
  VariantInputSchema,
} from '../store/catalog.js';
import { RegisterSettingsSchema, type RegisterSettingsInput } from '../store/settings.js';

/** A change as both the log and the snapshot carry it (the snapshot has no log position). */
export interface IncomingChange {
  readonly entity: string;
  readonly entityId: string;
  readonly storeId: string | null;
  readonly op: 'upsert' | 'delete';
  readonly data: unknown;
}

/** Document types the register projects onto a table; any other merge doc is kept as a doc only. */
export type TableDocType = 'product' | 'customer' | 'category' | 'tax_rate' | 'variant';

/** A reference document: its current values and the HLC of each field that has one. */
export interface IncomingDoc {
  readonly docType: string;
  readonly docId: string;
  readonly values: Readonly<Record<string, JsonValue>>;
  readonly fieldHlc: Readonly<Record<string, string>>;
}

/** What one incoming change means for the register. */
export type LocalChange =
  | { readonly kind: 'doc'; readonly doc: IncomingDoc }
  | { readonly kind: 'doc_deleted'; readonly docType: string; readonly docId: string }
  | { readonly kind: 'settings'; readonly settings: RegisterSettingsInput }
  | { readonly kind: 'staff'; readonly row: z.output<typeof StaffInputSchema> }
  | { readonly kind: 'staff_deleted'; readonly staffId: string }
  | { readonly kind: 'fact'; readonly op: FactOp }
  | { readonly kind: 'stock_level'; readonly productId: string; readonly variantId: string; readonly onHand: number }
  | { readonly kind: 'ignored'; readonly entity: string; readonly entityId: string; readonly reason: string };

const FieldHlcSchema = z.record(z.string(), HlcStringSchema);
const Values = z.record(z.string(), JsonValueSchema);

/** `{id, values, fieldHlc}`: a merge doc without a table on the server (customers, variants, …). */
const MergeDocSchema = z.object({ id: z.string().min(1), values: Values, fieldHlc: FieldHlcSchema });

/** The server's product document (snapshot and log agree, ADR 0014). */
const ServerProductSchema = z.object({
  id: z.string().min(1),
  sku: z.string(),
  name: z.string(),
  priceMinor: z.int(),
  currency: z.string(),
  categoryId: z.string().nullable().optional(),
  taxRateIds: z.array(z.string()).default([]),
  weighed: z.boolean().default(false),
  unit: z.string().default('piece'),
  active: z.boolean().default(true),
  barcodes: z.array(z.string()).default([]),
  fieldHlc: FieldHlcSchema.default({}),
});

const ServerTaxRateSchema = z.object({ id: z.string().min(1), name: z.string(), ratePpm: z.int(), fieldHlc: FieldHlcSchema.default({}) });
const ServerCategorySchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  parentId: z.string().nullable().optional(),
  sortOrder: z.int().optional(),
  fieldHlc: FieldHlcSchema.default({}),
});
const ServerStaffSchema = z.object({
  id: z.string().min(1),
  storeId: z.string().optional(),
  name: z.string(),
  role: z.string(),
  active: z.boolean().default(true),
  pin: z.object({ kdf: z.string(), iterations: z.int(), salt: z.string(), hash: z.string() }).nullable().optional(),
});
const ServerStoreSchema = z.object({
  id: z.string().min(1),
  currency: z.string(),
  settings: z.record(z.string(), z.unknown()),
});
const ServerStockLevelSchema = z.object({ productId: z.string().min(1), variantId: z.string().nullable().optional(), onHand: z.int() });

/** The register's own store: store-scoped changes of other stores are ignored (the server should not send them). */
export interface MappingScope {
  readonly storeId: string;
}

function ignored(c: IncomingChange, reason: string): LocalChange {
  return { kind: 'ignored', entity: c.entity, entityId: c.entityId, reason };
}

function issues(e: z.ZodError): string {
  return e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(doc)'}: ${i.message}`)
    .join('; ');
}

function doc(docType: string, docId: string, values: Record<string, JsonValue>, fieldHlc: Record<string, string>): LocalChange {
  return { kind: 'doc', doc: { docType, docId, values, fieldHlc } };
}

/**
 * What a pulled change (or snapshot item) means for this register.
 *
 * @example
 * ```ts
 * mapChange({ entity: 'product', entityId: id, storeId: null, op: 'upsert', data: { id, priceMinor: 250, … } }, scope)
 * // { kind: 'doc', doc: { docType: 'product', docId: id, values: { price: 250, … }, fieldHlc } }
 * ```
 */
export function mapChange(c: IncomingChange, scope: MappingScope): LocalChange {
  if (c.storeId !== null && c.storeId !== scope.storeId) return ignored(c, `belongs to store ${c.storeId}`);
  switch (c.entity) {
    case 'fact': {
      if (c.op === 'delete') return ignored(c, 'a fact is never deleted');
      const parsed = parseOp(c.data);
      if (!parsed.ok) return ignored(c, `unreadable op (${parsed.kind})`);
      if (!isFactOp(parsed.op)) return ignored(c, `${parsed.op.type} is not a fact`);
      return { kind: 'fact', op: parsed.op };
    }
    case 'product': {
      if (c.op === 'delete') return { kind: 'doc_deleted', docType: 'product', docId: c.entityId };
      const p = ServerProductSchema.safeParse(c.data);
      if (!p.success) return ignored(c, issues(p.error));
      const d = p.data;
      return doc('product', d.id, {
        name: d.name,
        sku: d.sku,
        price: d.priceMinor,
        currency: d.currency,
        categoryId: d.categoryId ?? null,
        taxRateIds: d.taxRateIds,
        weighed: d.weighed,
        unit: d.unit,
        active: d.active,
        barcodes: d.barcodes,
      }, d.fieldHlc);
    }
    case 'tax_rate': {
      if (c.op === 'delete') return { kind: 'doc_deleted', docType: 'tax_rate', docId: c.entityId };
      const t = ServerTaxRateSchema.safeParse(c.data);
      if (!t.success) return ignored(c, issues(t.error));
      return doc('tax_rate', t.data.id, { name: t.data.name, ratePpm: t.data.ratePpm }, t.data.fieldHlc);
    }
    case 'category': {
      if (c.op === 'delete') return { kind: 'doc_deleted', docType: 'category', docId: c.entityId };
      const k = ServerCategorySchema.safeParse(c.data);
      if (!k.success) return ignored(c, issues(k.error));
      return doc('category', k.data.id, { name: k.data.name, parentId: k.data.parentId ?? null, sortOrder: k.data.sortOrder ?? 0 }, k.data.fieldHlc);
    }
    case 'staff': {
      if (c.op === 'delete') return { kind: 'staff_deleted', staffId: c.entityId };
      const s = ServerStaffSchema.safeParse(c.data);
      if (!s.success) return ignored(c, issues(s.error));
      if (s.data.storeId !== undefined && s.data.storeId !== scope.storeId) return ignored(c, `staff of store ${s.data.storeId}`);
      const row = StaffInputSchema.safeParse({
        id: s.data.id,
        name: s.data.name,
        role: s.data.role,
        active: s.data.active,
        ...(s.data.pin === null || s.data.pin === undefined ? {} : { pin: s.data.pin }),
      });
      if (!row.success) return ignored(c, issues(row.error));
      return { kind: 'staff', row: row.data };
    }
    case 'store': {
      if (c.op === 'delete') return ignored(c, 'a store is never deleted on a register');
      if (c.entityId !== scope.storeId) return ignored(c, 'another store');
      const s = ServerStoreSchema.safeParse(c.data);
      if (!s.success) return ignored(c, issues(s.error));
      const settings: RegisterSettingsInput = { ...(s.data.settings as RegisterSettingsInput), currency: s.data.currency };
      const check = RegisterSettingsSchema.safeParse(settings);
      if (!check.success) return ignored(c, issues(check.error));
      return { kind: 'settings', settings };
    }
    case 'stock_level': {
      if (c.op === 'delete') return ignored(c, 'stock levels are never deleted');
      const l = ServerStockLevelSchema.safeParse(c.data);
      if (!l.success) return ignored(c, issues(l.error));
      return { kind: 'stock_level', productId: l.data.productId, variantId: l.data.variantId ?? '', onHand: l.data.onHand };
    }
    default: {
      // Customers, variants, barcodes, price lists, promotions: merge docs `{id, values, fieldHlc}`.
      if (c.op === 'delete') return { kind: 'doc_deleted', docType: c.entity, docId: c.entityId };
      const m = MergeDocSchema.safeParse(c.data);
      if (!m.success) return ignored(c, `unknown entity or malformed doc: ${issues(m.error)}`);
      if (m.data.values['deleted'] === true) return { kind: 'doc_deleted', docType: c.entity, docId: m.data.id };
      return doc(c.entity, m.data.id, m.data.values, m.data.fieldHlc);
    }
  }
}

/**
 * A core `ReferenceDoc` holding each field that has an HLC, as one write (the server sends the
 * merged value, not its history). Fields without an HLC were never edited through a merge (seeded
 * data) and stay out: an edit of them at the till is based on "no value seen", as the server sees it.
 */
export function docFromValues(values: Readonly<Record<string, JsonValue>>, fieldHlc: Readonly<Record<string, string>>): ReferenceDoc {
  const fields: Record<string, WriteRecord[]> = {};
  for (const [field, hlc] of Object.entries(fieldHlc)) {
    if (!Object.hasOwn(values, field)) continue;
    const value = values[field];
    if (value === undefined) continue;
    fields[field] = [{ value, hlc, base: null }];
  }
  return { fields };
}

/** The row a document's values give in the register's table, or why they give none. */
export type Projection =
  | { readonly table: 'products'; readonly row: z.output<typeof ProductInputSchema>; readonly barcodes: readonly string[] }
  | { readonly table: 'customers'; readonly id: string; readonly deleted: boolean }
  | { readonly table: 'categories'; readonly row: z.output<typeof CategoryInputSchema> }
  | { readonly table: 'tax_rates'; readonly row: z.output<typeof TaxRateInputSchema> }
  | { readonly table: 'variants'; readonly row: z.output<typeof VariantInputSchema> }
  | { readonly table: 'none'; readonly reason: string };

const str = (v: JsonValue | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Printed codes as the barcode table keeps them (core's `normalizeGtin`); codes that are no GTIN are left out. */
export function normaliseBarcodes(codes: JsonValue | undefined): string[] {
  if (!Array.isArray(codes)) return [];
  const out = new Set<string>();
  for (const c of codes) {
    if (typeof c !== 'string' || !/^\d{8,14}$/.test(c)) continue;
    try {
      out.add(normalizeGtin(c));
    } catch {
      // a wrong check digit: kept in the doc only, as the server does
    }
  }
  return [...out];
}

/**
 * The row of the register's table for a document's current values (after the register's own
 * unacknowledged edits are replayed on top), or `none` with the reason.
 *
 * @example
 * ```ts
 * projectDoc('product', id, { name: 'Mug', sku: 'MUG', price: 250, currency: 'EUR', … }, doc)
 * // { table: 'products', row: { id, name: 'Mug', unitPrice: 250, … }, barcodes: [] }
 * ```
 */
export function projectDoc(docType: string, docId: string, values: Readonly<Record<string, JsonValue>>, merged: ReferenceDoc): Projection {
  const deleted = values['deleted'] === true;
  switch (docType) {
    case 'product': {
      const unit = str(values['unit']);
      const row = ProductInputSchema.safeParse({
        id: docId,
        sku: values['sku'],
        name: values['name'],
        unitPrice: values['price'],
        currency: values['currency'],
        taxRateIds: values['taxRateIds'] ?? [],
        categoryId: values['categoryId'] ?? null,
        unit: unit === 'kg' ? 'kg' : 'piece',
        weighed: values['weighed'] === true,
        active: values['active'] !== false && !deleted,
        doc: merged,
      });
      if (!row.success) return { table: 'none', reason: issues(row.error) };
      return { table: 'products', row: row.data, barcodes: deleted ? [] : normaliseBarcodes(values['barcodes']) };
    }
    case 'customer':
      return { table: 'customers', id: docId, deleted };
    case 'category': {
      const row = CategoryInputSchema.safeParse({ id: docId, name: values['name'], parentId: values['parentId'] ?? null, sortOrder: values['sortOrder'] ?? 0 });
      return row.success ? { table: 'categories', row: row.data } : { table: 'none', reason: issues(row.error) };
    }
    case 'tax_rate': {
      const row = TaxRateInputSchema.safeParse({ id: docId, name: values['name'], ratePpm: values['ratePpm'] });
      return row.success ? { table: 'tax_rates', row: row.data } : { table: 'none', reason: issues(row.error) };
    }
    case 'variant': {
      const row = VariantInputSchema.safeParse({
        id: docId,
        productId: values['productId'],
        sku: values['sku'],
        name: values['name'],
        unitPrice: values['price'] ?? null,
        active: values['active'] !== false && !deleted,
      });
      return row.success ? { table: 'variants', row: row.data } : { table: 'none', reason: issues(row.error) };
    }
    default:
      return { table: 'none', reason: `${docType} has no table on the register` };
  }
}
