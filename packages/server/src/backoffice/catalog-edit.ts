/**
 * One back-office edit of a catalog doc (product, variant, category, tax rate), with the checks a register's
 * edit does not get — the back office is told "no" where a register's past cannot be:
 *
 * - ids in the values must be the organisation's (another organisation's → 404, like none at all);
 * - a SKU or barcode another product holds → 409 (`duplicate_sku`, `duplicate_barcode`);
 * - a category may not become its own ancestor (409 `category_cycle`), and a category or tax rate
 *   still used by a product (or a sub-category) cannot be deleted (409 `…_in_use`).
 *
 * The checks run under the organisation's writer lock (its `server_hlc` row, taken first, as a push
 * does), so two edits cannot both pass a uniqueness check and then both write.
 *
 * Barcodes live in the product doc (`barcodes`, so edits of them merge like any field); the
 * projection (`sync/apply/reference-projection.ts`) keeps the `barcodes` table — unique per
 * organisation, what a scan is looked up by — equal to it. Deletion is the merge doc's
 * `deleted: true`; a product stays as an inactive row with its barcodes released, while a deleted
 * category or tax rate loses its row, so registers receive a `delete` and the snapshot no longer
 * has it.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Clock, JsonValue } from '@kassa/core';
import type { Database } from '../db/schema.js';
import { ApiError } from '../http/api-error.js';
import { lockServerHlc } from '../sync/apply/server-hlc.js';
import { appendChanges } from '../sync/change-log.js';
import { referenceChanges } from '../sync/pull/reference-docs.js';
import type { CatalogDocType } from './catalog-fields.js';
import { writeReferenceFields } from './reference-write.js';
import type { BackofficeEditResult } from './reference-write.js';
import { audit } from '../audit/audit.js';
import { conflictViews } from './conflict-view.js';
import type { ConflictView } from './conflict-view.js';

/** One edit of a catalog doc by a back-office user. */
export interface CatalogEdit {
  readonly orgId: string;
  readonly userId: string;
  readonly docType: CatalogDocType;
  readonly docId: string;
  /** Validated field values (the `catalog-fields.ts` schemas), by doc field name. */
  readonly values: Readonly<Record<string, JsonValue>>;
  /** The `fieldHlc` the editor read; see `reference-write.ts`. */
  readonly seen?: Readonly<Record<string, string>> | undefined;
  readonly clock: Clock;
}

type Trx = Transaction<Database>;

/**
 * Runs `fn` in a transaction that first takes the organisation's writer lock, so checks made in it
 * hold until it commits. Every catalog write goes through here.
 */
export function catalogTransaction<T>(db: Kysely<Database>, orgId: string, clock: Clock, fn: (trx: Trx) => Promise<T>): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await lockServerHlc(trx, orgId, clock.now());
    return fn(trx);
  });
}

const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `no such ${what}`);

async function checkProduct(trx: Trx, edit: CatalogEdit): Promise<void> {
  const { orgId, docId, values } = edit;
  const categoryId = values['categoryId'];
  if (typeof categoryId === 'string') {
    const found = await trx.selectFrom('categories').select('id').where('org_id', '=', orgId).where('id', '=', categoryId).executeTakeFirst();
    if (!found) throw notFound('category');
  }
  const taxRateIds = values['taxRateIds'];
  if (Array.isArray(taxRateIds) && taxRateIds.length > 0) {
    const ids = taxRateIds.filter((v): v is string => typeof v === 'string');
    const found = await trx.selectFrom('tax_rates').select('id').where('org_id', '=', orgId).where('id', 'in', ids).execute();
    if (found.length !== new Set(ids).size) throw notFound('tax rate');
  }
  const sku = values['sku'];
  if (typeof sku === 'string') {
    const holder = await trx.selectFrom('products').select('id').where('org_id', '=', orgId).where('sku', '=', sku).where('id', '<>', docId).executeTakeFirst();
    if (holder) throw new ApiError(409, 'duplicate_sku', `SKU ${sku} belongs to another product`, { sku, productId: holder.id });
  }
  const codes = barcodesOf(values['barcodes']);
  if (codes !== undefined && codes.length > 0) {
    const held = await trx
      .selectFrom('barcodes')
      .select(['code', 'product_id'])
      .where('org_id', '=', orgId)
      .where('code', 'in', codes)
      .where('product_id', '<>', docId)
      .orderBy('code')
      .execute();
    if (held.length > 0) {
      throw new ApiError(409, 'duplicate_barcode', `barcode ${held.map((h) => h.code).join(', ')} belongs to another product`, {
        held: held.map((h) => ({ barcode: h.code, productId: h.product_id })),
      });
    }
  }
}

async function isAncestorOrSelf(trx: Trx, orgId: string, candidate: string, of: string): Promise<boolean> {
  // Walk up from `candidate`'s would-be parent; the depth bound stops a cycle already in the data.
  let current: string | null = candidate;
  for (let depth = 0; current !== null && depth < 100; depth++) {
    if (current === of) return true;
    const row: { parent_id: string | null } | undefined = await trx
      .selectFrom('categories')
      .select('parent_id')
      .where('org_id', '=', orgId)
      .where('id', '=', current)
      .executeTakeFirst();
    current = row?.parent_id ?? null;
  }
  return false;
}

async function checkCategory(trx: Trx, edit: CatalogEdit): Promise<void> {
  const { orgId, docId, values } = edit;
  const parentId = values['parentId'];
  if (typeof parentId === 'string') {
    const found = await trx.selectFrom('categories').select('id').where('org_id', '=', orgId).where('id', '=', parentId).executeTakeFirst();
    if (!found) throw notFound('parent category');
    if (await isAncestorOrSelf(trx, orgId, parentId, docId)) {
      throw new ApiError(409, 'category_cycle', 'a category cannot be placed inside itself or one of its sub-categories');
    }
  }
  if (values['deleted'] === true) {
    const product = await trx.selectFrom('products').select('id').where('org_id', '=', orgId).where('category_id', '=', docId).executeTakeFirst();
    const child = await trx.selectFrom('categories').select('id').where('org_id', '=', orgId).where('parent_id', '=', docId).executeTakeFirst();
    if (product || child) {
      throw new ApiError(409, 'category_in_use', 'the category still holds products or sub-categories: move them first', {
        productId: product?.id ?? null,
        categoryId: child?.id ?? null,
      });
    }
  }
}

async function checkVariant(trx: Trx, edit: CatalogEdit): Promise<void> {
  const productId = edit.values['productId'];
  if (typeof productId === 'string') {
    const found = await trx.selectFrom('products').select('id').where('org_id', '=', edit.orgId).where('id', '=', productId).executeTakeFirst();
    if (!found) throw notFound('product');
  }
}

async function checkTaxRate(trx: Trx, edit: CatalogEdit): Promise<void> {
  if (edit.values['deleted'] !== true) return;
  // tax_rate_ids_json is a JSON array of ids: the quoted id matches exactly one element.
  const user = await trx
    .selectFrom('products')
    .select('id')
    .where('org_id', '=', edit.orgId)
    .where('tax_rate_ids_json', 'like', `%"${edit.docId}"%`)
    .executeTakeFirst();
  if (user) throw new ApiError(409, 'tax_rate_in_use', 'products still use this tax rate: change them first', { productId: user.id });
}

function barcodesOf(value: JsonValue | undefined): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

/**
 * Checks and applies one catalog edit inside a {@link catalogTransaction}; see the file comment.
 * The caller publishes on the change feed after the commit when `changed`.
 *
 * @throws ApiError 404 (an id of the values is not the organisation's), 409 (`duplicate_sku`,
 *   `duplicate_barcode`, `category_cycle`, `category_in_use`, `tax_rate_in_use`).
 */
export async function editCatalogDoc(trx: Trx, edit: CatalogEdit): Promise<BackofficeEditResult> {
  const { orgId, docType, docId, clock } = edit;
  if (docType === 'product') await checkProduct(trx, edit);
  else if (docType === 'category') await checkCategory(trx, edit);
  else if (docType === 'variant') await checkVariant(trx, edit);
  else await checkTaxRate(trx, edit);

  const result = await writeReferenceFields(trx, edit);
  if ((docType === 'category' || docType === 'tax_rate') && result.values['deleted'] === true) {
    const table = docType === 'category' ? 'categories' : 'tax_rates';
    const removed = await trx.deleteFrom(table).where('org_id', '=', orgId).where('id', '=', docId).executeTakeFirst();
    // The row is gone, so this logs a `delete`: registers drop it, the snapshot no longer has it.
    if (removed.numDeletedRows > 0n) await appendChanges(trx, orgId, await referenceChanges(trx, orgId, docType, [docId]), { clock });
  }
  return result;
}

/**
 * A back-office user's edit of one catalog doc, as every catalog `PATCH` route does it: the
 * checked edit ({@link editCatalogDoc}), a `catalog.updated` audit row when something changed, and
 * the conflicts the edit revealed, ready to answer with.
 */
export async function editCatalogDocAudited(trx: Trx, edit: CatalogEdit): Promise<{ changed: boolean; conflicts: ConflictView[] }> {
  const { orgId, userId, docType, docId, values, clock } = edit;
  const result = await editCatalogDoc(trx, edit);
  if (result.changed) {
    await audit(trx, {
      orgId,
      actorType: 'user',
      actorId: userId,
      action: 'catalog.updated',
      target: { kind: docType, id: docId },
      details: { fields: result.written, values: Object.fromEntries(result.written.map((f) => [f, values[f] ?? null])), conflicts: result.conflicts.map((c) => c.id) },
      at: clock.now(),
    });
  }
  const ids = result.conflicts.map((c) => c.id);
  const rows = ids.length === 0 ? [] : await trx.selectFrom('conflicts').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).orderBy('id').execute();
  return { changed: result.changed, conflicts: await conflictViews(trx, orgId, rows) };
}
