/**
 * Back-office edits of reference docs (products, categories, tax rates): per-field writes stamped
 * with the server's HLC and merged through the push side's `applyReferenceEdit`, exactly as a
 * register's `product.edited` is. So a back-office price edit and a register's concurrent one
 * merge field by field, and an edit made without seeing the current value is a recorded conflict.
 *
 * What "based on" means here: each written field names the HLC of the value the editor saw. The
 * back office gets those HLCs with every document (`fieldHlc`) and sends them back with an edit:
 *
 * ```
 *   GET  → price 250 @H1            (fieldHlc.price = H1)
 *   register pushes price 260 @R, based on H1          ← concurrent with the editor
 *   PATCH price 299, fieldHlc.price = H1  → write 299 @S (S = server tick > R), base H1
 *        → R > H1 = base: 299 was made without seeing 260 → conflict (loser 260, winner 299)
 * ```
 *
 * A field the request gives no HLC for is based on the current value (a sequential edit, never a
 * conflict). A given HLC later than the current value's is impossible to have seen and is taken as
 * the current one, so a client cannot hide a conflict by claiming to have seen the future.
 */
import type { Transaction } from 'kysely';
import { canonicalJson, docHlcs, docValues } from '@kassa/core';
import type { Clock, DocType, FieldWrite, JsonValue } from '@kassa/core';
import type { Database } from '../db/schema.js';
import { applyReferenceEdit, loadReferenceDoc } from '../sync/apply/reference-edit.js';
import type { ReferenceEditResult } from '../sync/apply/reference-edit.js';
import { tickServerHlc } from '../sync/apply/server-hlc.js';

/** One back-office edit of a reference doc. */
export interface BackofficeEdit {
  readonly orgId: string;
  readonly userId: string;
  readonly docType: DocType;
  readonly docId: string;
  /** The fields to set, by doc field name (`price`, `name`, …), already validated. */
  readonly values: Readonly<Record<string, JsonValue>>;
  /** The HLC of the value of each field the editor saw (the doc's `fieldHlc` when it was read). */
  readonly seen?: Readonly<Record<string, string>> | undefined;
  readonly clock: Clock;
}

/** What {@link writeReferenceFields} did: the merge's result, plus the writes it made. */
export interface BackofficeEditResult extends ReferenceEditResult {
  /** Fields written (those whose value differed from the current one). */
  readonly written: readonly string[];
}

/**
 * Writes `values` into the doc as field writes stamped with a fresh server HLC, each based on what
 * the editor saw (see the file comment), inside the caller's transaction. Fields whose value is
 * already the current one are not written. The caller publishes on the change feed after commit.
 *
 * @example
 * ```ts
 * const result = await db.transaction().execute((trx) =>
 *   writeReferenceFields(trx, { orgId, userId, docType: 'product', docId, values: { price: 299 }, seen: { price: h1 }, clock }));
 * result.conflicts; // the conflicts this edit revealed (also stored in `conflicts`)
 * ```
 */
export async function writeReferenceFields(trx: Transaction<Database>, edit: BackofficeEdit): Promise<BackofficeEditResult> {
  const { orgId, docType, docId, clock } = edit;
  const doc = await loadReferenceDoc(trx, orgId, docType, docId);
  const current = docValues(doc);
  const currentHlcs = docHlcs(doc);
  // A field the doc does not hold yet (a seeded product's, kept only in its typed row) is written
  // even when the row already has that value: the write gives it an HLC.
  const changed = Object.keys(edit.values)
    .sort()
    .filter((field) => !Object.hasOwn(current, field) || canonicalJson(current[field] ?? null) !== canonicalJson(edit.values[field] ?? null));
  if (changed.length === 0) return { changed: false, values: current, hlcs: currentHlcs, conflicts: [], written: [] };

  const hlc = await tickServerHlc(trx, orgId, clock);
  const writes: FieldWrite[] = changed.map((field) => {
    const now = Object.hasOwn(currentHlcs, field) ? currentHlcs[field] : undefined;
    const seen = edit.seen !== undefined && Object.hasOwn(edit.seen, field) ? edit.seen[field] : undefined;
    const base = seen !== undefined && (now === undefined || seen <= now) ? seen : now;
    return { field, value: edit.values[field] ?? null, hlc, base: base ?? null };
  });
  const result = await applyReferenceEdit(trx, { orgId, docType, docId, writes, source: { kind: 'user', userId: edit.userId }, clock });
  return { ...result, written: changed };
}
