/**
 * Reference edits (DESIGN §2): per-field last-writer-wins by HLC with real conflicts recorded,
 * through core's `applyWrites` on a merge doc stored per (org, docType, docId). Registers' edits
 * (`product.edited`, `customer.upserted`, `reference.edited`) and the back office's go through the
 * same {@link applyReferenceEdit}, so they merge the same way whoever wrote first.
 */
import type { Transaction } from 'kysely';
import { applyWrites, docHlcs, docValues, emptyDoc, isDeletedDoc, ReferenceDocSchema } from '@kassa/core';
import type { Clock, DocConflict, DocType, FieldWrite, JsonValue, ReferenceDoc } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import { appendChanges } from '../change-log.js';
import type { ChangeInput } from '../change-log.js';
import { REFERENCE_ENTITIES, referenceChanges } from '../pull/reference-docs.js';
import type { ReferenceEntity } from '../pull/reference-docs.js';
import { projectReferenceDoc } from './reference-projection.js';

/** Who made an edit: a register (through an op) or a back-office user. Stored with each conflict. */
export type ReferenceEditSource =
  | { readonly kind: 'register'; readonly registerId: string; readonly storeId: string; readonly staffId: string; readonly opId: string }
  | {
      readonly kind: 'user';
      readonly userId: string;
      /** The store a customer created by this edit belongs to (registers get only their store's). */
      readonly storeId?: string;
    };

/** What {@link applyReferenceEdit} is given. */
export interface ReferenceEditInput {
  readonly orgId: string;
  readonly docType: DocType;
  readonly docId: string;
  /** Field writes, valid by `FieldWriteSchema`; the back office stamps them with `tickServerHlc`. */
  readonly writes: readonly FieldWrite[];
  readonly source: ReferenceEditSource;
  /** Stamps `updated_at`, conflicts and the change log. */
  readonly clock: Clock;
}

/** What {@link applyReferenceEdit} did. */
export interface ReferenceEditResult {
  /** False when every write was already in the doc (a retried edit): nothing was written. */
  readonly changed: boolean;
  /** The doc's values and per-field HLCs after the edit. */
  readonly values: Record<string, JsonValue>;
  readonly hlcs: Record<string, string>;
  /** Conflicts this edit revealed (also stored in `conflicts`). */
  readonly conflicts: readonly DocConflict[];
}

const SNAPSHOT_ENTITIES: ReadonlySet<string> = new Set<ReferenceEntity>(REFERENCE_ENTITIES);

/**
 * The change that tells registers about an edited doc. Entities the snapshot serves (products,
 * categories, tax rates) are logged as the snapshot's own document of the projected row, so a
 * register that bootstrapped and one that followed the log hold equal documents (a doc not complete
 * enough for its row yet is a `delete`, as the snapshot does not have it either). Other doc types
 * are logged as `{id, values, fieldHlc}`: the merged values and each field's HLC, for every register
 * of the organisation — but a customer only for its own store's registers.
 */
async function referenceDocChanges(trx: Transaction<Database>, orgId: string, docType: string, docId: string, doc: ReferenceDoc): Promise<ChangeInput[]> {
  if (SNAPSHOT_ENTITIES.has(docType)) return referenceChanges(trx, orgId, docType as ReferenceEntity, [docId]);
  let storeId: string | null = null;
  if (docType === 'customer') {
    // A customer reaches only its own store's registers (DESIGN §4); one whose store is not known
    // reaches none.
    const row = await trx.selectFrom('customers').select('store_id').where('org_id', '=', orgId).where('id', '=', docId).executeTakeFirst();
    if (row?.store_id === null || row?.store_id === undefined) return [];
    storeId = row.store_id;
  }
  const data = { id: docId, values: docValues(doc), fieldHlc: docHlcs(doc) };
  return [{ entity: docType, entityId: docId, storeId, op: isDeletedDoc(doc) ? 'delete' : 'upsert', data }];
}

/** The doc of (org, docType, docId) as stored, or an empty one. */
export async function loadReferenceDoc(trx: Transaction<Database>, orgId: string, docType: string, docId: string): Promise<ReferenceDoc> {
  const row = await trx
    .selectFrom('reference_docs')
    .select('doc_json')
    .where('org_id', '=', orgId)
    .where('doc_type', '=', docType)
    .where('doc_id', '=', docId)
    .executeTakeFirst();
  return row === undefined ? emptyDoc() : ReferenceDocSchema.parse(JSON.parse(row.doc_json));
}

/**
 * Merges field writes into a reference doc, inside the caller's transaction: stores the merged doc,
 * records the conflicts it revealed (each once, by core's stable id prefixed with doc type and id),
 * projects the values onto the doc's typed table (`reference-projection.ts`) and appends the doc to
 * the change log (reference data: every register of the organisation). The caller publishes on the
 * change feed after commit.
 *
 * @example
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   const hlc = await tickServerHlc(trx, orgId, clock);
 *   await applyReferenceEdit(trx, {
 *     orgId, docType: 'product', docId, clock,
 *     writes: [{ field: 'price', value: 299, hlc, base: seenHlc }],
 *     source: { kind: 'user', userId },
 *   });
 * });
 * await changeFeed.publish(orgId);
 * ```
 */
export async function applyReferenceEdit(trx: Transaction<Database>, input: ReferenceEditInput): Promise<ReferenceEditResult> {
  const { orgId, docType, docId, source, clock } = input;
  const now = clock.now();
  const before = await loadReferenceDoc(trx, orgId, docType, docId);
  const { doc, conflicts: found } = applyWrites(before, input.writes);
  const values = docValues(doc);
  const hlcs = docHlcs(doc);
  const docJson = JSON.stringify(doc);
  if (docJson === JSON.stringify(applyWrites(before, []).doc)) return { changed: false, values, hlcs, conflicts: [] };

  await trx
    .insertInto('reference_docs')
    .values({ org_id: orgId, doc_type: docType, doc_id: docId, doc_json: docJson, updated_at: now })
    .onConflict((oc) => oc.columns(['org_id', 'doc_type', 'doc_id']).doUpdateSet({ doc_json: docJson, updated_at: now }))
    .execute();

  const conflicts: DocConflict[] = found.map((conflict) => ({ id: `${docType}:${docId}:${conflict.id}`, docType, docId, conflict }));
  if (conflicts.length > 0) {
    await trx
      .insertInto('conflicts')
      .values(
        conflicts.map((c) => ({
          org_id: orgId,
          id: c.id,
          doc_type: docType,
          doc_id: docId,
          field: c.conflict.field,
          winner_json: JSON.stringify(c.conflict.winner),
          loser_json: JSON.stringify(c.conflict.loser),
          source_json: JSON.stringify(source),
          detected_at: now,
          resolved_at: null,
          resolved_by: null,
        })),
      )
      .onConflict((oc) => oc.columns(['org_id', 'id']).doNothing())
      .execute();
  }

  await projectReferenceDoc(trx, docType, { orgId, docId, values, hlcs, now, storeId: source.storeId ?? null });
  await appendChanges(trx, orgId, await referenceDocChanges(trx, orgId, docType, docId, doc), { clock });
  return { changed: true, values, hlcs, conflicts };
}
