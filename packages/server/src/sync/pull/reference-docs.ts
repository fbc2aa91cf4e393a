/**
 * The documents a register holds of each reference entity, built from the live tables. The snapshot
 * serves them, and writers put the same documents in the change log (`data` of a change), so a
 * register that bootstraps from the snapshot and one that followed the log hold equal documents.
 *
 * Writers: after changing an entity inside a transaction, log it with
 * `appendChanges(trx, orgId, await referenceChanges(trx, orgId, 'product', [id]))` — an id whose
 * row is gone becomes a `delete` change.
 */
import { docHlcs, docValues, isDeletedDoc, ReferenceDocSchema } from '@kassa/core';
import type { ReferenceDoc } from '@kassa/core';
import type { Kysely, Selectable, SelectQueryBuilder, Transaction } from 'kysely';
import { z } from 'zod';
import type { CategoriesTable, Database, ProductsTable, StaffTable, StoresTable, TaxRatesTable } from '../../db/schema.js';
import { staffDocument } from '../../staff/staff-doc.js';
import { parseStoreSettings } from '../../store-settings.js';
import type { ChangeInput } from '../change-log.js';

/** Reference entities a register bootstraps from the snapshot, in snapshot order. */
export const REFERENCE_ENTITIES = ['store', 'tax_rate', 'category', 'product', 'staff'] as const;

/** One of {@link REFERENCE_ENTITIES}. */
export type ReferenceEntity = (typeof REFERENCE_ENTITIES)[number];

type Db = Kysely<Database> | Transaction<Database>;

/** A reference document as a change: always an upsert of the full current document. */
export interface ReferenceItem extends ChangeInput {
  readonly op: 'upsert';
}

/** Whose reference data: stores and staff are per store, the catalog is organisation-wide. */
export interface ReferenceScope {
  readonly orgId: string;
  /** Restricts store-scoped entities (store, staff) to this store; undefined: every store of the org. */
  readonly storeId?: string;
}

const FieldHlcSchema = z.record(z.string(), z.string());
const fieldHlc = (json: string): Record<string, string> => FieldHlcSchema.parse(JSON.parse(json));
const idArray = (json: string): string[] => z.array(z.string()).parse(JSON.parse(json));

interface EntityReader {
  /** Up to `limit` documents with id > `afterId`, by id. */
  page(db: Db, scope: ReferenceScope, afterId: string | null, limit: number): Promise<ReferenceItem[]>;
  /** The documents of these ids that exist. */
  byIds(db: Db, orgId: string, ids: readonly string[]): Promise<ReferenceItem[]>;
  count(db: Db, scope: ReferenceScope): Promise<number>;
  /** Which registers see a change of this entity: null = the whole organisation. */
  storeOf(item: ReferenceItem): string | null;
}

const item = (entity: ReferenceEntity, entityId: string, storeId: string | null, data: Record<string, unknown>): ReferenceItem => ({
  entity,
  entityId,
  storeId,
  op: 'upsert',
  data,
});

const stores: EntityReader = {
  async page(db, scope, afterId, limit) {
    let q = db.selectFrom('stores').selectAll().where('org_id', '=', scope.orgId);
    if (scope.storeId !== undefined) q = q.where('id', '=', scope.storeId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    return (await q.orderBy('id').limit(limit).execute()).map(storeItem);
  },
  async byIds(db, orgId, ids) {
    return (await db.selectFrom('stores').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute()).map(storeItem);
  },
  async count(db, scope) {
    let q = db.selectFrom('stores').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId);
    if (scope.storeId !== undefined) q = q.where('id', '=', scope.storeId);
    return (await q.executeTakeFirstOrThrow()).n;
  },
  storeOf: (i) => i.entityId,
};

function storeItem(r: Selectable<StoresTable>): ReferenceItem {
  return item('store', r.id, r.id, { id: r.id, code: r.code, name: r.name, currency: r.currency, locale: r.locale, settings: parseStoreSettings(r.settings_json) });
}

const taxRates: EntityReader = {
  async page(db, scope, afterId, limit) {
    let q = db.selectFrom('tax_rates').selectAll().where('org_id', '=', scope.orgId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    return (await q.orderBy('id').limit(limit).execute()).map(taxRateItem);
  },
  async byIds(db, orgId, ids) {
    return (await db.selectFrom('tax_rates').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute()).map(taxRateItem);
  },
  async count(db, scope) {
    return (await db.selectFrom('tax_rates').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirstOrThrow()).n;
  },
  storeOf: () => null,
};

function taxRateItem(r: Selectable<TaxRatesTable>): ReferenceItem {
  return item('tax_rate', r.id, null, { id: r.id, name: r.name, ratePpm: r.rate_ppm, fieldHlc: fieldHlc(r.field_hlc_json) });
}

const categories: EntityReader = {
  async page(db, scope, afterId, limit) {
    let q = db.selectFrom('categories').selectAll().where('org_id', '=', scope.orgId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    return (await q.orderBy('id').limit(limit).execute()).map(categoryItem);
  },
  async byIds(db, orgId, ids) {
    return (await db.selectFrom('categories').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute()).map(categoryItem);
  },
  async count(db, scope) {
    return (await db.selectFrom('categories').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirstOrThrow()).n;
  },
  storeOf: () => null,
};

function categoryItem(r: Selectable<CategoriesTable>): ReferenceItem {
  return item('category', r.id, null, { id: r.id, name: r.name, parentId: r.parent_id, sortOrder: r.sort_order, fieldHlc: fieldHlc(r.field_hlc_json) });
}

type ProductRow = Selectable<ProductsTable>;

async function productItems(db: Db, orgId: string, rows: readonly ProductRow[]): Promise<ReferenceItem[]> {
  if (rows.length === 0) return [];
  const codes = await db
    .selectFrom('barcodes')
    .select(['product_id', 'code'])
    .where('org_id', '=', orgId)
    .where(
      'product_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('code')
    .execute();
  const byProduct = new Map<string, string[]>();
  for (const c of codes) byProduct.set(c.product_id, [...(byProduct.get(c.product_id) ?? []), c.code]);
  return rows.map((r) =>
    item('product', r.id, null, {
      id: r.id,
      sku: r.sku,
      name: r.name,
      priceMinor: r.price_minor,
      currency: r.currency,
      categoryId: r.category_id,
      taxRateIds: idArray(r.tax_rate_ids_json),
      weighed: r.weighed === 1,
      unit: r.unit,
      active: r.active === 1,
      barcodes: byProduct.get(r.id) ?? [],
      fieldHlc: fieldHlc(r.field_hlc_json),
    }),
  );
}

const products: EntityReader = {
  async page(db, scope, afterId, limit) {
    let q = db.selectFrom('products').selectAll().where('org_id', '=', scope.orgId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    return productItems(db, scope.orgId, await q.orderBy('id').limit(limit).execute());
  },
  async byIds(db, orgId, ids) {
    return productItems(db, orgId, await db.selectFrom('products').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute());
  },
  async count(db, scope) {
    return (await db.selectFrom('products').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId).executeTakeFirstOrThrow()).n;
  },
  storeOf: () => null,
};

type StaffRow = Selectable<StaffTable>;

function staffItem(r: StaffRow): ReferenceItem {
  // The back office's own document (staff/staff-doc.ts), so snapshot and log agree.
  return item('staff', r.id, r.store_id, { ...staffDocument(r) });
}

const staff: EntityReader = {
  async page(db, scope, afterId, limit) {
    let q = db.selectFrom('staff').selectAll().where('org_id', '=', scope.orgId);
    if (scope.storeId !== undefined) q = q.where('store_id', '=', scope.storeId);
    if (afterId !== null) q = q.where('id', '>', afterId);
    return (await q.orderBy('id').limit(limit).execute()).map(staffItem);
  },
  async byIds(db, orgId, ids) {
    return (await db.selectFrom('staff').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).execute()).map(staffItem);
  },
  async count(db, scope) {
    let q = db.selectFrom('staff').select((eb) => eb.fn.countAll<number>().as('n')).where('org_id', '=', scope.orgId);
    if (scope.storeId !== undefined) q = q.where('store_id', '=', scope.storeId);
    return (await q.executeTakeFirstOrThrow()).n;
  },
  storeOf: (i) => (i.data as { storeId: string }).storeId,
};

/** How each reference entity is read. */
export const ENTITY_READERS: Readonly<Record<ReferenceEntity, EntityReader>> = {
  store: stores,
  tax_rate: taxRates,
  category: categories,
  product: products,
  staff,
};

/**
 * The changes that bring registers up to date with these entities as they are now in `db`: an
 * upsert of the full document for each id that exists, a delete for each that does not. Call it
 * inside the writer's transaction, after the write, and pass the result to `appendChanges`.
 *
 * A deleted store-scoped entity (staff) cannot say which store it was in any more; pass
 * `deletedStoreId` so its delete reaches only that store (otherwise it goes to the organisation).
 *
 * @example
 * ```ts
 * await appendChanges(trx, orgId, await referenceChanges(trx, orgId, 'product', [productId]));
 * ```
 */
export async function referenceChanges(
  db: Db,
  orgId: string,
  entity: ReferenceEntity,
  ids: readonly string[],
  deletedStoreId: string | null = null,
): Promise<ChangeInput[]> {
  if (ids.length === 0) return [];
  const found = new Map((await ENTITY_READERS[entity].byIds(db, orgId, ids)).map((i) => [i.entityId, i]));
  return ids.map(
    (id): ChangeInput =>
      found.get(id) ?? { entity, entityId: id, storeId: entity === 'store' ? id : entity === 'staff' ? deletedStoreId : null, op: 'delete', data: { id } },
  );
}

/**
 * The change of a merge doc that has no table of its own (customers, variants, barcodes, price
 * lists, promotions): `{id, values, fieldHlc}` — the merged values and each field's HLC — for every
 * register of the organisation (`storeId` null; a customer: its store), a `delete` once the doc's
 * `deleted` field is true. The same shape `sync/apply/reference-edit.ts` logs, so the snapshot and
 * the log agree.
 */
export function mergeDocChange(docType: string, docId: string, doc: ReferenceDoc, storeId: string | null = null): ChangeInput {
  return { entity: docType, entityId: docId, storeId, op: isDeletedDoc(doc) ? 'delete' : 'upsert', data: { id: docId, values: docValues(doc), fieldHlc: docHlcs(doc) } };
}

/**
 * Restricts a `reference_docs` query to what a register of `scope.storeId` may hold: every doc but
 * customers, and of those only its own store's (DESIGN §4).
 */
function visibleDocs<Q extends SelectQueryBuilder<Database, 'reference_docs', object>>(db: Db, q: Q, scope: ReferenceScope): Q {
  const { storeId } = scope;
  if (storeId === undefined) return q;
  return q.where((eb) =>
    eb.or([
      eb('doc_type', '<>', 'customer'),
      eb('doc_id', 'in', db.selectFrom('customers').select('id').where('org_id', '=', scope.orgId).where('store_id', '=', storeId)),
    ]),
  ) as Q;
}

/**
 * Pages the merge docs of `reference_docs` whose type has no table the snapshot reads (see
 * {@link REFERENCE_ENTITIES}), by (doc type, doc id). Deleted docs come as `delete` items, so the
 * snapshot's `total` is exact without parsing every doc to count; applying one is a no-op.
 */
export const mergeDocReader = {
  /** The position after `item`, for the page token. */
  positionOf: (item: ChangeInput): string => JSON.stringify([item.entity, item.entityId]),
  async page(db: Db, scope: ReferenceScope, after: string | null, limit: number): Promise<ChangeInput[]> {
    let q = visibleDocs(db, db.selectFrom('reference_docs').select(['doc_type', 'doc_id', 'doc_json']).where('org_id', '=', scope.orgId).where('doc_type', 'not in', REFERENCE_ENTITIES), scope);
    if (after !== null) {
      const [type, id] = z.tuple([z.string(), z.string()]).parse(JSON.parse(after));
      q = q.where((eb) => eb.or([eb('doc_type', '>', type), eb.and([eb('doc_type', '=', type), eb('doc_id', '>', id)])]));
    }
    const rows = await q.orderBy('doc_type').orderBy('doc_id').limit(limit).execute();
    return rows.map((r) => mergeDocChange(r.doc_type, r.doc_id, ReferenceDocSchema.parse(JSON.parse(r.doc_json)), r.doc_type === 'customer' ? (scope.storeId ?? null) : null));
  },
  async count(db: Db, scope: ReferenceScope): Promise<number> {
    const q = db
      .selectFrom('reference_docs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('org_id', '=', scope.orgId)
      .where('doc_type', 'not in', REFERENCE_ENTITIES);
    return (await visibleDocs(db, q, scope).executeTakeFirstOrThrow()).n;
  },
};
