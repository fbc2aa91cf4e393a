/**
 * Applies a register's reference op (`customer.upserted`, `product.edited`, `reference.edited`)
 * through the merge every writer shares (`applyReferenceEdit`). Used by a push and by a quarantine
 * retry, so both apply an op the same way.
 */
import type { Transaction } from 'kysely';
import type { Clock, ReferenceOp } from '@kassa/core';
import type { Database } from '../../db/schema.js';
import { applyReferenceEdit } from '../apply/reference-edit.js';

/** The register the op came from (the token's, or the quarantine row's). */
export interface ReferenceOpOrigin {
  readonly orgId: string;
  readonly storeId: string;
  readonly registerId: string;
}

/**
 * Merges the op's field writes into its document, inside the caller's transaction; true when the
 * document changed (and a change was logged).
 *
 * @example
 * ```ts
 * const changed = await applyReferenceOp(trx, { orgId, storeId, registerId }, op, clock);
 * ```
 */
export async function applyReferenceOp(trx: Transaction<Database>, origin: ReferenceOpOrigin, op: ReferenceOp, clock: Clock): Promise<boolean> {
  const target =
    op.type === 'customer.upserted'
      ? { docType: 'customer' as const, docId: op.payload.customerId }
      : op.type === 'product.edited'
        ? { docType: 'product' as const, docId: op.payload.productId }
        : { docType: op.payload.docType, docId: op.payload.docId };
  const result = await applyReferenceEdit(trx, {
    orgId: origin.orgId,
    ...target,
    writes: op.payload.writes,
    source: { kind: 'register', registerId: origin.registerId, storeId: origin.storeId, staffId: op.staffId, opId: op.id },
    clock,
  });
  return result.changed;
}
